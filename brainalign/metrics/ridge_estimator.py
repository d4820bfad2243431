"""The per-target ridge estimator (scikit-learn API) over the leave-one-out solution of :mod:`.ridge`.

A module of its own so that scoring, which calls :func:`brainalign.metrics.ridge.kernel_cv_ridge_predict`
directly, never imports scikit-learn; ``brainalign.metrics.ridge.PerTargetRidgeCV`` still names this class.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from brainalign.metrics.ridge import DEFAULT_ALPHAS, _check_alphas, _loo_mse

__all__ = ["PerTargetRidgeCV"]


class PerTargetRidgeCV(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Ridge with one penalty per target, chosen by efficient leave-one-out over ``alphas``.

    Same selection and predictions as ``sklearn.linear_model.RidgeCV(alphas,
    alpha_per_target=True)`` (up to round-off), from one SVD of the centred features.

    Parameters
    ----------
    alphas : sequence of float, default=DEFAULT_ALPHAS
        Positive penalties to choose from.

    Attributes
    ----------
    alpha_ : ndarray of shape (n_targets,)
        Chosen penalty per target.
    coef_ : ndarray of shape (n_targets, n_features)
    intercept_ : ndarray of shape (n_targets,)
    loo_mse_ : ndarray of shape (n_alphas, n_targets)
        Mean squared leave-one-out residual of each penalty and target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((40, 10)), rng.standard_normal((40, 3))
    >>> ours = PerTargetRidgeCV(alphas=(0.1, 1.0, 10.0)).fit(X, Y)
    >>> theirs = RidgeCV(alphas=(0.1, 1.0, 10.0), alpha_per_target=True).fit(X, Y)
    >>> bool(np.array_equal(ours.alpha_, theirs.alpha_))
    True
    """

    def __init__(self, alphas=DEFAULT_ALPHAS):
        self.alphas = alphas

    def fit(self, X, y):
        X, Y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True,
                             ensure_min_samples=3)
        self._y_1d = Y.ndim == 1
        Y = Y.reshape(len(Y), -1)
        alphas = _check_alphas(self.alphas)
        self.x_mean_, y_mean = X.mean(axis=0), Y.mean(axis=0)
        U, s, Vt = np.linalg.svd(X - self.x_mean_, full_matrices=False)
        Yc = Y - y_mean
        UtY = U.T @ Yc
        self.loo_mse_ = _loo_mse(U, s * s, Yc, UtY, alphas)
        self.alpha_ = alphas[np.argmin(self.loo_mse_, axis=0)]
        self.coef_ = (Vt.T @ (s[:, None] / (s[:, None] ** 2 + self.alpha_) * UtY)).T
        self.intercept_ = y_mean - self.x_mean_ @ self.coef_.T
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        prediction = X @ self.coef_.T + self.intercept_
        return prediction.ravel() if self._y_1d else prediction
