"""brainalign's ``brainscore`` protocol against Brain-Score's own code (brainscore-vision's ``pls`` metric and
``internal_consistency`` ceiling), run by ``perf/brainscore_reference.py`` in a separate Brain-Score venv.

Skipped unless ``$BRAINSCORE_PYTHON`` names that venv's Python (its set-up: the docstring of
``perf/brainscore_reference.py``); it must not share brainalign's environment (older numpy/xarray)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from brainalign import api
from brainalign.activations.activation_files import save_activations
from brainalign.benchmarks.options import ScoreOptions
from brainalign.neural.assembly_files import write_assembly

SCRIPT = Path(__file__).resolve().parents[1] / "perf" / "brainscore_reference.py"
PYTHON = os.environ.get("BRAINSCORE_PYTHON")

pytestmark = pytest.mark.skipif(not PYTHON, reason="set BRAINSCORE_PYTHON to a Brain-Score venv's python")


def test_brainscore_protocol_matches_brainscore_vision(tmp_path):
    rng = np.random.default_rng(3)
    n_stimuli, n_neuroids, n_reps = 80, 12, 6
    ids = np.array([f"im{i:03d}" for i in range(n_stimuli)])
    latent = rng.standard_normal((n_stimuli, 6))
    signal = latent @ rng.standard_normal((6, n_neuroids))
    trials = signal[None] + rng.standard_normal((n_reps, n_stimuli, n_neuroids))
    keep = rng.random((n_reps, n_stimuli)) > 0.1  # some trials missing, as in Cowley V4
    keep[:2] = True
    rep, stim = np.nonzero(keep)
    assembly = xr.DataArray(trials[rep, stim], dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", ids[stim]), "repetition": ("presentation", rep),
                                    "neuroid_id": ("neuroid", [f"n{i}" for i in range(n_neuroids)]),
                                    "region": ("neuroid", ["V4"] * n_neuroids)})
    write_assembly(assembly, tmp_path / "v4.nc")
    features = latent @ rng.standard_normal((6, 40)) + 0.5 * rng.standard_normal((n_stimuli, 40))
    save_activations({"layer": xr.DataArray(features, dims=("stimulus", "unit"),
                                            coords={"stimulus_id": ("stimulus", ids)})},
                     tmp_path / "acts.nc", provenance={"model": {"spec": "test", "seed": 0}})

    [record] = api.score_files(tmp_path / "acts.nc", tmp_path / "v4.nc", results=tmp_path / "r",
                               options=ScoreOptions(protocol="brainscore", n_boot=0))
    done = subprocess.run([PYTHON, str(SCRIPT), str(tmp_path / "acts.nc"), str(tmp_path / "v4.nc"), "--repeats", "1"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    ours = record["score"]
    assert 0.3 < ours["raw"] < 1  # a score worth comparing
    assert ours["raw"] == pytest.approx(theirs["raw"], abs=1e-8)
    assert ours["error"] == pytest.approx(theirs["error"], abs=1e-8)
    np.testing.assert_allclose(ours["per_split"], theirs["per_split"], atol=1e-8)
    assert ours["ceiling"] == pytest.approx(theirs["ceiling"], abs=1e-12)
    assert ours["ceiled"] == pytest.approx(theirs["ceiled"], abs=1e-8)  # r > 0: the conventions agree
