"""CLI contract: exit codes, one-line errors, no partial output, --json."""

import json

import numpy as np
import pytest
import xarray as xr
from cli_helpers import error_line as _error_line
from cli_helpers import run

from brainalign import __version__


def test_version_and_help():
    assert run("--version").output.strip().endswith(__version__)
    helped = run("score", "--help")
    assert helped.exit_code == 0 and "Examples:" in helped.output and "--convention" in helped.output


def test_unknown_layer_exits_2_without_output(image_folder, tmp_path):
    out = tmp_path / "acts.nc"
    result = run("extract", "alexnet_bn64", "--stimuli", image_folder, "--layers", "features.99", "-o", out, "-q")
    assert result.exit_code == 2
    assert "unknown layer 'features.99'" in _error_line(result)
    assert not out.exists()


def test_unreadable_image_exits_2_and_leaves_no_file(image_folder, tmp_path):
    (image_folder / "b" / "zz_broken.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    out = tmp_path / "acts.nc"
    result = run("extract", "pixels", "--stimuli", image_folder, "-o", out, "-q")
    assert result.exit_code == 2
    assert "zz_broken.jpg" in _error_line(result)
    assert list(tmp_path.iterdir()) == [image_folder.parent / "images"] or not out.exists()
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))


def _write_raw(path, assembly):
    assembly.to_netcdf(path, engine="h5netcdf")
    return path


def _assembly(ids, n_rep=4, n_neuroid=5, seed=0):
    rng = np.random.default_rng(seed)
    stim = np.repeat(ids, n_rep)
    return xr.DataArray(rng.normal(size=(len(stim), n_neuroid)), dims=("presentation", "neuroid"),
                        coords={"stimulus_id": ("presentation", stim),
                                "repetition": ("presentation", np.tile(np.arange(n_rep), len(ids))),
                                "neuroid_id": ("neuroid", [f"n{i}" for i in range(n_neuroid)])}, name="r")


@pytest.fixture
def activations_file(image_folder, tmp_path):
    out = tmp_path / "acts.nc"
    assert run("extract", "pixels", "--stimuli", image_folder, "-o", out, "-q").exit_code == 0
    return out


def test_assembly_without_stimulus_id_exits_2(activations_file, tmp_path):
    path = _write_raw(tmp_path / "n.nc", _assembly(["a/img0", "a/img1"]).drop_vars("stimulus_id"))
    results = tmp_path / "results"
    result = run("score", "--activations", activations_file, "--assembly", path, "--results", results)
    assert result.exit_code == 2
    assert "no 'stimulus_id' coordinate" in _error_line(result)
    assert not results.exists()


def test_mismatched_stimulus_ids_exit_2(activations_file, tmp_path):
    path = _write_raw(tmp_path / "n.nc", _assembly([f"other{i}" for i in range(6)]))
    results = tmp_path / "results"
    result = run("score", "--activations", activations_file, "--assembly", path, "--results", results)
    assert result.exit_code == 2
    assert "lack 6 of the benchmark's 6 stimulus ids" in _error_line(result)
    assert not results.exists()


def test_existing_output_is_not_overwritten(image_folder, activations_file):
    before = activations_file.read_bytes()
    result = run("extract", "pixels", "--stimuli", image_folder, "-o", activations_file, "-q")
    assert result.exit_code == 2 and "--overwrite" in _error_line(result)
    assert activations_file.read_bytes() == before


def test_models_and_benchmarks_listing_json():
    listed = json.loads(run("benchmarks", "list", "--json").output)
    assert {b["identifier"] for b in listed} >= {"sim.V1", "sim.V2", "sim.VISp", "sim.VISpm"}
    layers = json.loads(run("models", "layers", "alexnet_bn64", "--json").output)
    assert layers["features.3"] == [64, 7, 7]
    assert "alexnet_bn64" in run("models", "list").output.split()


def test_score_requires_a_target():
    result = run("score", "pixels")
    assert result.exit_code == 2 and "nothing to score" in _error_line(result)


def test_unknown_benchmark_fails_before_any_model_work():
    result = run("score", "no_such_model", "--benchmark", "no.such.benchmark")   # the benchmark is checked first
    line = _error_line(result)
    assert "unknown benchmark 'no.such.benchmark'" in line and "sim.V1" in line


def test_clashing_protocol_options_are_one_line():
    assert "PLS only" in _error_line(run("score", "pixels", "--benchmark", "sim.V1", "--protocol", "nayebi2023",
                                         "--metric", "ridge"))


def test_psychometric_prints_the_stored_notes_and_consistency_names_its_squared_difference(monkeypatch):
    from brainalign import api

    curve = {"benchmark": {"identifier": "psychometric.contrast"}, "curve": {"unit": "contrast"},
             "score": {"threshold": 2.664, "threshold_ci": [1.9, 3.8],
                       "notes": "threshold outside the tested levels: an extrapolation, not constrained by the data"}}
    monkeypatch.setattr(api, "psychometric", lambda *a, **k: [curve])
    result = run("psychometric", "timm:resnet18", "--task", "contrast", "--logits")
    assert result.exit_code == 0
    assert "warning: psychometric.contrast: threshold outside the tested levels" in result.stderr
    record = {"benchmark": {"identifier": "model-vs-human.edge.error-consistency"},
              "score": {"accuracy": 0.6, "human_accuracy": 0.8, "raw": 0.1, "ceiling": 0.3, "accuracy_difference": 0.04}}
    monkeypatch.setattr(api, "consistency", lambda *a, **k: record)
    printed = run("consistency", "timm:resnet18", "--experiment", "edge").output
    assert "squared accuracy difference (model - humans)^2 0.0400" in printed
