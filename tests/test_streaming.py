"""Bounded memory: HDF5 streaming, out-of-core kernels and reductions, memory preflight, devices."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from sklearn.decomposition import IncrementalPCA
from sklearn.random_projection import SparseRandomProjection

from brainalign.activations import extract_activations, features_for_scoring, preflight, stream_activations
from brainalign.activations.device import resolve_device
from brainalign.activations.kernel import centered_gram, kernel_features, kernel_moments, rdm_features
from brainalign.activations.preflight import estimate, parse_size
from brainalign.activations.reduction import incremental_pca, sparse_projector
from brainalign.activations.streaming import iter_unit_blocks, stream_layers, stream_stimulus_ids
from brainalign.errors import DataError, InputError
from brainalign.metrics.pls import linear_kernel
from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.splits import brainscore_splits
from brainalign.models import load_model
from brainalign.models.options import ExtractionOptions
from brainalign.stimuli import resolve_stimuli

LAYERS = ["features.3", "classifier.3"]
BATCH_4 = ExtractionOptions(batch_size=4, progress=False)


@pytest.fixture(scope="module")
def model():
    return load_model("alexnet_bn64")


@pytest.fixture
def stimuli(image_folder):
    return resolve_stimuli(str(image_folder))


def test_stream_file_equals_in_memory_extraction(model, stimuli, tmp_path):
    path = stream_activations(model, stimuli, LAYERS, tmp_path / "acts.h5", batch_size=4, progress=False)
    reference = extract_activations(model, stimuli, LAYERS, use_cache=False, progress=False)
    assert list(stream_stimulus_ids(path)) == list(stimuli.stimulus_ids)
    with h5py.File(path) as handle:
        for layer in LAYERS:
            dataset = handle["layers"][layer]
            assert dataset.chunks[0] == 4                     # whole batches per chunk
            np.testing.assert_array_equal(dataset[:], reference[layer].values)
    assert stream_layers(path)["features.3"]["n_units"] == reference["features.3"].shape[1]


def test_out_of_core_kernel_matches_linear_kernel(tmp_path):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((40, 1000)) + 3).astype(np.float32)
    with h5py.File(tmp_path / "x.h5", "w") as handle:   # a stream file by hand
        handle.create_dataset("layers/x", data=X)
    blocks = list(iter_unit_blocks(tmp_path / "x.h5", "x", block_units=300))
    assert [b.shape[1] for b in blocks] == [300, 300, 300, 100]
    reference = linear_kernel(X)
    np.testing.assert_allclose(centered_gram(blocks), reference, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(centered_gram(blocks, backend="torch"), reference, rtol=1e-12, atol=1e-9)


def test_kernel_moments_give_uncentred_and_row_centred_kernels(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 700)) * 0.1 + 5.0       # a large common offset: the hard case
    for backend in ("numpy", "torch"):
        moments = kernel_moments([X[:, i:i + 128] for i in range(0, 700, 128)], backend=backend)
        assert moments.n_units == 700
        np.testing.assert_allclose(moments.gram, linear_kernel(X), rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(moments.uncentred(), X @ X.T, rtol=1e-12)
        rows = X - X.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(moments.row_centred(), rows @ rows.T, rtol=1e-8, atol=1e-8 * np.abs(rows @ rows.T).max())


@pytest.mark.parametrize("method", ["correlation", "euclidean"])
def test_rdm_features_give_the_layers_rdm(method):
    from brainalign.metrics.rsa import rdm_from_features

    rng = np.random.default_rng(6)
    X = np.maximum(rng.standard_normal((25, 900)) + 0.3, 0)  # rectified, like a ReLU layer
    ids = [f"s{i}" for i in range(25)]
    moments = kernel_moments([X[:, :400], X[:, 400:]])
    expected = rdm_from_features(X, ids, method=method).get_vectors()
    got = rdm_from_features(rdm_features(moments, method), ids, method=method).get_vectors()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="only correlation, euclidean"):
        rdm_features(moments, "crossnobis")
    X[3] = 2.0   # a constant pattern has no correlation distance
    if method == "correlation":
        with pytest.raises(DataError, match="stimulus 's3' is constant across channels"):
            rdm_from_features(rdm_features(kernel_moments([X]), method), ids, method=method)


def test_kernel_features_score_exactly_like_the_features():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 500))
    Y = X[:, :4] @ rng.standard_normal((4, 6)) + rng.standard_normal((60, 6))
    F = kernel_features(linear_kernel(X))
    assert F.shape == (60, 60)
    np.testing.assert_allclose(linear_kernel(F), linear_kernel(X), atol=1e-9 * np.abs(linear_kernel(X)).max())
    splits = brainscore_splits(60)
    a = cross_validated_predictivity(X, Y, splits=splits, n_components=5)
    b = cross_validated_predictivity(F, Y, splits=splits, n_components=5)
    np.testing.assert_allclose(b.per_split_neuroid, a.per_split_neuroid, atol=1e-9)


def test_streamed_scoring_features_reproduce_kernels_and_cache(model, stimuli):
    kernels, plan = features_for_scoring(model, stimuli, LAYERS, BATCH_4, stream=True)
    plain, memory_plan = features_for_scoring(model, stimuli, LAYERS, ExtractionOptions(progress=False))
    assert (plan.mode, memory_plan.mode) == ("stream", "memory")
    for layer in LAYERS:
        assert kernels[layer].attrs["n_units"] == plain[layer].attrs["n_units"] == plain[layer].shape[1]
        reference = linear_kernel(plain[layer].values)
        np.testing.assert_allclose(linear_kernel(kernels[layer].values), reference,
                                   atol=1e-10 * np.abs(reference).max())
    again, _ = features_for_scoring(model, stimuli, LAYERS, BATCH_4, stream=True)
    np.testing.assert_array_equal(again["features.3"].values, kernels["features.3"].values)  # from the cache


def test_streamed_rsa_scores_equal_in_memory_scores(model, stimuli):
    from brainalign.benchmarks.rsa import RSABenchmark
    from brainalign.metrics.rsa import rdm_from_features, rdms_from_matrices

    ids = stimuli.stimulus_ids
    plain, _ = features_for_scoring(model, stimuli, LAYERS, ExtractionOptions(progress=False))
    rng = np.random.default_rng(7)
    subjects = []   # three noisy "subjects" built around the features.3 RDM
    for _ in range(3):
        noisy = plain["features.3"].values + rng.standard_normal(plain["features.3"].shape) * 2.0
        subjects.append(rdm_from_features(noisy, ids).get_matrices()[0])
    target = rdms_from_matrices(np.stack(subjects), ids, subjects=["a", "b", "c"], measure="correlation")
    benchmark = RSABenchmark(identifier="t.rsa", version="1", region="IT", species="human", description="",
                             load_target=lambda: target, load_stimuli=lambda: stimuli)
    streamed, plan = features_for_scoring(model, stimuli, LAYERS, BATCH_4, stream=True, rdm="correlation")
    assert plan.mode == "stream" and streamed["features.3"].attrs["representation"] == "rdm:correlation"
    for a, b in zip(benchmark.score(plain), benchmark.score(streamed)):
        for key in ("raw", "ceiling", "ceiled"):
            assert b.score[key] == pytest.approx(a.score[key], abs=1e-9)
        np.testing.assert_allclose(b.score["ci"], a.score["ci"], atol=1e-9)
        assert b.score["n_units"] == a.score["n_units"] == plain[a.layer].shape[1]
    kernels, _ = features_for_scoring(model, stimuli, LAYERS, BATCH_4, stream=True)
    with pytest.raises(ValueError, match="do not give its correlation RDM"):
        benchmark.score(kernels)
    broken = plain["features.3"].copy(data=plain["features.3"].values.copy())
    broken.values[2, 5] = np.nan
    with pytest.raises(DataError, match="contain NaN"):
        benchmark.score({"features.3": broken})


def test_sparse_projection_streamed_equals_sklearn_on_whole_matrix():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 2000)).astype(np.float32)
    project, record = sparse_projector(2000, 50, seed=7)
    streamed = np.concatenate([project(X[i:i + 8]) for i in range(0, 30, 8)])
    whole = SparseRandomProjection(n_components=50, dense_output=True, random_state=7).fit_transform(X)
    np.testing.assert_allclose(streamed, whole, rtol=1e-5, atol=1e-5)
    assert record["seed"] == 7 and record["density"] == pytest.approx(1 / np.sqrt(2000))


def test_incremental_pca_out_of_core_equals_sklearn(tmp_path):
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((70, 300)) * np.linspace(3, 0.1, 300)).astype(np.float32)
    with h5py.File(tmp_path / "x.h5", "w") as handle:
        handle.create_dataset("layers/x", data=X)
        handle.attrs["layers"] = '["x"]'
        handle["layers/x"].attrs["layer_shape"] = [300]
    scores, record = incremental_pca(tmp_path / "x.h5", "x", 10, block_rows=20)
    reference = IncrementalPCA(n_components=10, batch_size=20).fit_transform(X)
    np.testing.assert_allclose(np.abs(scores), np.abs(reference), rtol=1e-4, atol=1e-4)
    assert 0 < record["explained_variance_ratio"] < 1


def test_preflight_streams_or_refuses_with_a_clear_message():
    resnet = load_model("timm:resnet18")
    layers = ["layer1", "layer4"]  # 200,704 and 25,088 units at 224 px
    in_memory, streamed = estimate({"layer1": 200704, "layer4": 25088}, 2000, batch_size=32,
                                   parameter_bytes=sum(p.numel() * 4 for p in resnet.module.parameters()))
    assert in_memory > 2 * streamed
    assert preflight(resnet, 2000, layers, budget=in_memory).mode == "memory"
    plan = preflight(resnet, 2000, layers, budget=(in_memory + streamed) // 2)
    assert (plan.mode, plan.batch_size) == ("stream", 32)
    assert plan.units == {"layer1": 200704, "layer4": 25088}
    with pytest.raises(InputError, match="need about .* GiB even streamed one image at a time"):
        preflight(resnet, 2000, layers, budget="500MB")
    with pytest.raises(InputError, match="in memory, more than the memory budget"):
        preflight(resnet, 2000, layers, budget=(in_memory + streamed) // 2, stream=False)


@pytest.mark.parametrize("text, size", [("3GB", 3 * 2**30), ("512 MiB", 512 * 2**20), ("2e9", 2 * 10**9)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_request_without_cuda_is_one_clear_line(model, stimuli):
    with pytest.raises(InputError, match="CUDA is not available on this machine") as caught:
        features_for_scoring(model, stimuli, LAYERS, ExtractionOptions(device="cuda", progress=False))
    assert "--device cpu" in caught.value.hint and "\n" not in str(caught.value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_extraction_and_kernel_match_cpu(model, stimuli):
    cpu = extract_activations(model, stimuli, LAYERS, use_cache=False, progress=False)
    gpu = extract_activations(model, stimuli, LAYERS, device="cuda", use_cache=False, progress=False)
    model.module.to("cpu")
    for layer in LAYERS:
        np.testing.assert_allclose(gpu[layer].values, cpu[layer].values, rtol=1e-3, atol=1e-4)
        X = cpu[layer].values
        np.testing.assert_allclose(centered_gram([X], device="cuda"), linear_kernel(X), rtol=1e-10, atol=1e-8)


def test_bf16_autocast_is_close_to_fp32_and_cached_apart(model, stimuli):
    fp32 = extract_activations(model, stimuli, ["classifier.3"], progress=False)["classifier.3"].values
    bf16 = extract_activations(model, stimuli, ["classifier.3"], precision="bf16", progress=False)["classifier.3"].values
    assert not np.array_equal(bf16, fp32)                       # really computed in bfloat16, not the fp32 cache
    assert np.abs(bf16 - fp32).max() < 0.05 * np.abs(fp32).max()
    batched = extract_activations(model, stimuli, ["classifier.3"], precision="bf16", batch_size=4, use_cache=False,
                                  progress=False)["classifier.3"].values   # host buffers reused over batches of 4, 2
    assert np.abs(batched - fp32).max() < 0.05 * np.abs(fp32).max()
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(InputError, match="unknown precision"):
        extract_activations(model, stimuli, ["classifier.3"], precision="fp8", progress=False)


def test_cache_entries_appear_only_for_complete_extractions(model, stimuli, tmp_path):
    from dataclasses import replace

    from brainalign.activations import ActivationCache

    def failing(i):
        if i >= 4:
            raise OSError("disk gone")
        return stimuli.load(i)

    cache = ActivationCache(tmp_path / "cache")
    with pytest.raises(OSError, match="disk gone"):
        extract_activations(model, replace(stimuli, loader=failing), LAYERS, batch_size=2, cache=cache,
                            progress=False)
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []   # no partial or temp file
    values = extract_activations(model, stimuli, LAYERS, batch_size=2, cache=cache, progress=False)
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2
    again = extract_activations(model, stimuli, LAYERS, cache=cache, progress=False)
    np.testing.assert_array_equal(again["features.3"].values, values["features.3"].values)
