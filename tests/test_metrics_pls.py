"""PLSRegression and the kernel cross-validation path against scikit-learn's PLSRegression."""

import warnings

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression as SklearnPLS
from sklearn.utils.estimator_checks import parametrize_with_checks

from brainalign.errors import DataError, InputError
from brainalign.metrics.pls import PLSRegression, kernel_cv_pls_predict, linear_kernel

# (n_samples, n_features, n_targets, n_components): n > p and n < p, one and many targets
PROBLEMS = [
    (120, 30, 4, 1),
    (120, 30, 4, 5),
    (200, 40, 6, 25),
    (40, 300, 3, 5),
    (60, 500, 1, 25),
    (50, 800, 20, 25),
]


def _problem(n, p, q, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.uniform(-1, 1, p)
    Y = X[:, :4] @ rng.standard_normal((4, q)) + rng.standard_normal((n, q)) + 3.0
    return X, Y, rng.standard_normal((9, p))


def _sklearn_predict(X, Y, X_test, n_components, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SklearnPLS(n_components, scale=False, **kwargs).fit(X, Y).predict(X_test)


def _relative_error(actual, expected):
    return np.abs(actual - expected).max() / np.abs(expected).max()


@pytest.mark.parametrize("n, p, q, k", PROBLEMS)
def test_estimator_predictions_and_attributes_equal_sklearn(n, p, q, k):
    X, Y, X_test = _problem(n, p, q, seed=n + p + q + k)
    ours = PLSRegression(k).fit(X, Y)
    theirs = SklearnPLS(k, scale=False).fit(X, Y)
    assert _relative_error(ours.predict(X_test), theirs.predict(X_test)) < 1e-10
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-12)
    # the sign convention (_svd_flip_1d) and the iteration counts are reproduced too
    np.testing.assert_allclose(ours.x_weights_, theirs.x_weights_, atol=1e-8)
    np.testing.assert_allclose(ours.y_loadings_, theirs.y_loadings_, rtol=1e-7, atol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_


def test_estimator_with_scale_and_1d_target_equals_sklearn():
    X, Y, X_test = _problem(80, 200, 1, seed=3)
    ours = PLSRegression(4, scale=True).fit(X, Y[:, 0]).predict(X_test)
    theirs = SklearnPLS(4, scale=True).fit(X, Y[:, 0]).predict(X_test)
    assert ours.shape == (9,)
    assert _relative_error(ours, theirs) < 1e-10


def test_estimator_stops_at_rank_like_exact_arithmetic():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 4)) @ rng.standard_normal((4, 60))  # rank 4
    Y = rng.standard_normal((30, 3))
    X_test = rng.standard_normal((6, 4)) @ rng.standard_normal((4, 60))
    with pytest.warns(UserWarning, match="numerical rank .* fitted 4 components"):
        ours = PLSRegression(8).fit(X, Y)
    assert ours.n_components_ == 4
    expected = _sklearn_predict(X, Y, X_test, 4)
    assert _relative_error(ours.predict(X_test), expected) < 1e-9


def test_estimator_rejects_too_many_components():
    X, Y, _ = _problem(20, 10, 2, seed=0)
    with pytest.raises(InputError, match="exceeds the number of features"):
        PLSRegression(11).fit(X, Y)


@parametrize_with_checks([PLSRegression(n_components=1)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("n, p, q, k", PROBLEMS)
def test_kernel_cv_predictions_equal_sklearn(n, p, q, k):
    X, Y, _ = _problem(n, p, q, seed=7 * n + p + k)
    rng = np.random.default_rng(k)
    splits = [(order[: int(0.8 * n)], order[int(0.8 * n):])
              for order in (rng.permutation(n) for _ in range(3))]
    predictions = kernel_cv_pls_predict(linear_kernel(X, chunk_size=64), Y, splits, n_components=k)
    for (train, test), prediction in zip(splits, predictions):
        expected = _sklearn_predict(X[train], Y[train], X[test], k)
        assert _relative_error(prediction, expected) < 1e-6


def test_kernel_cv_accepts_uncentred_kernel():
    X, Y, _ = _problem(50, 120, 3, seed=11)
    X = X + 10.0  # a large offset; each split re-centres on its train mean in kernel form
    train, test = np.arange(40), np.arange(40, 50)
    [prediction] = kernel_cv_pls_predict(X @ X.T, Y, [(train, test)], n_components=6)
    assert _relative_error(prediction, _sklearn_predict(X[train], Y[train], X[test], 6)) < 1e-6


def test_linear_kernel_matches_centred_product_for_float32():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((15, 1001)).astype(np.float32) + 5.0
    centred = X.astype(np.float64) - X.astype(np.float64).mean(axis=0)
    gram = linear_kernel(X, chunk_size=100)
    assert gram.dtype == np.float64
    np.testing.assert_allclose(gram, centred @ centred.T, rtol=1e-10, atol=1e-9)


def test_kernel_cv_rejects_mismatched_targets_and_too_many_components():
    gram = np.eye(10)
    with pytest.raises(DataError, match="do not match"):
        kernel_cv_pls_predict(gram, np.ones((9, 2)), [])
    with pytest.raises(InputError, match="train samples|samples"):
        kernel_cv_pls_predict(gram, np.ones((10, 2)), [(np.arange(5), np.arange(5, 10))],
                              n_components=6)
