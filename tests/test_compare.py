"""`brainalign compare` (paired test) and `brainalign score --layers auto / --protocol` on the simulated benchmark."""

import json

import pytest
from click.testing import CliRunner

from brainalign.cli import main


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_compare_oracle_beats_pixels_and_a_model_ties_itself():
    result = _run("compare", "sim_oracle", "pixels", "--benchmark", "sim.V1", "--layers-a", "V1",
                  "--layers-b", "pixels", "--bootstrap", "300", "--json", "-q")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    a, b = out["models"]["A"], out["models"]["B"]
    assert out["difference"]["difference"] == pytest.approx(a["raw"] - b["raw"])
    assert out["difference"]["ci"][0] > 0 and out["difference"]["p_value"] < 0.01
    assert out["stimuli"] == "held-out" and out["n_stimuli"] == 132
    assert a["raw_ci"][0] < a["raw"] < a["raw_ci"][1]

    same = json.loads(_run("compare", "pixels", "pixels", "--benchmark", "sim.V1", "--bootstrap", "100",
                           "--json", "-q").output)
    assert same["difference"]["difference"] == 0 and same["difference"]["p_value"] == 1.0


def test_compare_brainscore_needs_one_layer_per_model():
    result = _run("compare", "sim_oracle", "pixels", "--benchmark", "sim.V1", "--protocol", "brainscore", "-q")
    assert result.exit_code == 2 and "one layer per model" in result.output


def test_score_layers_auto_stores_the_region_layer_map(tmp_path):
    result = _run("score", "sim_oracle", "--benchmark", "sim.V2", "--layers", "auto", "--bootstrap", "50",
                  "--ceiling-convention", "r/c",
                  "--results", str(tmp_path), "--json", "-q")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert len(records) == 8  # every declared layer is scored ...
    [committed] = [r for r in records if r["layer_selection"]["auto"]["committed"]]
    assert committed["layer_selection"]["auto"]["region_layer_map"] == {"V2": "V2"}  # ... the oracle's own area wins
    best = max(records, key=lambda r: r["layer_selection"]["selection_raw"])
    assert best["layer"] == "V2"
    assert committed["metric"]["protocol"] == "brainalign" and committed["score"]["ci"]["n_boot"] == 50
    assert committed["score"]["convention"] == "r/c"
    refused = _run("score", "pixels", "--benchmark", "sim.V1", "--layers", "auto", "--protocol", "brainscore",
                   "--results", str(tmp_path), "-q")
    assert refused.exit_code == 2 and "selection/held-out" in refused.output


def test_compare_on_an_rsa_benchmark_resamples_stimuli():
    out = json.loads(_run("compare", "sim_oracle", "pixels", "--benchmark", "sim-rsa.VISp", "--layers-a", "VISp",
                          "--layers-b", "pixels", "--bootstrap", "200", "--json", "-q").output)
    assert out["protocol"] == "rsa" and out["convention"] == "r/c" and list(out["difference"]["over"]) == ["stimuli"]
    assert out["difference"]["ci"][0] > 0 and out["difference"]["p_value"] < 0.01
    assert out["models"]["A"]["ceiled"] == pytest.approx(out["models"]["A"]["raw"] / out["ceiling"])
    refused = _run("compare", "sim_oracle", "pixels", "--benchmark", "sim-rsa.VISp", "--protocol", "brainscore", "-q")
    assert refused.exit_code == 2 and "compares RDMs with its own protocol" in refused.output
    texture = _run("compare", "sim_oracle", "pixels", "--benchmark", "sim-texture.V2", "-q")
    assert texture.exit_code == 2 and "scored differently" in texture.output
