"""Per-target RidgeCV by efficient leave-one-out, against scikit-learn, on NumPy and torch."""

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from brainalign.errors import InputError
from brainalign.metrics.pls import linear_kernel
from brainalign.metrics.ridge import PerTargetRidgeCV, kernel_cv_ridge_predict
from brainalign.metrics.splits import brainscore_splits

ALPHAS = np.logspace(-3, 4, 15)


def _problem(n, p, t, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0  # an offset: the intercept must be unpenalised
    B = rng.standard_normal((p, t)) * rng.uniform(0.0, 1.0, t)  # targets that want different alphas
    return X, X @ B + 2.0 * rng.standard_normal((n, t))


@pytest.mark.parametrize("n, p", [(70, 20), (40, 150)])
def test_estimator_equals_sklearn_ridgecv_per_target(n, p):
    X, Y = _problem(n, p, 8, seed=p)
    ours = PerTargetRidgeCV(ALPHAS).fit(X[:-10], Y[:-10])
    theirs = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X[:-10], Y[:-10])
    np.testing.assert_array_equal(ours.alpha_, theirs.alpha_)
    assert len(np.unique(ours.alpha_)) > 1  # the per-target choice is exercised
    np.testing.assert_allclose(ours.predict(X[-10:]), theirs.predict(X[-10:]), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_kernel_cross_validation_equals_sklearn_per_split(backend):
    X, Y = _problem(60, 120, 6, seed=3)
    splits = brainscore_splits(60)
    predictions, chosen = kernel_cv_ridge_predict(linear_kernel(X), Y, splits, alphas=ALPHAS, backend=backend)
    for (train, test), prediction, alphas in zip(splits, predictions, chosen):
        reference = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X[train], Y[train])
        np.testing.assert_array_equal(alphas, reference.alpha_)
        np.testing.assert_allclose(prediction, reference.predict(X[test]), rtol=1e-8, atol=1e-9)


def test_single_alpha_is_plain_ridge_and_bad_alphas_fail():
    from sklearn.linear_model import Ridge
    X, Y = _problem(50, 30, 3, seed=4)
    [prediction], _ = kernel_cv_ridge_predict(X @ X.T, Y, [(np.arange(40), np.arange(40, 50))], alphas=[1.0])
    reference = Ridge(alpha=1.0).fit(X[:40], Y[:40]).predict(X[40:])
    np.testing.assert_allclose(prediction, reference, rtol=1e-9, atol=1e-9)
    with pytest.raises(InputError, match="positive"):
        kernel_cv_ridge_predict(X @ X.T, Y, [(np.arange(40), np.arange(40, 50))], alphas=[0.0])


@parametrize_with_checks([PerTargetRidgeCV(alphas=(0.1, 1.0, 10.0))])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
