"""Kernel PLS with ``backend="torch"`` (on the CPU here; tests/test_gpu.py repeats it on CUDA) equals NumPy."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from brainalign.benchmarks.options import ScoreOptions
from brainalign.errors import InputError
from brainalign.metrics.nayebi import noise_corrected_predictivity
from brainalign.metrics.pls import kernel_cv_pls_predict, linear_kernel
from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.splits import brainscore_splits

#: float32 predictions against float64's, relative to the targets' largest absolute value: measured
#: at most 2e-6 on these problems and on bench_predictivity's (7.5e-7) and bench_nayebi's (1.1e-6).
FLOAT32_TOLERANCE = 1e-5


def _problem(n=60, p=200, q=6, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 8)) * np.geomspace(3, 0.3, 8)
    X = latent @ rng.standard_normal((8, p)) + 0.3 * rng.standard_normal((n, p))
    Y = latent[:, :3] @ rng.standard_normal((3, q)) + rng.standard_normal((n, q))
    return X.astype(np.float32), Y


def _both(gram, Y, splits, dtype="float64", **kwargs):
    numpy = kernel_cv_pls_predict(gram, Y, splits, **kwargs)
    torch = kernel_cv_pls_predict(gram, Y, splits, backend="torch", device="cpu", dtype=dtype, **kwargs)
    return max(float(np.abs(a - b).max()) for a, b in zip(numpy, torch))


@pytest.mark.parametrize("q, k", [(6, 5), (1, 4), (90, 6)])  # few targets, one target, more targets than stimuli
def test_float64_predictions_equal_numpy(q, k):
    X, Y = _problem(q=q)
    assert _both(linear_kernel(X), Y, brainscore_splits(60), n_components=k) < 1e-6


def test_per_split_targets_repeated_stimuli_and_unequal_splits_equal_numpy():
    X, Y = _problem(q=40)
    rng = np.random.default_rng(1)
    splits = [(np.sort(rng.integers(0, 60, 45)), np.arange(10)),  # a bootstrap train set (repeats)
              (np.arange(10, 60), np.arange(10)), (np.arange(0, 50), np.arange(50, 60))]
    per_split = np.stack([Y + rng.standard_normal(Y.shape) for _ in splits])
    assert _both(linear_kernel(X), per_split, splits, n_components=8) < 1e-6


@pytest.mark.filterwarnings("ignore:n_components=6 exceeds")
def test_rank_stop_warns_and_predicts_like_numpy():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3)) @ rng.standard_normal((3, 50))  # rank 3
    Y = rng.standard_normal((40, 4))
    splits = brainscore_splits(40)
    caught = {}
    for backend in ("numpy", "torch"):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            kernel_cv_pls_predict(linear_kernel(X), Y, splits, n_components=6, backend=backend)
        caught[backend] = sorted(str(w.message) for w in record)
    assert caught["torch"] == caught["numpy"] and any("numerical rank" in m for m in caught["numpy"])
    assert _both(linear_kernel(X), Y, splits, n_components=6) < 1e-6


def test_max_iter_warning_like_numpy():
    X, Y = _problem(q=20)
    for backend in ("numpy", "torch"):
        with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
            kernel_cv_pls_predict(linear_kernel(X), Y, brainscore_splits(60), n_components=5, max_iter=2,
                                  backend=backend)


@pytest.mark.parametrize("q", [6, 90])
def test_float32_within_its_stated_tolerance(q):
    X, Y = _problem(q=q)
    assert _both(linear_kernel(X), Y, brainscore_splits(60), dtype="float32", n_components=6) \
        < FLOAT32_TOLERANCE * np.abs(Y).max()


def test_protocol_functions_take_the_backend_with_the_same_scores():
    X, Y = _problem()
    splits = brainscore_splits(60)
    numpy = cross_validated_predictivity(X, Y, splits=splits, n_components=5)
    torch = cross_validated_predictivity(X, Y, splits=splits, n_components=5, backend="torch")
    np.testing.assert_allclose(torch.per_split_neuroid, numpy.per_split_neuroid, atol=1e-9)
    rng = np.random.default_rng(3)
    trials = Y[None] + 2 * rng.standard_normal((6, 60, 6))
    kwargs = dict(n_components=4, n_splits=2, n_halves=3)
    a = noise_corrected_predictivity(X, trials, **kwargs)
    b = noise_corrected_predictivity(X, trials, backend="torch", **kwargs)
    np.testing.assert_allclose(b.values, a.values, atol=1e-9)


def test_bad_backend_or_dtype_is_an_input_error_and_pls_accepts_torch():
    X, Y = _problem()
    with pytest.raises(InputError, match="backend"):
        kernel_cv_pls_predict(linear_kernel(X), Y, brainscore_splits(60), backend="jax")
    with pytest.raises(InputError, match="float32"):
        kernel_cv_pls_predict(linear_kernel(X), Y, brainscore_splits(60), dtype="float32")
    assert ScoreOptions(regression="pls", backend="torch").to_dict()["backend"] == "torch"
