"""Gram matrices and linear centred kernel alignment (CKA), with biased and unbiased HSIC.

For features X of shape (n, p) the linear Gram matrix is K = X X^T; centring is HKH with
H = I - 11^T / n. A squared-Euclidean RDM D gives the centred Gram of the same points directly:
HKH = -1/2 H D H, so CKA also compares a model with an RDM-only target.

Biased HSIC (Gretton et al. 2005): HSIC_b(K, L) = tr(K H L H) / (n - 1)^2.
Unbiased HSIC (Song et al. 2012), for n >= 4, with K~ and L~ the Grams with zeroed diagonals:
HSIC_u = [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n (n-3)).
CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) (Kornblith et al. 2019); with the biased HSIC
this is <HKH, HLH>_F / (||HKH||_F ||HLH||_F).
"""

from __future__ import annotations

import numpy as np

from brainalign.errors import DataError


def _check_features(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise DataError(f"{name} must be 2-D (stimuli x units), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return x


def _check_gram(k, name: str) -> np.ndarray:
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise DataError(f"{name} must be a square (n, n) matrix, got shape {k.shape}")
    if not np.isfinite(k).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return k


def gram_linear(x) -> np.ndarray:
    """Linear Gram matrix K = X X^T of ``x`` (n_stimuli, n_units); returns (n_stimuli, n_stimuli)."""
    x = _check_features(x, "features")
    return x @ x.T


def center_gram(k) -> np.ndarray:
    """HKH with H = I - 11^T/n, for a symmetric (n, n) Gram ``k``."""
    k = _check_gram(k, "Gram matrix")
    return k - k.mean(axis=0, keepdims=True) - k.mean(axis=1, keepdims=True) + k.mean()


def gram_from_squared_distances(d) -> np.ndarray:
    """The centred Gram -1/2 H D H of points whose squared Euclidean distances are ``d`` (n, n)."""
    return -0.5 * center_gram(d)


def hsic(k, l, *, unbiased: bool = False) -> float:
    """HSIC between Gram matrices ``k`` and ``l`` (both (n, n)); the unbiased estimator needs n >= 4.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(4, 3)
    >>> k = gram_linear(x)
    >>> round(hsic(k, k) / hsic(k, k), 6)
    1.0
    """
    k, l = _check_gram(k, "first Gram matrix"), _check_gram(l, "second Gram matrix")
    if k.shape != l.shape:
        raise DataError(f"Gram matrices over different numbers of stimuli: {k.shape} vs {l.shape}")
    n = k.shape[0]
    if not unbiased:
        if n < 2:
            raise DataError("HSIC needs at least 2 stimuli")
        return float(np.sum(center_gram(k) * l) / (n - 1) ** 2)
    if n < 4:
        raise DataError(f"the unbiased HSIC needs at least 4 stimuli, got {n}")
    k = k.copy()
    l = l.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(l, 0.0)
    k_sum, l_sum = k.sum(axis=0), l.sum(axis=0)
    value = np.sum(k * l) + k_sum.sum() * l_sum.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (k_sum @ l_sum)
    return float(value / (n * (n - 3)))


def cka_from_grams(k, l, *, unbiased: bool = False) -> float:
    """Linear CKA between two (n, n) Gram matrices; DataError if either has zero centred variance."""
    kk, ll = hsic(k, k, unbiased=unbiased), hsic(l, l, unbiased=unbiased)
    if _flat_gram(k) or _flat_gram(l) or kk <= 0 or ll <= 0:
        raise DataError("CKA is undefined: a representation has no positive variance across stimuli "
                        "(e.g. every stimulus gives the same pattern)")
    return float(hsic(k, l, unbiased=unbiased) / np.sqrt(kk * ll))


def _flat_gram(k) -> bool:
    """Whether the centred Gram ``k`` is zero up to rounding (every stimulus has the same pattern)."""
    k = np.asarray(k, dtype=np.float64)
    return bool(np.abs(center_gram(k)).max() <= 1e-10 * max(np.abs(k).max(), 1e-300))


def linear_cka(x, y, *, unbiased: bool = False) -> float:
    """Linear CKA between features ``x`` (n, p) and ``y`` (n, q) over the same n stimuli (same row order).

    Invariant to orthogonal transforms and isotropic scaling of either side.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((10, 5))
    >>> q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    >>> round(linear_cka(x, 3.0 * x @ q), 6)
    1.0
    """
    x, y = _check_features(x, "first features"), _check_features(y, "second features")
    if x.shape[0] != y.shape[0]:
        raise DataError(f"features over different numbers of stimuli: {x.shape[0]} vs {y.shape[0]}")
    for name, z in (("first", x), ("second", y)):
        if np.ptp(z, axis=0).max() <= 1e-10 * max(np.abs(z).max(), 1e-300):
            raise DataError(f"CKA is undefined: the {name} representation has no positive variance across "
                            "stimuli (every stimulus gives the same pattern)")
    if x.shape[1] > x.shape[0] or y.shape[1] > y.shape[0] or unbiased:
        return cka_from_grams(x @ x.T, y @ y.T, unbiased=unbiased)
    # feature-space form (Kornblith et al. 2019), cheaper when units < stimuli
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    xx, yy = np.linalg.norm(x.T @ x), np.linalg.norm(y.T @ y)
    return float(np.linalg.norm(y.T @ x) ** 2 / (xx * yy))
