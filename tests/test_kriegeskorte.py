"""kriegeskorte2008.IT on the real RDMs: loader, noise ceiling and the CLI end to end, checked against
scipy computations made directly from the .mat files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
import scipy.stats
from click.testing import CliRunner
from scipy.spatial.distance import squareform

FOLDER = "kriegeskorte2008-92-images"
needs_data = pytest.mark.shared_data(FOLDER)


@pytest.fixture(scope="module")
def subject_vectors(shared_data):
    """Human IT RDM vectors (4, 4186), each subject's two sessions averaged, read here with scipy only."""
    struct = scipy.io.loadmat(shared_data / FOLDER / "92_brainRDMs.mat")["RDMs"].reshape(-1)
    by_subject = {}
    for entry in struct:
        subject = str(entry["name"][0]).split("|")[1].strip()
        by_subject.setdefault(subject, []).append(entry["RDM"].astype(float))
    assert sorted(len(v) for v in by_subject.values()) == [2, 2, 2, 2]
    return {s: squareform(np.mean(v, axis=0), checks=False) for s, v in sorted(by_subject.items())}


def _spearman(a, b):
    return scipy.stats.spearmanr(a, b).statistic


@needs_data
def test_loader_gives_four_subjects_over_92_named_stimuli(subject_vectors):
    from brainalign.benchmarks.kriegeskorte2008 import human_it_target, monkey_it_target, stimulus_set

    target = human_it_target()
    assert target.rdm_descriptors["subject"] == ["BE", "KO", "SN", "TI"]
    np.testing.assert_allclose(target.get_vectors(), np.stack(list(subject_vectors.values())), rtol=1e-6)
    stimuli = stimulus_set()
    assert len(stimuli) == 92 and stimuli.load(0).shape == (175, 175, 3)
    assert stimuli.metadata["category"].value_counts().to_dict() == {
        "natural inanimate": 23, "artificial inanimate": 21, "human bodypart": 12, "human face": 12,
        "nonhuman bodypart": 12, "nonhuman face": 12}
    assert monkey_it_target().n_rdm == 1


@needs_data
def test_noise_ceiling_matches_rank_pooled_leave_one_out(subject_vectors):
    """rsatoolbox's ceiling for Spearman pools subjects by averaging ranks; recompute it with scipy."""
    from brainalign.benchmarks.kriegeskorte2008 import human_it_target
    from brainalign.metrics.rsa import noise_ceiling

    vectors = np.stack(list(subject_vectors.values()))
    ranks = np.stack([scipy.stats.rankdata(v) for v in vectors])
    upper = np.mean([_spearman(ranks.mean(0), v) for v in vectors])
    lower = np.mean([_spearman(np.delete(ranks, s, 0).mean(0), v) for s, v in enumerate(vectors)])
    got = noise_ceiling(human_it_target(), method="spearman")
    assert got == pytest.approx((lower, upper), abs=1e-9)
    assert 0.3 < lower < upper < 0.8


@needs_data
def test_cli_scores_pixels_on_human_and_monkey_it(tmp_path, subject_vectors, shared_data):
    from brainalign.activations import extract_activations
    from brainalign.benchmarks.kriegeskorte2008 import stimulus_set
    from brainalign.cli import main
    from brainalign.models import load_model

    result = CliRunner().invoke(main, ["score", "pixels", "--benchmark", "kriegeskorte2008.IT", "--benchmark",
                                       "kriegeskorte2008.IT.monkey", "--results", str(tmp_path), "--quiet"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    records = {json.loads(p.read_text())["benchmark"]["identifier"]: json.loads(p.read_text())
               for p in (tmp_path / "records").glob("*.json")}
    human, monkey = records["kriegeskorte2008.IT"], records["kriegeskorte2008.IT.monkey"]

    pixels = extract_activations(load_model("pixels"), stimulus_set(), ["pixels"], progress=False)["pixels"]
    order = np.argsort(pixels["stimulus_id"].values.astype(str))
    features = pixels.values.reshape(len(order), -1)[order]
    model = squareform(1 - np.corrcoef(features), checks=False)
    expected = [_spearman(model, v) for v in subject_vectors.values()]
    score = human["score"]
    np.testing.assert_allclose(list(score["per_subject"].values()), expected, atol=1e-9)
    assert score["raw"] == pytest.approx(np.mean(expected), abs=1e-9)
    assert score["ci"][0] < score["raw"] < score["ci"][1]
    assert score["ceiled"] == pytest.approx(score["raw"] / score["ceiling_upper"])
    assert score["convention"] == "r/c" and human["metric"]["name"] == "rsa_spearman"
    assert human["layer_selection"]["n_selection"] == 46

    mat = scipy.io.loadmat(shared_data / FOLDER / "Kriegeskorte_Neuron2008_supplementalData.mat")
    monkey_vector = mat["RDMs_mIT_hIT_fig1"][0, 0]["RDM"].reshape(-1)
    assert monkey["score"]["raw"] == pytest.approx(_spearman(model, monkey_vector), abs=1e-9)
    assert monkey["score"]["ceiling"] is None          # no ceiling: null in the record (strict JSON)


@needs_data
def test_activations_of_other_stimuli_are_refused(tmp_path):
    import xarray as xr

    from brainalign.benchmarks.registry import load_benchmark
    from brainalign.errors import DataError

    benchmark = load_benchmark("kriegeskorte2008.IT")
    ids = [f"k92-{i:02d}" for i in range(91)] + ["other"]
    activations = xr.DataArray(np.random.default_rng(0).standard_normal((92, 5)), dims=("stimulus", "unit"),
                               coords={"stimulus_id": ("stimulus", ids)})
    with pytest.raises(DataError, match="lack 1 of the benchmark's 92"):
        benchmark.score({"x": activations})


def test_a_wrong_file_fails_its_checksum(tmp_path, monkeypatch):
    from brainalign.benchmarks import kriegeskorte2008
    from brainalign.errors import ChecksumError, FileFormatError

    folder = tmp_path / FOLDER
    folder.mkdir()
    (folder / kriegeskorte2008.BRAIN_RDMS).write_bytes(b"MATLAB 5.0 MAT-file, truncated")
    monkeypatch.setenv("BRAINALIGN_SHARED_DATA", str(tmp_path))
    with pytest.raises(ChecksumError, match="expected 1743f90a"):
        kriegeskorte2008.read_file(kriegeskorte2008.BRAIN_RDMS)
    with pytest.raises(FileFormatError, match="missing"):
        kriegeskorte2008.read_file(kriegeskorte2008.SUPPLEMENT)
