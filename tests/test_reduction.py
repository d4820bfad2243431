"""--reduce srp:N | pca:N: equal to scikit-learn, fit never on the scored stimuli, recorded and keyed."""

import json

import numpy as np
import pytest
import xarray as xr
from cli_helpers import error_line, run
from sklearn.decomposition import PCA
from sklearn.random_projection import SparseRandomProjection

from brainalign.activations.reduction import fitted_pca, paired_unit_blocks, reduce_activations
from brainalign.errors import InputError


def _layer(n_stimuli, n_units, seed, prefix="s"):
    values = np.random.default_rng(seed).normal(size=(n_stimuli, n_units)).astype(np.float32)
    return xr.DataArray(values, dims=("stimulus", "unit"),
                        coords={"stimulus_id": ("stimulus", [f"{prefix}{i}" for i in range(n_stimuli)])})


def test_sparse_random_projection_equals_sklearn_with_the_same_seed():
    layer = _layer(30, 500, 0)
    reduced = reduce_activations({"l": layer}, "srp:40", seed=3)["l"]
    expected = SparseRandomProjection(n_components=40, random_state=3, dense_output=True).fit_transform(layer.values)
    np.testing.assert_allclose(reduced.values, expected, rtol=1e-5, atol=1e-5)
    assert reduced.attrs["reduction"]["method"] == "sparse_random_projection"
    assert reduced.attrs["n_units"] == 500


def test_pca_is_fit_on_the_separate_images_only():
    scored, fit = _layer(30, 200, 0), _layer(60, 200, 1, prefix="fit")
    reduced = reduce_activations({"l": scored}, "pca:10", seed=0, fit={"l": fit})["l"]
    expected = PCA(n_components=10, svd_solver="full").fit(fit.values.astype(np.float64)).transform(
        scored.values.astype(np.float64))
    np.testing.assert_allclose(np.abs(reduced.values), np.abs(expected), rtol=1e-4, atol=1e-4)  # signs may flip
    assert reduced.attrs["reduction"]["fit_stimuli"] == 60


def test_fitted_pca_equals_sklearn_from_unit_blocks_of_any_width():
    scored, fit = _layer(25, 300, 2).values, _layer(40, 300, 3).values
    sklearn_pca = PCA(n_components=12, svd_solver="full").fit(fit.astype(np.float64))
    expected = sklearn_pca.transform(scored.astype(np.float64))
    for block_units in (300, 64, 7):
        values, record = fitted_pca(paired_unit_blocks(fit, scored, block_units=block_units), 12)
        signs = np.sign((values * expected).sum(axis=0))
        np.testing.assert_allclose(values * signs, expected, rtol=1e-8, atol=1e-8)
        assert record["explained_variance_ratio"] == pytest.approx(sklearn_pca.explained_variance_ratio_.sum(), rel=1e-10)
        assert record["n_components"] == 12 and record["n_units"] == 300 and record["fit_stimuli"] == 40
    fit_scores, _ = fitted_pca(paired_unit_blocks(fit, fit), 12)  # the sign rule: largest fit score positive
    assert (fit_scores[np.abs(fit_scores).argmax(axis=0), np.arange(12)] > 0).all()
    capped, record = fitted_pca(paired_unit_blocks(fit[:5], scored), 12)  # 5 centred images span 4 dimensions
    assert capped.shape == (25, 4) and record["n_components"] == 4
    with pytest.raises(InputError, match="no variance"):
        fitted_pca(paired_unit_blocks(fit[:1], scored), 12)


def test_streamed_pca_equals_pca_in_memory(image_folder, tmp_path):
    from PIL import Image

    from brainalign.activations import extract_activations
    from brainalign.activations.features import pca_features
    from brainalign.models import load_model
    from brainalign.models.options import ExtractionOptions
    from brainalign.stimuli import resolve_stimuli

    folder = tmp_path / "fit"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8)).save(folder / f"fit{i:02d}.png")
    loaded, stimuli, fit_stimuli = load_model("alexnet_bn64"), resolve_stimuli(str(image_folder)), resolve_stimuli(str(folder))
    layers = ["features.3", "classifier.8"]       # 3136 units (reduced) and 1000 units (kept)
    options = dict(batch_size=4, progress=False)
    streamed = pca_features(loaded, stimuli, fit_stimuli, layers, 1001, ExtractionOptions(**options), stream=True)
    in_memory = pca_features(loaded, stimuli, fit_stimuli, layers, 1001, ExtractionOptions(**options), stream=False)
    whole = reduce_activations(extract_activations(loaded, stimuli, layers, **options), "pca:1001",
                               fit=extract_activations(loaded, fit_stimuli, layers, **options))
    for layer in layers:
        np.testing.assert_allclose(streamed[layer].values, in_memory[layer].values, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(in_memory[layer].values, whole[layer].values, rtol=1e-5, atol=1e-5)
    assert streamed["features.3"].shape == (6, 11) and streamed["features.3"].attrs["n_units"] == 3136
    assert streamed["classifier.8"].attrs["reduction"]["method"] == "none"
    with pytest.raises(InputError, match="share"):
        pca_features(loaded, stimuli, stimuli, layers, 5, ExtractionOptions(**options))


def test_narrow_layers_pass_unchanged_and_pca_needs_disjoint_fit_images():
    layer = _layer(10, 8, 0)
    kept = reduce_activations({"l": layer}, "srp:20")["l"]
    np.testing.assert_array_equal(kept.values, layer.values)
    assert kept.attrs["reduction"]["method"] == "none"
    with pytest.raises(InputError, match="separate image set"):
        reduce_activations({"l": _layer(10, 50, 0)}, "pca:5")
    with pytest.raises(InputError, match="share"):
        reduce_activations({"l": _layer(10, 50, 0)}, "pca:5", fit={"l": _layer(20, 50, 1)})


def test_cli_records_the_reduction_and_keys_it_apart(tmp_path):
    args = ["score", "alexnet_bn64", "--benchmark", "sim.V1", "--layers", "features.3", "--results", tmp_path, "-q",
            "--json", "--bootstrap", "0"]
    plain = json.loads(run(*args).output)[0]
    reduced = json.loads(run(*args, "--reduce", "srp:100").output)[0]
    assert reduced["model"]["extraction"]["reduction"]["spec"] == "srp:100"
    assert reduced["score"]["details"]["reduction"]["n_components"] == 100
    assert reduced["key"] != plain["key"] and reduced["score"]["raw"] != plain["score"]["raw"]
    assert reduced["score"]["n_units"] == plain["score"]["n_units"] == 64 * 7 * 7
    assert "layers reduced with srp:100, seed 0" in run(*[a for a in args if a != "--json"], "--reduce", "srp:100").output
    line = error_line(run(*args, "--reduce", "pca:10"))
    assert "--reduce-fit" in line
    assert "unknown reduction" in error_line(run(*args, "--reduce", "umap:3"))
    assert "not fitted" in error_line(run(*args, "--reduce", "srp:10", "--reduce-fit", tmp_path))


def test_cli_pca_fit_on_a_folder_of_other_images(tmp_path):
    from PIL import Image

    folder = tmp_path / "fit"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(30):
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(folder / f"fit{i:02d}.png")
    result = run("score", "alexnet_bn64", "--benchmark", "sim.V1", "--layers", "features.3", "--results", tmp_path,
                 "-q", "--json", "--bootstrap", "0", "--reduce", "pca:30", "--reduce-fit", folder)
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)[0]
    assert record["score"]["details"]["reduction"]["method"] == "pca"
    # 30 centred fit images span 29 dimensions: the 30th component has no variance and is dropped
    assert record["score"]["details"]["reduction"]["n_components"] == 29
    assert record["model"]["extraction"]["reduction"]["fit_stimuli"]["source"] == str(folder)


def test_streamed_projection_equals_projecting_the_whole_layer(image_folder):
    from brainalign.activations import extract_activations
    from brainalign.activations.features import projected_features
    from brainalign.models import load_model
    from brainalign.models.options import ExtractionOptions
    from brainalign.stimuli import resolve_stimuli

    loaded, stimuli = load_model("alexnet_bn64"), resolve_stimuli(str(image_folder))
    layers = ["features.3", "classifier.8"]       # 3136 units (projected) and 1000 units (kept)
    streamed = projected_features(loaded, stimuli, layers, 1500, ExtractionOptions(batch_size=4, progress=False),
                                  seed=5)
    whole = reduce_activations(extract_activations(loaded, stimuli, layers, progress=False), "srp:1500", seed=5)
    for layer in layers:
        np.testing.assert_allclose(streamed[layer].values, whole[layer].values, rtol=1e-5, atol=1e-6)
        assert streamed[layer].attrs["reduction"]["method"] == whole[layer].attrs["reduction"]["method"]
    assert streamed["features.3"].shape == (6, 1500) and streamed["classifier.8"].shape == (6, 1000)
