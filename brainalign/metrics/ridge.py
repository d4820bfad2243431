"""Ridge regression with a per-target penalty chosen by efficient leave-one-out (GCV).

For centred train features ``X_c = U S V^T`` (or the centred train kernel ``K_c = U L U^T``,
``L = S^2``), the ridge fit with an unpenalised intercept has the hat matrix
``H = 1 1^T / n + U diag(l / (l + alpha)) U^T``, so every leave-one-out residual over a whole
grid of penalties follows from one decomposition per fold::

    e_i(alpha) = (y_c - U diag(f) U^T y_c)_i / (1 - 1/n - sum_k U_ik^2 f_k),  f = l / (l + alpha)

The penalty of each target is the grid value with the smallest mean squared LOO residual
(the first one on ties), exactly what scikit-learn's ``RidgeCV(alphas,
alpha_per_target=True)`` (efficient LOO, ``fit_intercept=True``) selects; the coefficients are
the ridge solution at that penalty, ``V diag(s / (s^2 + alpha)) U^T y_c``.
"""

from __future__ import annotations

import numpy as np

from brainalign._lazy import lazy_attributes
from brainalign.errors import DataError, InputError
from brainalign.metrics.backend import get_backend

__all__ = ["DEFAULT_ALPHAS", "PerTargetRidgeCV", "kernel_cv_ridge_predict"]

DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 8, 12))


# ``PerTargetRidgeCV``, the scikit-learn estimator, lives in :mod:`.ridge_estimator`: the kernel path
# (:func:`kernel_cv_ridge_predict`) then never imports scikit-learn, which takes about a second.
__getattr__ = lazy_attributes(__name__, {"PerTargetRidgeCV": "brainalign.metrics.ridge_estimator"})


def kernel_cv_ridge_predict(gram, Y, splits, *, alphas=DEFAULT_ALPHAS, backend="numpy", device=None):
    """Held-out per-target RidgeCV predictions for each split, from the linear kernel alone.

    For every ``(train_idx, test_idx)``, returns what ``RidgeCV(alphas,
    alpha_per_target=True).fit(X[train_idx], Y[train_idx]).predict(X[test_idx])`` returns.

    Parameters
    ----------
    gram : ndarray of shape (n_stimuli, n_stimuli)
        Linear kernel ``X X^T`` (any column-centring).
    Y : ndarray of shape (n_stimuli, n_targets)
    splits : sequence of (ndarray, ndarray)
    alphas : sequence of float, default=DEFAULT_ALPHAS
        Penalty grid; pass one value for a plain ridge with that penalty.
    backend : {"numpy", "torch"}, default="numpy"
        Where the algebra runs (:mod:`.backend`); the same results on the CPU.
    device : str, default=None
        torch device for ``backend="torch"``.

    Returns
    -------
    predictions : list of ndarray of shape (n_test, n_targets)
    chosen : ndarray of shape (n_splits, n_targets)
        The penalty chosen for each target in each split.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((30, 50)), rng.standard_normal((30, 2))
    >>> preds, chosen = kernel_cv_ridge_predict(X @ X.T, Y, [(np.arange(20), np.arange(20, 30))])
    >>> preds[0].shape, chosen.shape
    ((10, 2), (1, 2))
    """
    xp = get_backend(backend, device)
    alphas = _check_alphas(alphas)
    gram = np.asarray(gram, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or Y.ndim != 2 or Y.shape[0] != gram.shape[0]:
        raise DataError(f"kernel {gram.shape} and targets {Y.shape} do not match",
                        hint="pass a square kernel and Y of shape (n_stimuli, n_targets)")
    gram_x, Y_x = xp.asarray(gram), xp.asarray(Y)
    alphas_x = xp.asarray(alphas)
    predictions, chosen = [], []
    for train, test in splits:
        train, test = np.asarray(train), np.asarray(test)
        if len(train) < 3:
            raise DataError(f"a split has {len(train)} train stimuli; leave-one-out ridge needs at least 3")
        K = gram_x[train][:, train]
        column_means = xp.sum(K, 0) / len(train)
        total = xp.sum(column_means, 0) / len(train)
        K_c = K - column_means[None, :] - column_means[:, None] + total
        lam, U = xp.eigh((K_c + K_c.T) / 2)
        lam = _numerical_zeros_to_zero(lam, len(train), xp)
        y_mean = xp.sum(Y_x[train], 0) / len(train)
        Yc = Y_x[train] - y_mean
        UtY = U.T @ Yc
        mse = _loo_mse(U, lam, Yc, UtY, alphas_x, xp=xp)
        best = xp.argmin(mse, 0)
        alpha = alphas_x[best]
        dual = U @ (UtY / (lam[:, None] + alpha[None, :]))
        K_test = gram_x[test][:, train]
        K_test_c = K_test - xp.sum(K_test, 1, keepdims=True) / len(train) - column_means[None, :] + total
        predictions.append(xp.to_numpy(K_test_c @ dual + y_mean))
        chosen.append(xp.to_numpy(alpha))
    return predictions, np.stack(chosen)


def _numerical_zeros_to_zero(lam, n, xp):
    """Eigenvalues (r,) of a centred PSD kernel with those below rounding error set to exactly 0.

    Centring leaves an exact null space (the constant vector at least); LAPACK returns its
    eigenvalues as +-1e-14 noise whose sign differs between libraries, and a positive one changes
    the leave-one-out residuals enough to flip near-ties between alphas.
    """
    lam = xp.to_numpy(lam)
    return xp.asarray(np.where(lam > lam.max() * n * np.finfo(np.float64).eps, lam, 0.0))


def _loo_mse(U, lam, Yc, UtY, alphas, xp=None):
    """Mean squared LOO residuals (n_alphas, n_targets) of ridge with an unpenalised intercept."""
    xp = get_backend() if xp is None else xp
    n = Yc.shape[0]
    shrink = lam[None, :] / (lam[None, :] + alphas[:, None])            # (n_alphas, r)
    fitted = U[None] @ (shrink[:, :, None] * UtY[None])                  # (n_alphas, n, t)
    leverage = 1.0 / n + (U * U) @ shrink.T                              # (n, n_alphas)
    residual = (Yc[None] - fitted) / (1.0 - leverage.T)[:, :, None]
    return xp.sum(residual * residual, 1) / n


def _check_alphas(alphas):
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if alphas.ndim != 1 or len(alphas) == 0 or not (alphas > 0).all() or not np.isfinite(alphas).all():
        raise InputError(f"alphas must be positive finite numbers, got {alphas!r}")
    return alphas
