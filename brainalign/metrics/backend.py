"""Array backends for the ridge kernels: NumPy (default) or torch.

The torch backend runs the same float64 algebra on a torch device (``"cuda"`` when present,
else the CPU), so results equal NumPy's to round-off. torch is only imported when asked for.
"""

from __future__ import annotations

import numpy as np

from brainalign.errors import InputError
from brainalign.metrics.options import BACKENDS

__all__ = ["BACKENDS", "Backend", "get_backend"]


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

    def argmin(self, array, axis):
        return np.argmin(array, axis=axis) if self.name == "numpy" else self._torch.argmin(array, dim=axis)


def get_backend(backend="numpy", device=None) -> Backend:
    """A :class:`Backend` from a name (or the instance itself)."""
    return backend if isinstance(backend, Backend) else Backend(backend, device)

