"""Executors: a plan on a Dask LocalCluster (2 workers) writes exactly the in-process records,
also when a worker is killed in the middle of a task."""

from __future__ import annotations

import collections
import os
import signal
import threading
import time

import pytest

from brainalign.errors import InputError
from brainalign.parallel import InProcessExecutor, ProcessExecutor, make_executor
from brainalign.plans import expand_plan, run_plan
from brainalign.reports.store import ResultsStore

PLAN = {"models": [{"spec": "pixels"}, {"spec": "alexnet_bn64", "layers": ["classifier.3"]}],
        "benchmarks": ["sim.V1"], "layers_per_task": 1}


def _records(results) -> dict:
    """{record key: score dict}; fails on a duplicated key."""
    records = ResultsStore(results).read_all()
    counts = collections.Counter(r["key"] for r in records)
    assert max(counts.values()) == 1, f"duplicated records: {counts.most_common(2)}"
    return {r["key"]: r["score"] for r in records}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The plan run in-process: {key: score}."""
    results = tmp_path_factory.mktemp("inprocess")
    summary = run_plan(expand_plan(PLAN, results=results), InProcessExecutor(), progress=False)
    assert summary["written"] == 2 and not summary["failed"]
    return _records(results)


@pytest.fixture(scope="module")
def cluster(reference):
    pytest.importorskip("distributed")
    with make_executor("local:2") as executor:
        yield executor


def test_local_cluster_matches_in_process(cluster, reference, tmp_path):
    summary = run_plan(expand_plan(PLAN, results=tmp_path), cluster, progress=False)
    assert summary["ran"] == 2 and summary["written"] == 2
    assert _records(tmp_path) == reference


def test_killed_worker_loses_nothing_and_duplicates_nothing(cluster, reference, tmp_path):
    client = cluster.client
    pids = client.run(os.getpid)
    plan = expand_plan(PLAN, results=tmp_path)
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(run_plan(plan, cluster, progress=False)))
    runner.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and runner.is_alive():
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        if busy:
            killed = pids[busy[0]]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    runner.join(timeout=120)
    assert killed is not None, "no worker was ever busy"
    assert not runner.is_alive() and not outcome["failed"]
    assert _records(tmp_path) == reference
    # and a re-run finds nothing left to do
    assert run_plan(expand_plan(PLAN, results=tmp_path), cluster, progress=False)["ran"] == 0


def test_make_executor_parses_schedulers():
    assert isinstance(make_executor(None), InProcessExecutor)
    with make_executor("processes:1") as executor:
        assert isinstance(executor, ProcessExecutor) and list(executor.map_unordered(abs, [-2, 3])) in ([2, 3], [3, 2])
    for bad in ("local:0", "mpi", "local:x"):
        with pytest.raises(InputError):
            make_executor(bad)
