"""Out-of-core linear kernels, and (n x n) features that reproduce a layer's kernel exactly.

PLS neural predictivity in kernel form sees a layer's features X (n_stimuli x n_units) only
through the linear kernel of the column-centred features, ``G = Xc Xc^T``. ``G`` is accumulated
over column blocks read from disk (:func:`centered_gram`), so a layer with millions of units
never sits in memory; :func:`kernel_features` then returns F (n x n) with ``Fc Fc^T = G`` (to
round-off), which scores identically to X under any metric that depends on X only through ``G``.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .device import resolve_device


def centered_gram(blocks: Iterable[np.ndarray], *, device: str = "cpu", backend: str | None = None) -> np.ndarray:
    """``Xc Xc^T`` (float64) from column blocks of X, each (n_stimuli, block_units).

    Each block is centred over stimuli (column means are per unit, so blocks are independent)
    and its contribution added in float64. ``backend`` ``"torch"`` runs the same float64 algebra
    in torch on ``device`` (the default off the CPU); ``"numpy"`` (the default on the CPU) uses NumPy.

    Returns
    -------
    ndarray of shape (n_stimuli, n_stimuli), float64.
    """
    target = resolve_device(device)
    backend = backend or ("numpy" if target.type == "cpu" else "torch")
    if backend not in ("numpy", "torch") or (backend == "numpy" and target.type != "cpu"):
        raise ValueError(f"backend {backend!r} cannot run on {target}")
    gram = None
    for block in blocks:
        if backend == "numpy":
            centred = np.asarray(block, dtype=np.float64)
            centred -= centred.mean(axis=0)
            part = centred @ centred.T
        else:
            import torch
            centred = torch.as_tensor(np.asarray(block), device=target).to(torch.float64)
            centred -= centred.mean(dim=0)
            part = (centred @ centred.T).cpu().numpy()
        gram = part if gram is None else gram + part
    if gram is None:
        raise ValueError("no column blocks given")
    return (gram + gram.T) / 2


def kernel_features(gram: np.ndarray) -> np.ndarray:
    """F of shape (n, n), float64, with ``F F^T = gram`` and zero column means.

    ``gram`` must be a centred linear kernel (symmetric, positive semi-definite, rows summing to
    zero). F = V sqrt(max(L, 0)) from the eigendecomposition ``gram = V L V^T``; eigenvectors with
    non-zero eigenvalues are orthogonal to the all-ones vector, so F's columns are centred and
    the linear kernel of F is ``gram`` again.
    """
    values, vectors = np.linalg.eigh(np.asarray(gram, dtype=np.float64))
    tolerance = max(values.max(initial=0.0), 0.0) * len(values) * np.finfo(np.float64).eps
    values = np.where(values > tolerance, values, 0.0)
    features = vectors * np.sqrt(values)
    features -= features.mean(axis=0)  # removes the round-off left in the null-space columns
    return features[:, ::-1].copy()    # largest components first
