"""Run plans: expansion (checkpoint globs, layer groups, dedup), validation, resume after a crash."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml
from click.testing import CliRunner

from brainalign.cli import main
from brainalign.errors import FileFormatError, InputError
from brainalign.models import load_model
from brainalign.parallel import InProcessExecutor
from brainalign.plans import expand_plan, load_plan, pending_tasks, run_plan
from brainalign.reports.store import ResultsStore
from brainalign.safe_files import sha256_file


def _write(path, plan: dict):
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def test_checkpoint_glob_layer_groups_and_dedup(tmp_path):
    for epoch, seed in ((2, 3), (10, 4)):
        torch.save(load_model("alexnet_bn64", seed=seed).module.state_dict(), tmp_path / f"epoch_{epoch}.pth")
    plan = load_plan(_write(tmp_path / "plan.yaml", {
        "results": "out",
        "models": [{"spec": "alexnet_bn64", "checkpoints": "epoch_*.pth", "objective": "simclr",
                    "layers": ["features.3", "features.7", "features.10"]},
                   {"spec": "pixels", "seed": 1}, "pixels", {"spec": "pixels", "seed": 0}],  # a repeat adds nothing
        "benchmarks": ["sim.V1", "sim.V?"], "layers_per_task": 2}))
    assert plan.results == (tmp_path / "out").resolve()
    alex = [t for t in plan.tasks if t.spec == "alexnet_bn64"]
    # 2 distinct checkpoints x 2 benchmarks (sim.V1 named twice) x 2 layer groups (2 + 1 layers)
    assert len(alex) == 8
    assert sorted({t.layers for t in alex}) == [("features.10",), ("features.3", "features.7")]
    assert {t.checkpoint for t in alex} == {str((tmp_path / f"epoch_{e}.pth").resolve()) for e in (2, 10)}
    assert {t.identities[0][1] for t in alex} == {sha256_file(tmp_path / f"epoch_{e}.pth") for e in (2, 10)}
    assert {t.identities[0][2] for t in alex} == {"None"}  # a checkpoint's record has no seed
    assert all(t.metadata == {"objective": "simclr"} for t in alex)
    pixels = [t for t in plan.tasks if t.spec == "pixels"]
    assert sorted((t.seed, t.benchmark) for t in pixels) == [(0, "sim.V1"), (0, "sim.V2"), (1, "sim.V1"), (1, "sim.V2")]
    assert len({t.id for t in plan.tasks}) == len(plan.tasks)
    assert {t.scoring for t in plan.tasks} == {"brainalign/pls"}   # the defaults


def test_protocols_and_metrics_multiply_tasks():
    plan = expand_plan({"models": ["pixels"], "benchmarks": ["sim.V1", "sim-rsa.VISp"],
                        "protocols": ["brainalign", "brainscore"], "metrics": ["pls_predictivity", "ridge_predictivity"]})
    assert sorted((t.benchmark, t.scoring) for t in plan.tasks) == [
        ("sim-rsa.VISp", "own"),   # a self-scoring benchmark runs once
        ("sim.V1", "brainalign/pls"), ("sim.V1", "brainalign/ridge"),
        ("sim.V1", "brainscore/pls"), ("sim.V1", "brainscore/ridge")]


@pytest.mark.parametrize("plan, message", [
    ({"models": [{"spec": "pixels"}], "benchmark": ["sim.V1"]}, "unknown plan key 'benchmark'"),
    ({"models": [], "benchmarks": ["sim.V1"]}, "lists no models"),
    ({"models": [{"spec": "pixels"}]}, "names no benchmarks"),
    ({"models": [{"spec": "pixels", "checkpoints": "nothing_*.pt"}], "benchmarks": ["sim.V1"]}, "no checkpoint matches"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "metrics": ["cka"]}, "unknown metric 'cka'"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "layers_per_task": 0}, "layers_per_task"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "protocols": ["other"]}, "unknown protocol 'other'"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "reduce": "pca:10"}, "pca:N needs `reduce_fit`"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "reduce": "srp:10", "reduce_fit": "x"}, "only pca:N takes"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "reduce_fit": "x"}, "only pca:N takes"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "reduce": "umap:2"}, "unknown reduction"),
    ({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1"], "backend": "jax"}, "unknown backend 'jax'"),
])
def test_bad_plans_fail_with_one_line(tmp_path, plan, message):
    with pytest.raises(InputError, match=message):
        expand_plan(plan, base=tmp_path)
    result = CliRunner().invoke(main, ["run", str(_write(tmp_path / "plan.yaml", plan)), "--dry-run"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and message.split("'")[0] in result.output


def test_missing_and_malformed_plan_files(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        load_plan(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("models: [unclosed\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="not valid YAML"):
        load_plan(tmp_path / "bad.yaml")


def _keys(results) -> collections.Counter:
    return collections.Counter(r["key"] for r in ResultsStore(results).read_all())


PLAN = {"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1", "sim.V2"], "layers_per_task": 1}


def test_killed_run_resumes_without_duplicates(tmp_path):
    """Kill `brainalign run` (SIGKILL) after its first record, run again: every record once."""
    plan_file = _write(tmp_path / "plan.yaml", {**PLAN, "results": "out"})
    process = subprocess.Popen([sys.executable, "-c", "from brainalign.cli import main; main()", "run",
                                str(plan_file), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    records = tmp_path / "out" / "records"
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not list(records.glob("*.json")):
        time.sleep(0.05)
    assert process.poll() is None, "the run finished (or failed) before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = sum(_keys(tmp_path / "out").values())
    assert before >= 1
    plan = load_plan(plan_file)
    summary = run_plan(plan, InProcessExecutor(), progress=False)
    keys = _keys(tmp_path / "out")
    assert len(keys) == 2 and set(keys.values()) == {1}
    assert summary["written"] == 2 - before and summary["already_done"] == before
    assert pending_tasks(plan) == []


def test_partly_done_task_scores_only_missing_layers(tmp_path):
    """A task whose first layer was written before a crash writes only its second layer."""
    from brainalign import api

    plan = expand_plan({"models": [{"spec": "alexnet_bn64", "layers": ["features.3", "classifier.3"]}],
                        "benchmarks": ["sim.V1"], "layers_per_task": 2}, results=tmp_path)
    first = api.score("alexnet_bn64", benchmarks=["sim.V1"], layers="features.3", results=tmp_path, progress=False)
    assert len(plan.tasks) == 1 and pending_tasks(plan) == plan.tasks
    summary = run_plan(plan, InProcessExecutor(), progress=False)
    keys = _keys(tmp_path)
    assert summary["written"] == 1 and len(keys) == 2 and set(keys.values()) == {1}
    assert first[0]["key"] in keys
    assert run_plan(plan, InProcessExecutor(), progress=False)["ran"] == 0


def test_reduced_and_plain_records_never_count_for_each_other(tmp_path):
    """A layer scored with a reduction is not 'done' for a plain plan, nor for another reduction."""
    import numpy as np
    from PIL import Image

    base = {"models": [{"spec": "alexnet_bn64", "layers": ["features.3"]}], "benchmarks": ["sim.V1"]}
    plain = expand_plan(base, results=tmp_path / "out")
    srp = expand_plan({**base, "reduce": "srp:64", "reduce_seed": 2}, results=tmp_path / "out")
    assert run_plan(srp, InProcessExecutor(), progress=False)["written"] == 1
    record, = ResultsStore(tmp_path / "out").read_all()
    assert record["model"]["extraction"]["reduction"]["spec"] == "srp:64"
    assert record["score"]["details"]["reduction"]["n_components"] == 64
    assert pending_tasks(srp) == [] and pending_tasks(plain) == plain.tasks
    assert pending_tasks(expand_plan({**base, "reduce": "srp:64", "reduce_seed": 3}, results=tmp_path / "out"))
    (tmp_path / "fit").mkdir()
    rng = np.random.default_rng(0)
    for i in range(30):
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(tmp_path / "fit" / f"f{i}.png")
    pca = load_plan(_write(tmp_path / "plan.yaml", {**base, "results": "out", "reduce": "pca:26", "reduce_fit": "fit"}))
    assert pca.tasks[0].options["reduce_fit"] == str((tmp_path / "fit").resolve())
    assert run_plan(pca, InProcessExecutor(), progress=False)["written"] == 1
    assert pending_tasks(pca) == [] and pending_tasks(plain) == plain.tasks


def test_torch_backend_runs_the_pls_and_ridge_tasks(tmp_path):
    plan = expand_plan({"models": [{"spec": "alexnet_bn64", "layers": ["features.3"]}], "benchmarks": ["sim.V1"],
                        "metrics": ["pls_predictivity", "ridge_predictivity"], "backend": "torch"},
                       results=tmp_path)
    assert run_plan(plan, InProcessExecutor(), progress=False)["written"] == 2
    by_regression = {r["metric"]["regression"]: r["metric"] for r in ResultsStore(tmp_path).read_all()}
    assert by_regression["ridge"]["options"]["backend"] == "torch"
    assert by_regression["pls"]["options"]["backend"] == "torch"
