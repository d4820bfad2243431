"""Generic array importer (axis specs, NaN-padded repetitions, formats), RDM targets, reliability rules."""

import json

import numpy as np
import pytest
import scipy.io
from cli_helpers import error_line as _error_line
from cli_helpers import run

from brainalign.neural.importers.generic import generic_assembly, load_array, parse_axes
from brainalign.neural.importers.rdm import import_rdms, to_dissimilarity_vectors
from brainalign.neural.reliability import nayebi_window, neuroid_reliability


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def responses():
    """(neuroid 4, stimulus 6, repetition 3): signal per stimulus + noise; stimulus 2 lacks repetition 2."""
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(4, 6, 1))
    array = signal + 0.1 * rng.normal(size=(4, 6, 3))
    array[:, 2, 2] = np.nan
    return array


def test_axes_order_does_not_matter_and_nan_repetitions_drop(responses):
    a = generic_assembly(responses, ["neuroid", "stimulus", "repetition"], [f"s{i}" for i in range(6)])
    b = generic_assembly(responses.transpose(2, 0, 1), ["repetition", "neuroid", "stimulus"],
                         [f"s{i}" for i in range(6)])
    assert a.sizes == {"presentation": 17, "neuroid": 4}  # 6 x 3 trials, one missing
    np.testing.assert_array_equal(a.values, b.values)
    first = a.isel(presentation=(a["stimulus_id"].values == "s1") & (a["repetition"].values == 1))
    np.testing.assert_array_equal(first.values[0], responses[:, 1, 1])


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".h5", ".csv", ".mat"])
def test_every_format_loads_the_same_values(tmp_path, suffix):
    array = np.arange(12, dtype=float).reshape(3, 4)
    path = tmp_path / f"resp{suffix}"
    if suffix == ".npy":
        np.save(path, array)
    elif suffix == ".npz":
        np.savez(path, resp=array)
    elif suffix == ".h5":
        import h5py
        with h5py.File(path, "w") as f:
            f["group/resp"] = array
    elif suffix == ".csv":
        path.write_text("a,b,c,d\n" + "\n".join(",".join(str(v) for v in row) for row in array) + "\n")
    else:
        scipy.io.savemat(path, {"resp": array})
    np.testing.assert_array_equal(load_array(path, None), array)


def test_generic_import_and_reliability_selection(responses, image_folder, tmp_path, home):
    np.save(tmp_path / "resp.npy", responses)
    result = run("data", "import", "generic", tmp_path / "resp.npy", "--axes", "neuroid,stimulus,repetition",
                 "--images", image_folder, "--region", "V4", "--name", "mine", "--min-reliability", "0.5", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["benchmarks"] == ["imported.mine.V4"]
    assembly = generic_assembly(responses, ["neuroid", "stimulus", "repetition"], list("abcdef"))
    reliable = neuroid_reliability(assembly)
    assert summary["selection"]["kept"] == int((reliable >= 0.5).sum())
    from brainalign.neural.importers.dataset import load_imported_assembly
    stored = load_imported_assembly("mine")
    assert set(stored["stimulus_id"].values) == {"a/img0", "a/img1", "a/img2", "b/img0", "b/img1", "b/img2"}


def test_wrong_axis_spec_is_one_line_and_home_intact(responses, image_folder, tmp_path, home):
    np.save(tmp_path / "resp.npy", responses)
    for spec, message in [("neuroid,stimulus", "names 2 axes but the array has 3"),
                          ("neuroid,stimulus,trial", "unknown axis 'trial'"),
                          ("neuroid,neuroid,stimulus", "names an axis twice"),
                          ("stimulus,neuroid,repetition", "the stimulus axis has 4 entries but there are 6")]:
        result = run("data", "import", "generic", tmp_path / "resp.npy", "--axes", spec, "--images", image_folder,
                     "--name", "bad")
        assert result.exit_code == 2, spec
        assert message in _error_line(result), spec
    assert not home.exists() or not any((home / "imported").glob("*"))
    with pytest.raises(Exception, match="neuroid and stimulus are required"):
        parse_axes("stimulus,repetition", 2)


def test_rdm_similarity_square_and_condensed_stack(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 30))
    similarity = np.corrcoef(x)
    np.save(tmp_path / "sim.npy", similarity)
    rdms = import_rdms(tmp_path / "sim.npy", kind="similarity")
    from scipy.spatial.distance import pdist
    np.testing.assert_allclose(rdms.get_vectors()[0], pdist(x, "correlation"))  # 1 - r, upper triangle
    stack = np.stack([pdist(x, "correlation"), pdist(x[:, ::-1] ** 2, "euclidean")])
    np.testing.assert_allclose(to_dissimilarity_vectors(stack, "dissimilarity"), stack)
    with pytest.raises(Exception, match="diagonal"):
        to_dissimilarity_vectors(similarity, "dissimilarity")  # declared the wrong kind


def test_rdm_import_cli_round_trips_through_rsatoolbox(tmp_path, home):
    rng = np.random.default_rng(1)
    square = np.stack([1 - np.corrcoef(rng.normal(size=(4, 10))) for _ in range(3)])
    scipy.io.savemat(tmp_path / "rdms.mat", {"rdms": square})
    np.save(tmp_path / "imgs.npy", rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8))
    result = run("data", "import", "rdm", tmp_path / "rdms.mat", "--kind", "dissimilarity", "--name", "it",
                 "--images", tmp_path / "imgs.npy")
    assert result.exit_code == 0, result.output
    import rsatoolbox
    loaded = rsatoolbox.rdm.load_rdm(str(home / "imported" / "it" / "rdms.hdf5"), file_type="hdf5")
    np.testing.assert_allclose(loaded.get_matrices(), square, atol=1e-12)
    assert list(loaded.rdm_descriptors["subject"]) == ["s0", "s1", "s2"]
    assert list(loaded.pattern_descriptors["stimulus_id"]) == ["img0000", "img0001", "img0002", "img0003"]


def test_nayebi_window_is_the_longest_passing_run():
    median = np.array([0.1, 0.35, 0.4, 0.2, 0.31, 0.5, 0.6, 0.45, 0.1])
    assert nayebi_window(median) == (4, 8)
    with pytest.raises(Exception, match="no time bin"):
        nayebi_window(np.zeros(5))


def _numbered_images(folder, n):
    """Images 1.png .. n.png whose pixel value is their number (so a row's image can be checked)."""
    from PIL import Image

    folder.mkdir()
    for k in range(1, n + 1):
        Image.fromarray(np.full((8, 8), k, dtype=np.uint8)).save(folder / f"{k}.png")
    return folder


def test_ambiguous_row_order_is_refused_and_said_explicitly(tmp_path, home):
    images = _numbered_images(tmp_path / "pattern", 12)
    responses = np.arange(1, 13, dtype=float)[:, None] * np.array([[1.0, -1.0]])   # row k answers image k+1
    np.save(tmp_path / "resp.npy", responses)
    args = ("data", "import", "generic", tmp_path / "resp.npy", "--axes", "stimulus,neuroid", "--images", images,
            "--region", "V1")
    line = _error_line(run(*args, "--name", "guess"))
    assert "ambiguous" in line and "'10'" in line and "'2'" in line and "--image-order" in line
    assert not (home / "imported" / "guess").exists()
    from brainalign.neural.importers.dataset import load_imported_assembly, load_imported_stimuli

    for order, name in (("natural", "nat"), ("lexicographic", "lex")):
        result = run(*args, "--name", name, "--image-order", order)
        assert result.exit_code == 0, result.output
        first, last = ("1", "12") if order == "natural" else ("1", "9")
        assert f"first '{first}', last '{last}'" in result.output and f"images, {order} order" in result.output
        assembly = load_imported_assembly(name)
        stimuli = load_imported_stimuli(name)
        for stimulus_id, value in zip(assembly["stimulus_id"].values, assembly.values[:, 0]):
            image = stimuli.load(list(stimuli.stimulus_ids).index(stimulus_id))
            expected = int(stimulus_id) if order == "natural" else sorted(map(str, range(1, 13))).index(stimulus_id) + 1
            assert value == expected
            if order == "natural":   # the response of row k is that of the image named k + 1
                assert round(float(image[0, 0, 0]) * 255) == int(value)


def test_only_images_with_responses_are_copied(tmp_path, home):
    import zipfile

    images = _numbered_images(tmp_path / "pattern", 12)
    np.save(tmp_path / "resp.npy", np.arange(4, dtype=float)[:, None])
    (tmp_path / "meta.csv").write_text("stimulus_id\n3\n1\n12\n7\n")
    result = run("data", "import", "generic", tmp_path / "resp.npy", "--axes", "stimulus,neuroid", "--images", images,
                 "--metadata", tmp_path / "meta.csv", "--name", "sub")
    assert result.exit_code == 0, result.output
    assert "first '3', last '7'" in result.output
    with zipfile.ZipFile(home / "imported" / "sub" / "stimuli.zip") as archive:
        assert sorted(archive.namelist()) == ["1.png", "12.png", "3.png", "7.png"]


def test_rdm_import_without_images_is_refused_in_one_line(tmp_path, home):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "rdm.npy", 1 - np.corrcoef(rng.normal(size=(6, 10))))
    line = _error_line(run("data", "import", "rdm", tmp_path / "rdm.npy", "--kind", "dissimilarity", "--name", "x"))
    assert "needs the images" in line and "--images" in line
    assert not (home / "imported" / "x").exists()


def test_the_importer_and_the_cli_refuse_the_same_rdm_comparisons(tmp_path, home):
    """The whitened *_cov comparisons are offered for no imported RDM: one list, read by both."""
    from brainalign.errors import InputError
    from brainalign.metrics.options import COMPARISONS, IMPORTED_RDM_COMPARISONS
    from brainalign.neural.importers.rdm import save_rdms

    assert set(COMPARISONS) - set(IMPORTED_RDM_COMPARISONS) == {"corr_cov", "cosine_cov"}
    with pytest.raises(InputError, match="unknown RDM comparison 'corr_cov'") as error:
        save_rdms("x", None, source=None, images=lambda **_: iter(()), comparison="corr_cov", home=home)
    assert error.value.hint == f"use one of {', '.join(IMPORTED_RDM_COMPARISONS)}"
    np.save(tmp_path / "rdm.npy", 1 - np.corrcoef(np.random.default_rng(2).normal(size=(6, 10))))
    result = run("data", "import", "rdm", tmp_path / "rdm.npy", "--kind", "dissimilarity", "--comparison",
                 "cosine_cov", "--name", "x")
    assert result.exit_code == 2 and "cosine_cov" in result.output
    assert not (home / "imported" / "x").exists()


def test_imported_rdms_are_an_rsa_benchmark(tmp_path, home, monkeypatch):
    """`imported.it.IT` scores a layer like kriegeskorte2008.IT: rsatoolbox's comparison and noise ceiling."""
    import rsatoolbox
    from PIL import Image
    from rsatoolbox.inference import boot_noise_ceiling

    import brainalign
    from brainalign.benchmarks import registry

    rng = np.random.default_rng(3)
    (tmp_path / "imgs").mkdir()
    for k in range(1, 15):
        Image.fromarray(rng.integers(0, 256, size=(8, 8), dtype=np.uint8)).save(tmp_path / "imgs" / f"{k}.png")
    patterns = rng.normal(size=(14, 20))
    stack = np.stack([1 - np.corrcoef(patterns + rng.normal(size=patterns.shape)) for _ in range(3)])
    np.save(tmp_path / "rdms.npy", stack)
    result = run("data", "import", "rdm", tmp_path / "rdms.npy", "--kind", "dissimilarity", "--images",
                 tmp_path / "imgs", "--image-order", "natural", "--region", "IT", "--name", "it")
    assert result.exit_code == 0, result.output
    assert "benchmarks: imported.it.IT" in result.output and "first '1', last '14'" in result.output
    listing = run("data", "list").output
    assert "3 RDM(s) x 14 stimuli" in listing and "None neuroids" not in listing
    registry.list_benchmarks()   # built-ins registered first: their modules register only on first import
    monkeypatch.setattr(registry, "_BENCHMARKS",      # imported.* registered again from this test's data home
                        {k: v for k, v in registry._BENCHMARKS.items() if not k.startswith("imported.")})
    assert "imported.it.IT" in registry.list_benchmarks("imported.*")
    scored = run("score", "pixels", "--benchmark", "imported.it.*", "--results", tmp_path / "res", "--json", "-q")
    assert scored.exit_code == 0, scored.output
    record = json.loads(scored.output)[0]
    assert record["benchmark"]["identifier"] == "imported.it.IT" and record["layer_selection"]["n_heldout"] == 7
    # the same numbers from rsatoolbox alone: the pixel layer's RDM against each subject's (row k = image k + 1)
    ids = [str(k) for k in range(1, 15)]
    pixels = brainalign.extract("pixels", stimuli=str(tmp_path / "imgs"), progress=False)["pixels"]
    pixels = pixels.isel(stimulus=[list(pixels["stimulus_id"].values).index(i) for i in ids])
    model = rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(pixels.values.astype(float)), method="correlation")
    target = rsatoolbox.rdm.RDMs(np.stack([m[np.triu_indices(14, 1)] for m in stack]))
    raw = float(np.mean(rsatoolbox.rdm.compare(model, target, method="spearman")))
    lower, upper = boot_noise_ceiling(target, method="spearman")
    assert record["score"]["raw"] == pytest.approx(raw, abs=1e-9)
    assert record["score"]["ceiling_upper"] == pytest.approx(float(upper), abs=1e-9)
    assert record["score"]["ceiling_lower"] == pytest.approx(float(lower), abs=1e-9)
    assert record["score"]["convention"] == "r/c"
    assert record["score"]["ceiled"] == pytest.approx(raw / float(upper), abs=1e-9)
