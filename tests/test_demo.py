"""The demo end to end: the positive control wins every simulated area, the pixel baseline does not."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from brainalign.cli import main

AREAS = ["V1", "V2", "VISp", "VISl", "VISal", "VISrl", "VISam", "VISpm"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--quiet", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, pd.DataFrame(json.loads(result.output))


def test_positive_control_ranks_first_in_every_area_near_one(demo_run):
    _, board = demo_run
    assert sorted(board["benchmark"].unique()) == sorted(f"sim.{a}" for a in AREAS)
    for benchmark, rows in board.groupby("benchmark"):
        ranked = rows.sort_values("score", ascending=False)
        assert ranked.iloc[0]["model"] == "sim_oracle (seed 0)", (benchmark, ranked[["model", "score"]])
        oracle = ranked.iloc[0]
        assert oracle["layer"] == benchmark.split(".")[1]       # committed to its own area's layer
        assert oracle["score"] > 0.85, (benchmark, oracle["score"])
        pixels = rows.set_index("model").loc["pixels (seed 0)", "score"]
        assert pixels < oracle["score"] - 0.1


def test_demo_writes_leaderboard_and_layer_tables(demo_run):
    out, board = demo_run
    csv = pd.read_csv(out / "leaderboard.csv")
    assert len(csv) == len(board) == 4 * len(AREAS)
    layers = pd.read_csv(out / "layers.csv")
    assert set(layers["convention"]) == {"r2/c"}
    assert (layers["ceiling"] < 1).all() and (layers["ceiling"] > 0.3).all()
    records = list((out / "results" / "records").glob("*.json"))
    assert len(records) == len(layers)
