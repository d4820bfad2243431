"""Column-wise correlation and the Spearman-Brown prophecy formula.

Both functions are pure: they take arrays and return arrays, in float64.
"""

from __future__ import annotations

import numpy as np

from brainalign.errors import DataError, InputError

__all__ = ["pearson_columns", "spearman_brown"]

_NAN_POLICIES = ("propagate", "omit")


def pearson_columns(a, b, *, nan_policy="propagate"):
    """Pearson correlation between matching columns of two arrays.

    Parameters
    ----------
    a : array-like of shape (n_samples, n_columns)
        First set of columns, e.g. predicted responses of ``n_columns`` neuroids.
    b : array-like of shape (n_samples, n_columns)
        Second set of columns, e.g. measured responses.
    nan_policy : {"propagate", "omit"}, default="propagate"
        ``"propagate"``: a column with a NaN in either input gives NaN.
        ``"omit"``: each column uses only the rows where both inputs are finite
        (pairwise-complete observations).

    Returns
    -------
    r : ndarray of shape (n_columns,)
        Pearson r of ``a[:, j]`` with ``b[:, j]``, computed in float64 without a
        Python loop over columns and clipped to [-1, 1].

    Raises
    ------
    DataError
        If ``a`` and ``b`` are not 2-D arrays of the same shape.
    InputError
        If ``nan_policy`` is not one of the options.

    Notes
    -----
    A column that is constant (in either input) has no defined correlation: its
    r is NaN, without a warning. So is a column with fewer than 2 usable rows.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    >>> b = np.array([[2.0, 0.0], [4.0, 1.0], [7.0, 2.0]])
    >>> np.round(pearson_columns(a, b), 4)
    array([0.9934,    nan])
    """
    a, b = _check_pair(a, b, nan_policy=nan_policy)
    if nan_policy == "omit":
        usable = np.isfinite(a) & np.isfinite(b)
        a, b = np.where(usable, a, 0.0), np.where(usable, b, 0.0)
    else:
        usable = np.ones(a.shape, dtype=bool)
    counts = usable.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_centred = np.where(usable, a - a.sum(axis=0) / counts, 0.0)
        b_centred = np.where(usable, b - b.sum(axis=0) / counts, 0.0)
        covariance = np.einsum("ij,ij->j", a_centred, b_centred)
        norms = np.sqrt(np.einsum("ij,ij->j", a_centred, a_centred)
                        * np.einsum("ij,ij->j", b_centred, b_centred))
        r = covariance / norms
    r[(norms == 0) | (counts < 2)] = np.nan
    return np.clip(r, -1.0, 1.0)


def spearman_brown(r, n=2.0):
    """Spearman-Brown prophecy: the reliability of ``n`` times as much data.

    Parameters
    ----------
    r : float or array-like
        Reliability (correlation) of one part, e.g. a split-half correlation.
    n : float, default=2.0
        Length factor; ``n=2`` corrects a split-half correlation to full length.

    Returns
    -------
    corrected : float or ndarray
        ``n * r / (1 + (n - 1) * r)``, elementwise, same shape as ``r``.

    Notes
    -----
    NaN stays NaN; ``r = -1 / (n - 1)`` divides by zero and gives an infinity,
    without a warning.

    Examples
    --------
    >>> float(spearman_brown(0.5))
    0.6666666666666666
    """
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        corrected = n * r / (1.0 + (n - 1.0) * r)
    return corrected[()] if corrected.ndim == 0 else corrected


def _check_pair(a, b, *, nan_policy):
    if nan_policy not in _NAN_POLICIES:
        raise InputError(f"nan_policy must be one of {_NAN_POLICIES}, got {nan_policy!r}")
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise DataError(
            f"pearson_columns needs two 2-D arrays of the same shape, got {a.shape} and {b.shape}",
            hint="pass arrays of shape (n_samples, n_columns); reshape a single column with .reshape(-1, 1)",
        )
    return a, b
