"""Out-of-core linear kernels, and (n x n) features that reproduce a layer's kernel exactly.

PLS neural predictivity in kernel form sees a layer's features X (n_stimuli x n_units) only
through the linear kernel of the column-centred features, ``G = Xc Xc^T``. ``G`` is accumulated
over column blocks read from disk (:func:`centered_gram`), so a layer with millions of units
never sits in memory; :func:`kernel_features` then returns F (n x n) with ``Fc Fc^T = G`` (to
round-off), which scores identically to X under any metric that depends on X only through ``G``.

RDMs need a little more: correlation distances centre each stimulus's pattern over units, and
euclidean ones divide by the number of units. :func:`kernel_moments` accumulates, in the same
pass, the row sums and the column-mean terms from which the uncentred and row-centred kernels
follow exactly, and :func:`rdm_features` returns (n x 2n or n x n) features with the layer's RDM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .device import resolve_device


#: RDM kinds that :func:`rdm_features` reproduces from kernel moments.
STREAMED_RDMS = ("correlation", "euclidean")


@dataclass(frozen=True)
class KernelMoments:
    """A layer's second moments over stimuli, accumulated over column blocks of X (n_stimuli, n_units).

    Attributes
    ----------
    gram : (n, n) float64, the centred kernel ``Xc Xc^T`` (columns centred over stimuli).
    row_sums : (n,) float64, ``X 1`` (each stimulus's sum over units).
    cross : (n,) float64, ``Xc mu`` with ``mu`` the (n_units,) column means.
    mean_square : ``mu . mu``.
    n_units : the number of units d.
    """

    gram: np.ndarray
    row_sums: np.ndarray
    cross: np.ndarray
    mean_square: float
    n_units: int

    def uncentred(self) -> np.ndarray:
        """``X X^T`` (n, n): ``Xc Xc^T + Xc mu 1^T + 1 mu^T Xc^T + (mu . mu) 1 1^T``."""
        return self.gram + self.cross[:, None] + self.cross[None, :] + self.mean_square

    def row_centred(self) -> np.ndarray:
        """The kernel of the rows centred over units (what correlation distances see): ``X X^T - s s^T / d``."""
        return self.uncentred() - np.outer(self.row_sums, self.row_sums) / self.n_units

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"gram": self.gram, "row_sums": self.row_sums, "cross": self.cross,
                "mean_square": np.float64(self.mean_square), "n_units": np.int64(self.n_units)}

    @classmethod
    def from_arrays(cls, arrays) -> "KernelMoments":
        return cls(gram=arrays["gram"], row_sums=arrays["row_sums"], cross=arrays["cross"],
                   mean_square=float(arrays["mean_square"]), n_units=int(arrays["n_units"]))


def kernel_moments(blocks: Iterable[np.ndarray], *, device: str = "cpu", backend: str | None = None) -> KernelMoments:
    """:class:`KernelMoments` from column blocks of X, each (n_stimuli, block_units), in one pass.

    Each block is centred over stimuli (column means are per unit, so blocks are independent) and
    its contributions added in float64. ``backend`` ``"torch"`` runs the same float64 algebra in
    torch on ``device`` (the default off the CPU); ``"numpy"`` (the default on the CPU) uses NumPy.
    """
    target = resolve_device(device)
    backend = backend or ("numpy" if target.type == "cpu" else "torch")
    if backend not in ("numpy", "torch") or (backend == "numpy" and target.type != "cpu"):
        raise ValueError(f"backend {backend!r} cannot run on {target}")
    totals = None
    n_units = 0
    for block in blocks:
        if backend == "numpy":
            centred = np.array(block, dtype=np.float64)  # a copy: centred in place below
            row_sums = centred.sum(axis=1)
            mean = centred.mean(axis=0)
            centred -= mean
            parts = (centred @ centred.T, row_sums, centred @ mean, float(mean @ mean))
        else:
            import torch
            centred = torch.tensor(np.asarray(block), dtype=torch.float64, device=target)  # a copy
            row_sums = centred.sum(dim=1)
            mean = centred.mean(dim=0)
            centred -= mean
            parts = tuple(part.cpu().numpy() for part in (centred @ centred.T, row_sums, centred @ mean)) + (
                float(mean @ mean),)
        totals = parts if totals is None else tuple(total + part for total, part in zip(totals, parts))
        n_units += int(np.asarray(block).shape[1])
    if totals is None:
        raise ValueError("no column blocks given")
    gram, row_sums, cross, mean_square = totals
    return KernelMoments(gram=(gram + gram.T) / 2, row_sums=row_sums, cross=cross, mean_square=mean_square,
                         n_units=n_units)


def centered_gram(blocks: Iterable[np.ndarray], *, device: str = "cpu", backend: str | None = None) -> np.ndarray:
    """``Xc Xc^T`` (float64, shape (n_stimuli, n_stimuli)) from column blocks of X (see :func:`kernel_moments`)."""
    return kernel_moments(blocks, device=device, backend=backend).gram


def kernel_features(gram: np.ndarray) -> np.ndarray:
    """F of shape (n, n), float64, with ``F F^T = gram`` and zero column means.

    ``gram`` must be a centred linear kernel (symmetric, positive semi-definite, rows summing to
    zero). F = V sqrt(max(L, 0)) from the eigendecomposition ``gram = V L V^T``; eigenvectors with
    non-zero eigenvalues are orthogonal to the all-ones vector, so F's columns are centred and
    the linear kernel of F is ``gram`` again.
    """
    features = _factor(gram)
    features -= features.mean(axis=0)  # removes the round-off left in the null-space columns
    return features


def rdm_features(moments: KernelMoments, method: str) -> np.ndarray:
    """Features F whose ``method`` RDM (:func:`brainalign.metrics.rsa.rdm_from_features`) is the layer's.

    ``correlation``: with R the kernel of the rows centred over units and ``R = G G^T``,
    ``F = [G, -G]`` (n, 2n) has rows of zero mean and the same inner products up to a factor 2,
    so the same correlations; a stimulus whose pattern's variance over units is below 1e-12 of its
    mean square gets a zero row, which the RDM refuses as constant (the direct computation would
    resolve smaller spreads, the kernel cannot). ``euclidean`` (rsatoolbox's mean squared
    difference over units):
    ``F = kernel_features(gram) * sqrt(n / d)``, whose squared distances are the layer's scaled
    from d units to n columns.
    """
    if method == "correlation":
        centred = moments.row_centred()
        factor = _factor(centred)
        # a pattern (nearly) constant over units has no correlation: a zero row lets the RDM refuse it
        factor[np.diag(centred) <= 1e-12 * np.maximum(np.diag(moments.uncentred()), np.finfo(np.float64).tiny)] = 0.0
        return np.hstack([factor, -factor])
    if method == "euclidean":
        return kernel_features(moments.gram) * np.sqrt(len(moments.gram) / moments.n_units)
    raise ValueError(f"no RDM features for method {method!r} (only {', '.join(STREAMED_RDMS)})")


def _factor(gram: np.ndarray) -> np.ndarray:
    """G (n, n) with ``G G^T = gram`` for a symmetric positive semi-definite ``gram``, largest components first."""
    values, vectors = np.linalg.eigh(np.asarray(gram, dtype=np.float64))
    tolerance = max(values.max(initial=0.0), 0.0) * len(values) * np.finfo(np.float64).eps
    values = np.where(values > tolerance, values, 0.0)
    return (vectors * np.sqrt(values))[:, ::-1].copy()
