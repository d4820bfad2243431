"""The PLS regression estimator (scikit-learn API) over the kernel NIPALS of :mod:`.pls`.

A module of its own so that scoring, which calls :func:`brainalign.metrics.pls.kernel_cv_pls_predict`
directly, never imports scikit-learn; ``brainalign.metrics.pls.PLSRegression`` still names this class.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import pinv
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from brainalign.metrics.pls import (_batched_nipals, _centre_scale, _check_iteration_options, _check_n_components,
                                    _flip_signs, _SplitKernels)

__all__ = ["PLSRegression"]


class PLSRegression(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """PLS2 regression with scikit-learn's exact NIPALS algorithm, run in kernel form.

    Gives the same predictions as ``sklearn.cross_decomposition.PLSRegression`` (up to
    round-off, about 1e-12 relative) at a cost of ``O(n_samples^2 * n_features)`` for the kernel,
    ``O(n_samples^2 + n_samples * n_targets)`` per component and ``O(n_targets^2)`` per
    power-method step, instead of ``O(n_samples * n_features)`` per step. Meant for
    ``n_features >> n_samples``; it holds an (n_samples, n_samples) kernel.

    Parameters
    ----------
    n_components : int, default=25
        Number of components; at most ``min(n_samples, n_features)``.
    scale : bool, default=False
        Whether to scale X and Y to unit (ddof=1) variance before fitting.
    max_iter : int, default=500
        Maximum number of power-method iterations per component.
    tol : float, default=1e-06
        Convergence tolerance on the squared change of the X weights.

    Attributes
    ----------
    x_weights_ : ndarray of shape (n_features, n_components)
        Left singular vectors of the cross-covariance matrices of each iteration.
    y_weights_ : ndarray of shape (n_targets, n_components)
        Right singular vectors of the cross-covariance matrices of each iteration.
    x_loadings_ : ndarray of shape (n_features, n_components)
        Loadings of X.
    y_loadings_ : ndarray of shape (n_targets, n_components)
        Loadings of Y.
    x_rotations_ : ndarray of shape (n_features, n_components)
        Projection matrix that transforms centred X into scores.
    coef_ : ndarray of shape (n_targets, n_features)
        Coefficients of the linear model ``Y = X coef_.T + intercept_`` for centred X.
    intercept_ : ndarray of shape (n_targets,)
        Mean of Y over the training samples.
    x_mean_ : ndarray of shape (n_features,)
        Mean of X over the training samples.
    n_iter_ : list of int
        Power-method iterations of each fitted component.
    n_components_ : int
        Number of components actually fitted: fewer than ``n_components`` after an early stop
        (constant Y residual, or the numerical rank of X reached); the columns of the missing
        components are zero.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cross_decomposition import PLSRegression as SkPLS
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((30, 200)), rng.standard_normal((30, 3))
    >>> ours = PLSRegression(n_components=5).fit(X, Y).predict(X[:4])
    >>> theirs = SkPLS(n_components=5, scale=False).fit(X, Y).predict(X[:4])
    >>> bool(np.allclose(ours, theirs, rtol=1e-9, atol=1e-12))
    True
    """

    def __init__(self, n_components=25, *, scale=False, max_iter=500, tol=1e-06):
        self.n_components = n_components
        self.scale = scale
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Training targets.

        Returns
        -------
        self : PLSRegression
            The fitted estimator.
        """
        X, Y = self._validate_fit_data(X, y)
        n_components = _check_n_components(self.n_components, n_samples=X.shape[0],
                                           n_features=X.shape[1])
        _check_iteration_options(self.max_iter, self.tol)
        X, Y, self.x_mean_, self.y_mean_, self.x_std_, self.y_std_ = _centre_scale(
            X, Y, scale=self.scale)
        kernels = _SplitKernels(X @ X.T, np.arange(len(X))[None])
        [fit], _, report = _batched_nipals(kernels, Y, n_components=n_components,
                                           max_iter=self.max_iter, tol=self.tol)
        report.warn(n_components, stacklevel=2)
        W, P = X.T @ fit.x_weights, X.T @ fit.x_loadings
        C, Q = fit.y_weights, fit.y_loadings
        _flip_signs(W, C, P, Q, n_fitted=fit.n_fitted)
        self.x_weights_, self.y_weights_, self.x_loadings_, self.y_loadings_ = W, C, P, Q
        self.x_rotations_ = W @ pinv(P.T @ W, check_finite=False)
        self.coef_ = (self.x_rotations_ @ Q.T * self.y_std_).T / self.x_std_
        self.intercept_ = self.y_mean_
        self.n_iter_ = fit.n_iter
        self.n_components_ = fit.n_fitted
        return self

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions; 1-D when the model was fit on a 1-D ``y``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but PLSRegression is expecting "
                             f"{self.n_features_in_} features as input")
        y_pred = (X - self.x_mean_) @ self.coef_.T + self.intercept_
        return y_pred.ravel() if self._y_1d else y_pred

    def _validate_fit_data(self, X, y):
        if y is None:
            raise ValueError("PLSRegression requires y to be passed, but the target y is None")
        check_consistent_length(X, y)
        X = check_array(X, dtype=np.float64, copy=True, ensure_min_samples=2)
        Y = check_array(y, dtype=np.float64, copy=True, ensure_2d=False, input_name="y")
        self._y_1d = Y.ndim == 1
        self.n_features_in_ = X.shape[1]
        return X, Y.reshape(len(Y), -1)
