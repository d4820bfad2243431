"""Partial least squares regression (PLS2, NIPALS) that is fast when features outnumber stimuli.

scikit-learn's ``PLSRegression`` runs the NIPALS power method on the centred feature matrix
``X`` of shape (n_samples, n_features): every step costs ``O(n_samples * n_features)``. Every
quantity the algorithm computes from X is an inner product of rows of X or of their deflated
residuals, so the identical algorithm runs in dual (kernel) form on ``K = X_c X_c^T`` at
``O(n_samples^2)`` per step: an X weight vector is kept as dual coefficients ``a`` with
``w = X_k^T a`` (``X_k`` the deflated X), its X score is ``K_k a``, and deflating
``X_k <- (I - t t^T / t^T t) X_k`` deflates ``K_k`` the same way on both sides. Feature-space
weights, loadings and coefficients are recovered at the end by undoing the deflations on the
dual coefficients and multiplying by ``X_c^T``; in cross-validation only the kernel is needed,
and a test stimulus's prediction is its centred kernel row times the dual coefficients.

Notes
-----
Reproduced from ``sklearn/cross_decomposition/_pls.py`` (scikit-learn 1.9): X and Y centred
(and scaled by their ddof=1 standard deviation when ``scale=True``); per component, Y columns
whose residual is all below ``10 * eps`` set to 0; ``_get_first_singular_vectors_power_method``
in mode A starting from the first Y residual column with an entry above ``eps``, X weights
normalised as ``w / (||w|| + eps)``, stopping when the squared change of the X weights is below
``tol`` (after one step when Y has one column), ``ConvergenceWarning`` at ``max_iter``; early
stop with a warning when the Y residual is constant; ``_svd_flip_1d`` sign convention (largest
absolute X weight positive; predictions do not depend on it); regression deflation of X and Y
on the X score; ``coef_ = W pinv(P^T W) Q^T`` rescaled by the standard deviations and
``intercept_`` the Y mean. The iteration counts equal scikit-learn's.

Where this differs: scikit-learn keeps going when ``n_components`` exceeds the numerical rank
of the centred X and then fits round-off (its predictions change arbitrarily); here the fit
stops, with a warning, once the residual kernel's trace falls below ``n_samples * eps`` times
the initial trace, which is what the algorithm gives in exact arithmetic.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import pinv
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from brainalign.errors import DataError, InputError

__all__ = ["PLSRegression", "kernel_cv_pls_predict", "linear_kernel"]

_EPS = np.finfo(np.float64).eps


class _ConstantResidual(Exception):
    """The Y residual has no column with an entry above machine epsilon."""


class PLSRegression(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """PLS2 regression with scikit-learn's exact NIPALS algorithm, run in kernel form.

    Gives the same predictions as ``sklearn.cross_decomposition.PLSRegression`` (up to
    round-off, about 1e-12 relative) at a cost of ``O(n_samples^2 * n_features)`` for the kernel
    plus ``O(n_samples^2)`` per power-method step, instead of ``O(n_samples * n_features)`` per
    step. Meant for ``n_features >> n_samples``; it holds an (n_samples, n_samples) kernel.

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
        fit = _kernel_nipals(X @ X.T, Y, n_components=n_components, max_iter=self.max_iter,
                             tol=self.tol)
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


def kernel_cv_pls_predict(gram, Y, splits, *, n_components=25, max_iter=500, tol=1e-06):
    """Held-out PLS predictions for each split, from the linear kernel alone.

    For every ``(train_idx, test_idx)``, returns what
    ``sklearn.cross_decomposition.PLSRegression(n_components, scale=False)
    .fit(X[train_idx], Y[train_idx]).predict(X[test_idx])`` returns, without ``X``.

    Parameters
    ----------
    gram : ndarray of shape (n_stimuli, n_stimuli)
        Linear kernel ``K = X X^T`` of the features (float64), e.g. from :func:`linear_kernel`.
        Any column-centring of X is allowed: each split is re-centred on its train mean.
    Y : ndarray of shape (n_stimuli, n_targets)
        Targets.
    splits : sequence of (ndarray, ndarray)
        ``(train_idx, test_idx)`` pairs of indices into the stimuli.
    n_components : int, default=25
        Number of PLS components; at most the number of train stimuli. Fewer are fitted, with a
        warning, when the centred train kernel has a lower numerical rank.
    max_iter : int, default=500
        Maximum number of power-method iterations per component.
    tol : float, default=1e-06
        Convergence tolerance of the power method.

    Returns
    -------
    predictions : list of ndarray of shape (n_test, n_targets)
        Held-out predictions, one array per split, in the order of ``test_idx``.

    Raises
    ------
    DataError
        If ``gram`` is not square or does not match the rows of ``Y``.
    InputError
        If ``n_components`` exceeds a train set or an option is out of range.

    Notes
    -----
    The kernel does not know the number of features: the caller must ensure
    ``n_components <= n_features``, as scikit-learn requires.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((40, 300)), rng.standard_normal((40, 2))
    >>> split = (np.arange(30), np.arange(30, 40))
    >>> [pred] = kernel_cv_pls_predict(linear_kernel(X), Y, [split], n_components=3)
    >>> pred.shape
    (10, 2)
    """
    gram, Y = _check_kernel_inputs(gram, Y)
    _check_iteration_options(max_iter, tol)
    predictions = []
    for train, test in splits:
        _check_n_components(n_components, n_samples=len(train))
        K_train, K_test = _centred_kernels(gram, train, test)
        Y_train = Y[train]
        y_mean = Y_train.mean(axis=0)
        fit = _kernel_nipals(K_train, Y_train - y_mean, n_components=n_components,
                             max_iter=max_iter, tol=tol)
        predictions.append(K_test @ fit.dual_coef(K_train) + y_mean)
    return predictions


def linear_kernel(X, *, chunk_size=4096):
    """Linear kernel of column-centred features, accumulated over feature chunks.

    Parameters
    ----------
    X : array-like of shape (n_stimuli, n_features)
        Features, any real dtype (float32 stays float32 in memory).
    chunk_size : int, default=4096
        Number of features converted to float64 at a time; peak extra memory is
        ``8 * n_stimuli * chunk_size`` bytes plus the kernel.

    Returns
    -------
    gram : ndarray of shape (n_stimuli, n_stimuli)
        ``X_c X_c^T`` in float64, where ``X_c`` is X minus its column means.

    Raises
    ------
    DataError
        If X is not 2-D.
    InputError
        If ``chunk_size`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    >>> linear_kernel(X, chunk_size=1)
    array([[ 2., -2.],
           [-2.,  2.]])
    """
    if not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"features must be a 2-D array (n_stimuli, n_features), got shape {X.shape}")
    gram = np.zeros((X.shape[0], X.shape[0]))
    for start in range(0, X.shape[1], chunk_size):
        block = X[:, start:start + chunk_size].astype(np.float64)
        block -= block.mean(axis=0)
        gram += block @ block.T
    return gram


class _KernelFit:
    """A NIPALS fit in dual form: X weights and loadings as ``X_c^T @ x_weights`` etc."""

    def __init__(self, x_weights, x_loadings, y_weights, y_loadings, n_iter):
        self.x_weights, self.x_loadings = x_weights, x_loadings
        self.y_weights, self.y_loadings = y_weights, y_loadings
        self.n_iter = n_iter
        self.n_fitted = len(n_iter)

    def dual_coef(self, K):
        """Dual regression matrix B, shape (n_samples, n_targets): predictions ``K_test @ B``."""
        loadings_weights = self.x_loadings.T @ K @ self.x_weights  # P^T W in feature space
        return self.x_weights @ pinv(loadings_weights, check_finite=False) @ self.y_loadings.T


def _kernel_nipals(K, Y, *, n_components, max_iter, tol):
    """scikit-learn's PLS2 NIPALS loop (mode A, regression deflation) on ``K = X_c X_c^T``.

    ``Y`` is the centred target, modified in place. Stops early when the Y residual is
    constant or the residual kernel is numerically zero; the columns of components not fitted
    stay zero.
    """
    Kk, n_samples, n_targets = K.copy(), K.shape[0], Y.shape[1]
    A, P, T = (np.zeros((n_samples, n_components)) for _ in range(3))
    C, Q = np.zeros((n_targets, n_components)), np.zeros((n_targets, n_components))
    n_iter = []
    zero_trace = np.trace(K) * n_samples * _EPS
    for k in range(n_components):
        if np.trace(Kk) <= zero_trace:
            warnings.warn(f"n_components={n_components} exceeds the numerical rank of the "
                          f"centred features; fitted {k} components", stacklevel=3)
            break
        Y[:, np.all(np.abs(Y) < 10 * _EPS, axis=0)] = 0.0
        try:
            a, t, c, iterations = _kernel_power_method(Kk, Y, max_iter=max_iter, tol=tol)
        except _ConstantResidual:
            warnings.warn(f"y residual is constant at iteration {k}", stacklevel=3)
            break
        tt = t @ t
        q = (t @ Y) / tt
        Kt = Kk @ t
        Kk -= (np.outer(t, Kt) + np.outer(Kt, t)) / tt - np.outer(t, t) * ((t @ Kt) / tt**2)
        Y -= np.outer(t, q)
        # w = X_k^T a and p = X_k^T t / tt, expressed on the undeflated X
        A[:, k], P[:, k] = _undo_deflations(a, T[:, :k]), _undo_deflations(t, T[:, :k]) / tt
        T[:, k], C[:, k], Q[:, k] = t, c, q
        n_iter.append(iterations)
    return _KernelFit(A, P, C, Q, n_iter)


def _kernel_power_method(K, Y, *, max_iter, tol):
    """``_get_first_singular_vectors_power_method`` of scikit-learn (mode A) in dual form.

    The X weights are ``w = X_k^T a``; returns ``a``, the X score ``t = K a``, the Y weights
    and the number of iterations. ``||w||^2 = a^T K a`` and
    ``||w - w_old||^2 = (a - a_old) . (t - t_old)``.
    """
    try:
        y_score = next(column for column in Y.T if np.any(np.abs(column) > _EPS))
    except StopIteration:
        raise _ConstantResidual from None
    a_old = t_old = None
    for i in range(max_iter):
        projected = K @ y_score
        yy = y_score @ y_score
        scale = 1.0 / yy / (np.sqrt(max(y_score @ projected, 0.0)) / yy + _EPS)
        a, t = scale * y_score, scale * projected
        c = (Y.T @ t) / (t @ t)
        y_score = (Y @ c) / (c @ c + _EPS)
        if Y.shape[1] == 1 or (a_old is not None and (a - a_old) @ (t - t_old) < tol):
            break
        a_old, t_old = a, t
    if i + 1 == max_iter:
        warnings.warn("Maximum number of iterations reached", ConvergenceWarning, stacklevel=4)
    return a, t, c, i + 1


def _undo_deflations(a, scores):
    """Dual coefficients on the undeflated X of ``X_k^T a``, with ``X_k = P_{k-1}...P_0 X``.

    ``P_j = I - t_j t_j^T / t_j^T t_j`` for the earlier X scores ``t_j`` (columns of ``scores``).
    """
    a = a.copy()
    for j in reversed(range(scores.shape[1])):
        t = scores[:, j]
        a -= t * ((t @ a) / (t @ t))
    return a


def _flip_signs(W, C, P, Q, *, n_fitted):
    """``_svd_flip_1d`` per component: the largest absolute X weight becomes positive.

    Negation is exact in floating point, so flipping afterwards equals flipping inside the loop.
    """
    fitted = slice(0, n_fitted)
    signs = np.sign(W[np.argmax(np.abs(W[:, fitted]), axis=0), np.arange(n_fitted)])
    for matrix in (W, C, P, Q):
        matrix[:, fitted] *= signs


def _centre_scale(X, Y, *, scale):
    """Centre (and, with ``scale``, standardise) X and Y in place, as scikit-learn does.

    Returns X, Y, their means and their scales (ones without ``scale``).
    """
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    X -= x_mean
    Y -= y_mean
    x_std, y_std = np.ones(X.shape[1]), np.ones(Y.shape[1])
    if scale:
        for data, std in ((X, x_std), (Y, y_std)):
            std[:] = data.std(axis=0, ddof=1)
            std[std == 0.0] = 1.0
            data /= std
    return X, Y, x_mean, y_mean, x_std, y_std


def _centred_kernels(gram, train, test):
    """Train-train and test-train kernels of the features centred on the train mean."""
    K_train = gram[np.ix_(train, train)]
    K_test = gram[np.ix_(test, train)]
    train_mean = K_train.mean(axis=0)  # <x_j, m> for train rows j and the train mean m
    mean_norm = train_mean.mean()  # <m, m>
    K_train = K_train - train_mean[:, None] - train_mean[None, :] + mean_norm
    K_test = K_test - K_test.mean(axis=1, keepdims=True) - train_mean[None, :] + mean_norm
    return K_train, K_test


def _check_kernel_inputs(gram, Y):
    gram = np.asarray(gram, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1]:
        raise DataError(f"the kernel must be a square 2-D array, got shape {gram.shape}")
    if Y.ndim != 2 or Y.shape[0] != gram.shape[0]:
        raise DataError(
            f"targets of shape {Y.shape} do not match a kernel over {gram.shape[0]} stimuli",
            hint="pass Y of shape (n_stimuli, n_targets) in the kernel's stimulus order",
        )
    return gram, Y


def _check_n_components(n_components, *, n_samples, n_features=None):
    """scikit-learn's bound ``n_components <= min(n_samples, n_features)`` (n_features if known)."""
    if not isinstance(n_components, Integral) or n_components < 1:
        raise InputError(f"n_components must be a positive integer, got {n_components!r}")
    sizes = {"samples": n_samples, "features": n_features}
    for name, size in sizes.items():
        if size is not None and n_components > size:
            raise InputError(f"n_components={n_components} exceeds the number of {name} ({size})",
                             hint="reduce n_components")
    return int(n_components)


def _check_iteration_options(max_iter, tol):
    if not isinstance(max_iter, Integral) or max_iter < 1:
        raise InputError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not isinstance(tol, Real) or tol < 0:
        raise InputError(f"tol must be a non-negative number, got {tol!r}")
