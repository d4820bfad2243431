"""Results store and leaderboard: newest record wins, corrupt files are skipped, layer commitment."""

import json

import pandas as pd
import pytest

from brainalign.reports import ResultsStore, layer_table, leaderboard, summary
from brainalign.reports.store import new_record


def _record(layer, selection, heldout, *, spec="m", bench="sim.V1", raw=0.5):
    return new_record(
        model={"spec": spec, "weights_sha256": "ab" * 32, "seed": 0, "checkpoint": None},
        benchmark={"identifier": bench, "version": "1", "region": bench.split(".")[1], "species": "macaque"},
        layer=layer, metric={"name": "pls_predictivity", "protocol": "brainscore"},
        score={"raw": raw, "error": 0.01, "ceiling": 0.8, "ceiled": raw**2 / 0.8, "convention": "r2/c",
               "n_stimuli": 100, "n_neuroids": 10, "n_units": 50},
        layer_selection={"selection_raw": selection, "heldout_raw": 0.4, "heldout_ceiling": 0.8,
                         "heldout_ceiled": heldout})


def test_newest_record_of_a_key_wins_and_both_are_kept(tmp_path):
    store = ResultsStore(tmp_path)
    old = _record("l1", 0.5, 0.1)
    new = _record("l1", 0.5, 0.2)
    new["created"] = "9999" + new["created"][4:]
    store.write(new)
    store.write(old)
    assert len(store.read_all()) == 2
    [latest] = store.latest()
    assert latest["layer_selection"]["heldout_ceiled"] == 0.2


def test_corrupt_and_foreign_json_are_skipped_with_a_warning(tmp_path):
    store = ResultsStore(tmp_path)
    store.write(_record("l1", 0.5, 0.1))
    (store.records_dir / "broken.json").write_text("{ not json")
    (store.records_dir / "foreign.json").write_text(json.dumps({"hello": 1}))
    with pytest.warns(UserWarning) as caught:
        records = store.read_all()
    assert len(records) == 1
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert "broken.json" in messages[1] and "foreign.json" in messages[0]


def test_leaderboard_commits_on_selection_and_reports_heldout():
    records = [_record("l1", 0.6, 0.30), _record("l2", 0.7, 0.25), _record("l3", 0.5, 0.90),
               _record("l1", 0.2, 0.10, spec="other")]
    board = leaderboard(layer_table(records))
    best = board.set_index("model").loc["m (seed 0)"]
    assert best["layer"] == "l2"            # best on the selection half ...
    assert best["score"] == pytest.approx(0.25)  # ... scored on the held-out half, not l3's 0.90
    assert best["n_layers"] == 3
    wide = summary(board)
    assert list(wide.index) == ["m (seed 0)", "other (seed 0)"]
    assert isinstance(wide, pd.DataFrame) and wide.loc["other (seed 0)", "mean"] == pytest.approx(0.10)
