"""One shape for every benchmark: the interface, the README's worked example, and the stored record layout."""

from __future__ import annotations

import json
import re
import shutil
import sys
import types
from pathlib import Path

import pytest
from scipy.stats import pearsonr

import brainalign
from brainalign.activations.gather import FeatureNeeds
from brainalign.benchmarks import registry
from brainalign.benchmarks.base import OWN_SCORING, Benchmark
from brainalign.benchmarks.commitment import commit_layers
from brainalign.errors import InputError
from brainalign.plans import record_identity
from brainalign.records import SCHEMA, ScoreRecord, record_key, stamp
from brainalign.reports.leaderboard import layer_table
from brainalign.reports.store import ResultsStore

ROOT = Path(__file__).resolve().parents[1]
STORED_V1 = Path(__file__).parent / "data" / "score_record_v1.json"


def _readme_example(monkeypatch) -> types.ModuleType:
    """The README's "Adding a benchmark" code block, imported as the module ``mylab_brainalign.gain``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(# mylab_brainalign/gain\.py.*?)```", text, flags=re.S)
    module = types.ModuleType("mylab_brainalign.gain")
    monkeypatch.setitem(sys.modules, module.__name__, module)   # dataclasses look their module up
    exec(compile(code, "README.md:gain.py", "exec"), module.__dict__)  # noqa: S102  (our own README)
    return module


@pytest.fixture
def gain(monkeypatch):
    """The README's benchmark, registered for this test only."""
    registry._ensure_registered()
    monkeypatch.setattr(registry, "_BENCHMARKS", dict(registry._BENCHMARKS))
    module = _readme_example(monkeypatch)
    module.register()
    return module


def test_the_readme_benchmark_is_one_file_scored_through_the_api(gain, tmp_path):
    """brainalign.score gives each layer of pixels the Pearson r of its mean activation with V1's mean response."""
    records = brainalign.score("pixels", benchmarks=["mylab.gain.V1"], results=tmp_path, progress=False)
    activations = brainalign.extract("pixels", stimuli="sim", progress=False)
    ids, response = gain.make_gain_v1().load_responses()
    assert [r["layer"] for r in records] == list(activations)
    for record in records:
        array = activations[record["layer"]]
        order = {s: i for i, s in enumerate(array["stimulus_id"].values)}
        expected = pearsonr(array.values[[order[s] for s in ids]].mean(axis=1), response).statistic
        assert record["score"]["raw"] == pytest.approx(expected, abs=1e-9)
        assert record["benchmark"] == {"identifier": "mylab.gain.V1", "version": "1", "region": "V1",
                                       "species": "macaque", "dataset": record["benchmark"]["dataset"],
                                       "ranked": False}
        assert record["schema"] == SCHEMA and record["key"] == record_key(record)
    assert len(ResultsStore(tmp_path).scan().current) == len(records)


def test_every_family_implements_the_interface():
    kinds = {}
    for identifier in ("sim.V1", "sim-rsa.VISp", "sim-texture.V2"):
        benchmark = registry.load_benchmark(identifier)
        assert isinstance(benchmark, Benchmark)
        kinds[identifier] = (benchmark.needs().streamed, benchmark.scorings(["brainalign", "nayebi2023"], ["pls"]))
    assert kinds == {"sim.V1": ("kernel", ["brainalign/pls", "nayebi2023/pls"]),
                     "sim-rsa.VISp": ("rdm:correlation", [OWN_SCORING]),
                     "sim-texture.V2": ("units", [OWN_SCORING])}
    texture = registry.load_benchmark("sim-texture.V2")
    sample = texture.needs().unit_sample
    assert sample(100) is None and len(sample(10 ** 6)) == texture.protocol.max_units


def test_feature_needs_refuse_what_no_extraction_path_gives():
    with pytest.raises(ValueError, match="unknown streamed"):
        FeatureNeeds(streamed="pca")
    with pytest.raises(ValueError, match="unit_sample"):
        FeatureNeeds(streamed="units")


def test_a_benchmark_that_does_not_compare_says_so_before_any_model_runs():
    with pytest.raises(InputError, match="scored differently"):
        brainalign.api.compare("no-such-model", "pixels", benchmark="sim-texture.V2")


def test_a_factory_returning_no_benchmark_is_named(monkeypatch):
    registry._ensure_registered()
    monkeypatch.setattr(registry, "_BENCHMARKS", dict(registry._BENCHMARKS))
    registry.register_benchmark("broken.V1", lambda: {"identifier": "broken.V1"}, region="V1", species="macaque")
    with pytest.raises(TypeError, match="broken.V1.*returned a dict"):
        registry.load_benchmark("broken.V1")


def _record(region: str, layer: str, selection: float) -> ScoreRecord:
    return ScoreRecord(benchmark={"identifier": f"b.{region}", "region": region}, layer=layer, metric={}, score={},
                       layer_selection={"mode": "selection/held-out", "selection_raw": selection})


def test_commit_layers_commits_each_region_to_its_best_mean_selection_score():
    records = [_record("V1", "a", 0.2), _record("V1", "b", 0.5), _record("V1", "a", 0.9), _record("V1", "b", 0.5),
               _record("V2", "a", 0.1), _record("V2", "b", 0.3)]
    committed = commit_layers(records)
    assert [r.layer_selection["auto"]["committed"] for r in committed] == [True, False, True, False, False, True]
    assert committed[0].layer_selection["auto"]["region_layer_map"] == {"V1": "a", "V2": "b"}
    assert "auto" not in records[0].layer_selection   # the records given are left as they were
    with pytest.raises(InputError, match="selection/held-out"):
        commit_layers([_record("V1", "a", float("nan"))])


def test_a_stored_v1_record_reads_and_restamps_to_the_same_key(tmp_path):
    """A record written by brainalign before ScoreRecord existed: the store, the key, plans and reports read it."""
    stored = json.loads(STORED_V1.read_text())
    assert stored["schema"] == "brainalign.score/1"
    (tmp_path / "records").mkdir()
    shutil.copy(STORED_V1, tmp_path / "records" / STORED_V1.name)
    scan = ResultsStore(tmp_path).scan()
    assert not scan.skipped and [r["id"] for r in scan.current] == [stored["id"]]
    assert record_key(stored) == stored["key"]
    assert record_identity(stored)[3:6] == ("sim.V1", "1", "brainalign/pls")
    row = layer_table(scan.current).iloc[0]
    assert row["raw"] == stored["score"]["raw"] and row["heldout_ceiled"] == stored["layer_selection"]["heldout_ceiled"]
    # the same parts stamped today give the same fields and the same key
    again = stamp(ScoreRecord(benchmark=stored["benchmark"], layer=stored["layer"], metric=stored["metric"],
                              score=stored["score"], layer_selection=stored["layer_selection"]), model=stored["model"])
    assert set(again) == set(stored) and again["key"] == stored["key"]
    assert {k: again[k] for k in ("schema", "kind", "model", "benchmark", "metric", "score", "layer_selection")} == \
        {k: stored[k] for k in ("schema", "kind", "model", "benchmark", "metric", "score", "layer_selection")}
