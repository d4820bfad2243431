"""Array backends for the regression and correlation kernels: NumPy (default) or torch.

The torch backend runs the same float64 algebra on a torch device (``"cuda"`` when present,
else the CPU), so results equal NumPy's to round-off. torch is only imported when asked for.
"""

from __future__ import annotations

import numpy as np

from brainalign.errors import InputError

__all__ = ["BACKENDS", "Backend", "get_backend"]

BACKENDS = ("numpy", "torch")


class Backend:
    """The handful of operations the metrics need, on NumPy arrays or torch tensors.

    Parameters
    ----------
    name : {"numpy", "torch"}
    device : str, default=None
        torch device; None picks ``"cuda"`` when available, else ``"cpu"``.
    """

    def __init__(self, name="numpy", device=None):
        if name not in BACKENDS:
            raise InputError(f"unknown backend {name!r}", hint=f"use one of {', '.join(BACKENDS)}")
        self.name = name
        if name == "torch":
            try:
                import torch
            except ImportError as error:  # pragma: no cover - torch is a core dependency
                raise InputError("the torch backend needs torch installed") from error
            self._torch = torch
            self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        else:
            self.device = "cpu"

    def asarray(self, array):
        """float64 array (or tensor on the device)."""
        if self.name == "numpy":
            return np.asarray(array, dtype=np.float64)
        return self._torch.as_tensor(np.asarray(array, dtype=np.float64), device=self.device)

    def to_numpy(self, array):
        return array if self.name == "numpy" else array.detach().cpu().numpy()

    def eigh(self, matrix):
        """Eigenvalues (ascending) and eigenvectors of symmetric matrices (..., n, n)."""
        if self.name == "numpy":
            return np.linalg.eigh(matrix)
        return self._torch.linalg.eigh(matrix)

    def sum(self, array, axis, keepdims=False):
        if self.name == "numpy":
            return array.sum(axis=axis, keepdims=keepdims)
        return array.sum(dim=axis, keepdim=keepdims)

    def sqrt(self, array):
        return np.sqrt(array) if self.name == "numpy" else self._torch.sqrt(array)

    def argmin(self, array, axis):
        return np.argmin(array, axis=axis) if self.name == "numpy" else self._torch.argmin(array, dim=axis)

    def take_along(self, array, index, axis):
        if self.name == "numpy":
            return np.take_along_axis(array, index, axis=axis)
        return self._torch.take_along_dim(array, index, dim=axis)

    def clip(self, array, low, high):
        return np.clip(array, low, high) if self.name == "numpy" else self._torch.clamp(array, low, high)


def get_backend(backend="numpy", device=None) -> Backend:
    """A :class:`Backend` from a name (or the instance itself)."""
    return backend if isinstance(backend, Backend) else Backend(backend, device)


def pearson_columns_backend(a, b, backend="numpy", device=None):
    """Pearson r between matching columns of (n_samples, n_columns) arrays on a backend.

    NaN for a constant column; returns a NumPy array. Equals
    :func:`brainalign.metrics.correlation.pearson_columns` (``nan_policy="propagate"``).
    """
    xp = get_backend(backend, device)
    a, b = xp.asarray(a), xp.asarray(b)
    a = a - xp.sum(a, 0, keepdims=True) / a.shape[0]
    b = b - xp.sum(b, 0, keepdims=True) / b.shape[0]
    norms = xp.to_numpy(xp.sqrt(xp.sum(a * a, 0) * xp.sum(b * b, 0)))
    covariance = xp.to_numpy(xp.sum(a * b, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = covariance / norms
    r[norms == 0] = np.nan
    return np.clip(r, -1.0, 1.0)
