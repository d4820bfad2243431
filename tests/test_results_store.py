"""The results store: keys, explicit supersession, concurrent writers, corrupt files, prune, the CLI."""

import json
import multiprocessing

import pytest
from click.testing import CliRunner
from test_reports_data import neural_record

from brainalign.cli import main
from brainalign.records import new_record, record_key
from brainalign.reports.store import ResultsStore


def test_key_separates_what_was_measured_and_ignores_when():
    a = neural_record("pixels", "sim.V1", 0)
    again = neural_record("pixels", "sim.V1", 0)
    assert a["key"] == again["key"] and a["id"] != again["id"]
    variants = [neural_record("pixels", "sim.V2", 0), neural_record("pixels", "sim.V1", 1),
                neural_record("supervised", "sim.V1", 0)]
    for variant in variants:
        assert variant["key"] != a["key"]
    for path, value in [(("model", "seed"), 1), (("benchmark", "version"), "2"), (("metric", "protocol"), "other"),
                        (("model", "weights_sha256"), "0" * 64), (("metric", "name"), "rsa"),
                        (("model", "extraction"), {"precision": "fp16"})]:
        changed = json.loads(json.dumps(a))
        changed[path[0]][path[1]] = value
        assert record_key(changed) != a["key"], path


def test_rerun_supersedes_explicitly_and_keeps_both(tmp_path):
    store = ResultsStore(tmp_path)
    first = neural_record("pixels", "sim.V1", 0)
    second = neural_record("pixels", "sim.V1", 0, heldout_shift=0.1)
    store.write(first)
    store.write(second)
    scan = store.scan()
    assert len(scan.records) == 2 and not scan.skipped
    [current] = scan.current
    assert current["id"] == second["id"] and current["supersedes"] == first["id"]
    old = next(r for r in scan.records if r["id"] == first["id"])
    assert old["_status"] == "superseded" and old["_superseded_by"] == second["id"]
    assert "supersedes" not in old


def test_an_older_record_written_late_does_not_win(tmp_path):
    store = ResultsStore(tmp_path)
    old, new = neural_record("pixels", "sim.V1", 0), neural_record("pixels", "sim.V1", 0, heldout_shift=0.1)
    new["created"] = "9999" + new["created"][4:]
    store.write(new)
    store.write(old)
    [latest] = store.latest()
    assert latest["id"] == new["id"]
    assert "supersedes" not in json.loads(next(p for p in store.records_dir.glob("*.json")
                                               if old["id"][:12] in p.name).read_text())


def _writer(root, worker, n, barrier):
    barrier.wait()
    store = ResultsStore(root)
    for i in range(n):
        # half the records share keys across workers (same model/benchmark/layer), half are unique
        record = neural_record("pixels", "sim.V1", i % 4) if i % 2 else neural_record(
            "supervised", ["sim.V1", "sim.V2", "sim.VISp", "sim.VISl"][i % 4], worker % 4)
        record["worker"], record["index"] = worker, i
        store.write(record)


def test_concurrent_writers_lose_no_record(tmp_path):
    workers, n = 6, 40
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    processes = [context.Process(target=_writer, args=(tmp_path, w, n, barrier)) for w in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    scan = ResultsStore(tmp_path).scan()
    assert not scan.skipped
    assert sorted((r["worker"], r["index"]) for r in scan.records) == [(w, i) for w in range(workers) for i in range(n)]
    assert len({r["key"] for r in scan.records}) == len(scan.current)
    assert not list(tmp_path.glob("records/.*.tmp"))     # no temporary file left behind


def test_corrupt_foreign_and_truncated_files_are_reported_and_skipped(tmp_path):
    store = ResultsStore(tmp_path)
    good = store.write(neural_record("pixels", "sim.V1", 0))
    (store.records_dir / "broken.json").write_text("{ not json")
    (store.records_dir / "foreign.json").write_text(json.dumps({"hello": 1}))
    (store.records_dir / "truncated.json").write_text(good.read_text()[:200])
    (store.records_dir / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (store.records_dir / "partial.json").write_text(json.dumps({"schema": "brainalign.score/1", "key": "x"}))
    with pytest.warns(UserWarning) as caught:
        records = store.read_all()
    assert [r["id"] for r in records] == [json.loads(good.read_text())["id"]]
    named = sorted(str(w.message).split()[1].rstrip(":") for w in caught)
    assert named == ["binary.json", "broken.json", "foreign.json", "partial.json", "truncated.json"]


def test_prune_keeps_the_newest_of_each_key(tmp_path):
    store = ResultsStore(tmp_path)
    records = [neural_record("pixels", "sim.V1", 0, heldout_shift=s) for s in (0.0, 0.1, 0.2)]
    records.append(neural_record("pixels", "sim.V2", 0))
    for record in records:
        store.write(record)
    assert len(store.prune(keep=1, dry_run=True)) == 2 and len(store.scan().records) == 4
    assert len(store.prune(keep=2)) == 1
    assert len(store.prune(keep=1)) == 1
    assert sorted(r["id"] for r in store.scan().records) == sorted([records[2]["id"], records[3]["id"]])


def test_new_record_is_backward_compatible_and_extends_by_kind():
    old_style = new_record(model={"spec": "m", "weights_sha256": "a" * 64, "seed": 0}, benchmark={
        "identifier": "b", "version": "1"}, layer="l", metric={"name": "pls_predictivity", "protocol": "p"},
        score={"raw": 0.1}, layer_selection={})
    assert old_style["kind"] == "neural" and old_style["schema"] == "brainalign.score/1"
    curve = new_record(model=old_style["model"], benchmark=old_style["benchmark"], layer="l", kind="psychometric",
                       metric={"name": "pls_predictivity", "protocol": "p"}, score={}, curve={"levels": [1]})
    assert curve["curve"] == {"levels": [1]} and curve["key"] != old_style["key"]


def test_results_cli_list_show_prune(tmp_path):
    store = ResultsStore(tmp_path)
    first, second = neural_record("pixels", "sim.V1", 0), neural_record("pixels", "sim.V1", 0, heldout_shift=0.1)
    store.write(first)
    store.write(second)
    (store.records_dir / "broken.json").write_text("{")
    runner = CliRunner()
    listed = runner.invoke(main, ["results", "list", "--results", str(tmp_path), "--json"])
    assert listed.exit_code == 0
    assert [r["id"] for r in json.loads(listed.stdout)] == [second["id"]]
    assert "skipping broken.json" in listed.stderr
    every = json.loads(runner.invoke(main, ["results", "list", "--results", str(tmp_path), "--all", "--json"]).stdout)
    assert [r["status"] for r in every] == ["superseded", "current"]
    shown = runner.invoke(main, ["results", "show", first["id"][:10], "--results", str(tmp_path)])
    payload = json.loads(shown.stdout)
    assert payload["status"] == "superseded" and [h["id"] for h in payload["history"]] == [first["id"], second["id"]]
    missing = runner.invoke(main, ["results", "show", "zzzz", "--results", str(tmp_path)])
    assert missing.exit_code == 2 and missing.stderr.splitlines()[-1].startswith("error: no record 'zzzz'")
    pruned = runner.invoke(main, ["results", "prune", "--results", str(tmp_path), "--json"])
    assert json.loads(pruned.stdout)["deleted"] and len(store.scan().records) == 1
    assert (store.records_dir / "broken.json").exists()      # prune never touches what it cannot read
