"""PLSRegression and the kernel cross-validation path against scikit-learn's PLSRegression."""

import warnings

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression as SklearnPLS
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from brainalign.errors import DataError, InputError
from brainalign.metrics import pls as pls_module
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


def _cv_relative_errors(X, Y, splits, k, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictions = kernel_cv_pls_predict(linear_kernel(X), Y, splits, n_components=k, **kwargs)
    return [_relative_error(prediction, _sklearn_predict(X[train], Y[train], X[test], k, **kwargs))
            for (train, test), prediction in zip(splits, predictions)]


def test_kernel_cv_with_more_targets_repeats_and_unequal_splits_equals_sklearn():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 300))
    Y = X[:, :5] @ rng.standard_normal((5, 60)) + rng.standard_normal((40, 60))  # 60 > 32 targets
    splits = [(np.arange(32), np.arange(32, 40)),
              (rng.permutation(40)[:30], np.arange(5)),  # another train size
              (rng.choice(40, 32), np.arange(30, 40))]  # repeated train stimuli (a bootstrap)
    assert max(_cv_relative_errors(X, Y, splits, 8)) < 1e-8
    assert max(_cv_relative_errors(X, Y[:, :7], splits, 8)) < 1e-8


def test_kernel_cv_max_iter_reached_like_sklearn_with_one_warning():
    X, Y, _ = _problem(60, 150, 6, seed=8)
    splits = [(order[:48], order[48:]) for order in (np.random.default_rng(i).permutation(60)
                                                      for i in range(4))]
    with pytest.warns(ConvergenceWarning) as record:
        kernel_cv_pls_predict(linear_kernel(X), Y, splits, n_components=5, max_iter=3)
    assert sum(issubclass(w.category, ConvergenceWarning) for w in record) == 1
    assert max(_cv_relative_errors(X, Y, splits, 5, max_iter=3)) < 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = PLSRegression(5, max_iter=3).fit(X, Y)
        theirs = SklearnPLS(5, scale=False, max_iter=3).fit(X, Y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.x_weights_, theirs.x_weights_, atol=1e-8)


@pytest.mark.parametrize("y_scale", [1.0, 1e-9])  # at 1e-9 the eps terms of sklearn's steps matter
def test_step_by_step_fallback_and_eps_terms_equal_sklearn(monkeypatch, y_scale):
    X, Y, X_test = _problem(70, 120, 5, seed=9)
    Y = Y * y_scale
    theirs = SklearnPLS(10, scale=False).fit(X, Y)
    for eps_terms in (pls_module._EPS_TERMS, 0.0):  # 0: every component redone step by step
        monkeypatch.setattr(pls_module, "_EPS_TERMS", eps_terms)
        ours = PLSRegression(10).fit(X, Y)
        assert ours.n_iter_ == theirs.n_iter_
        assert _relative_error(ours.predict(X_test), theirs.predict(X_test)) < 1e-10
        np.testing.assert_allclose(ours.y_weights_, theirs.y_weights_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ours.x_weights_, theirs.x_weights_, atol=1e-8)


def test_kernel_cv_zeroes_tiny_target_columns_like_sklearn():
    X, Y, _ = _problem(60, 90, 6, seed=10)
    Y[:, 0] = 3.0  # constant: zero once centred
    Y[:, 2] = 3e-16 * np.random.default_rng(0).standard_normal(60)  # below 10 eps: zeroed
    splits = [(np.arange(48), np.arange(48, 60)), (np.arange(12, 60), np.arange(12))]
    assert max(_cv_relative_errors(X, Y, splits, 6)) < 1e-8


def test_kernel_cv_warns_once_at_the_numerical_rank():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 3)) @ rng.standard_normal((3, 40))  # rank 3
    Y = rng.standard_normal((50, 4))
    splits = [(order[:40], order[40:]) for order in (rng.permutation(50) for _ in range(5))]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        predictions = kernel_cv_pls_predict(linear_kernel(X), Y, splits, n_components=6)
    assert [str(w.message) for w in record] == [
        "n_components=6 exceeds the numerical rank of the centred features; fitted 3 components"]
    for (train, test), prediction in zip(splits, predictions):
        assert _relative_error(prediction, _sklearn_predict(X[train], Y[train], X[test], 3)) < 1e-8


def test_kernel_cv_gives_the_same_predictions_one_split_at_a_time(monkeypatch):
    X, Y, _ = _problem(60, 200, 7, seed=12)
    splits = [(order[:50], order[50:]) for order in (np.random.default_rng(i).permutation(60)
                                                      for i in range(4))]
    together = kernel_cv_pls_predict(linear_kernel(X), Y, splits, n_components=8)
    monkeypatch.setattr(pls_module, "_BATCH_BYTES", 1)  # memory for one split's state only
    alone = kernel_cv_pls_predict(linear_kernel(X), Y, splits, n_components=8)
    for a, b in zip(together, alone):
        assert _relative_error(a, b) < 1e-12
