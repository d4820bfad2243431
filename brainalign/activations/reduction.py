"""Out-of-core dimensionality reduction of wide layers (scikit-learn estimators, fed in blocks).

- :func:`sparse_projector`: a seeded :class:`sklearn.random_projection.SparseRandomProjection`
  applied batch by batch (e.g. as ``transform`` of :func:`.streaming.stream_activations`), so the
  (n_stimuli x n_units) layer is never formed. Rows are projected independently, so the streamed
  result equals ``fit_transform`` of the whole matrix with the same seed.
- :func:`incremental_pca`: :class:`sklearn.decomposition.IncrementalPCA` fitted with
  ``partial_fit`` over row blocks of a stream file, then applied block by block.

Both return float32 (n_stimuli, n_components) and record their parameters (and seed) in the
``reduction`` dict they return, for the score record.

- :func:`reduce_activations`: ``--reduce srp:N | pca:N`` of ``brainalign score``, on in-memory
  layers; PCA is fit on a separate image set, never on the scored stimuli.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator

import numpy as np
import scipy.sparse
import xarray as xr
from sklearn.decomposition import IncrementalPCA
from sklearn.random_projection import SparseRandomProjection

from ..errors import InputError
from .streaming import CHUNK_UNITS, iter_row_blocks, stream_layers, unit_blocks


def sparse_projector(n_units: int, n_components: int, *, seed: int,
                     density="auto") -> tuple[Callable[[np.ndarray], np.ndarray], dict]:
    """``(project, record)``: ``project`` maps float (batch, n_units) to float32 (batch, n_components).

    The projection matrix is sparse (about ``n_components * sqrt(n_units)`` non-zeros with the
    default density ``1 / sqrt(n_units)``, Li et al. 2006), so it stays small for millions of units.
    """
    if not 1 <= n_components:
        raise InputError(f"n_components must be positive, got {n_components}")
    projection = SparseRandomProjection(n_components=n_components, density=density, dense_output=True,
                                        random_state=seed)
    projection.fit(scipy.sparse.csr_matrix((1, n_units), dtype=np.float32))

    def project(block: np.ndarray) -> np.ndarray:
        return np.asarray(projection.transform(np.asarray(block, dtype=np.float32)), dtype=np.float32)

    record = {"method": "sparse_random_projection", "n_components": n_components, "seed": seed,
              "density": float(projection.density_), "n_units": n_units}
    return project, record


def incremental_pca(stream: str | os.PathLike, layer: str, n_components: int, *, block_rows: int = 256
                    ) -> tuple[np.ndarray, dict]:
    """``(scores, record)``: the top ``n_components`` PCA scores of ``layer`` in a stream file.

    Fits IncrementalPCA with ``partial_fit`` over row blocks of ``block_rows`` stimuli (the last
    block is merged into the previous one if smaller than ``n_components``), then transforms block
    by block. Memory: the (n_components x n_units) components plus one block. The result equals
    ``IncrementalPCA(n_components, batch_size=block_rows).fit_transform`` of the whole layer.
    """
    info = stream_layers(stream)
    if layer not in info:
        raise InputError(f"layer {layer!r} is not in {stream}", hint=f"layers there: {', '.join(info)}")
    if block_rows < n_components:
        raise InputError(f"block_rows ({block_rows}) must be at least n_components ({n_components})")
    pca = IncrementalPCA(n_components=n_components, batch_size=block_rows)
    for block in _merged_blocks(stream, layer, block_rows, n_components):
        pca.partial_fit(block)
    scores = np.concatenate([pca.transform(block) for block in iter_row_blocks(stream, layer, block_rows=block_rows)])
    record = {"method": "incremental_pca", "n_components": n_components, "block_rows": block_rows,
              "explained_variance_ratio": float(pca.explained_variance_ratio_.sum()),
              "n_units": info[layer]["n_units"]}
    return scores.astype(np.float32), record


def _merged_blocks(stream, layer, block_rows, minimum):
    """Row blocks, with a too-small last block merged into the one before (IncrementalPCA needs >= k rows)."""
    previous = None
    for block in iter_row_blocks(stream, layer, block_rows=block_rows):
        if previous is not None and len(block) < minimum:
            block = np.concatenate([previous, block])
            previous = None
        if previous is not None:
            yield previous
        previous = block
    if previous is not None:
        yield previous


def parse_reduction(spec: str | None) -> tuple[str, int] | None:
    """``"srp:1000"`` / ``"pca:1000"`` -> ``("srp", 1000)``; None or ``"none"`` -> None."""
    if spec in (None, "", "none"):
        return None
    method, _, count = str(spec).partition(":")
    if method not in ("srp", "pca") or not count.isdigit() or int(count) < 1:
        raise InputError(f"unknown reduction {spec!r}",
                         hint="use srp:N (sparse random projection) or pca:N (PCA fit on --reduce-fit images)")
    return method, int(count)


def reduce_activations(activations: dict[str, xr.DataArray], spec: str | None, *, seed: int = 0,
                       fit: dict[str, xr.DataArray] | None = None) -> dict[str, xr.DataArray]:
    """Each layer (DataArray stimulus x unit) reduced to at most N units, the method in ``attrs["reduction"]``.

    ``srp:N``: seeded sparse random projection (no fitting, so no information from the scored
    stimuli leaks into it). ``pca:N``: PCA fit on ``fit`` ({layer: DataArray}, activations of a
    *separate* image set, as Brain-Score fits its PCA on ImageNet images) and applied to the
    scored stimuli. Layers with at most N units are left as they are (recorded as such).
    """
    parsed = parse_reduction(spec)
    if parsed is None:
        return activations
    method, n_components = parsed
    if method == "pca" and fit is None:
        raise InputError("pca:N needs a separate image set to fit the PCA on",
                         hint="pass --reduce-fit SOURCE (a folder or zip of images not in the benchmark), or use srp:N")
    reduced = {}
    for layer, array in activations.items():
        n_units = int(array.shape[1])
        if n_units <= n_components:
            record = {"method": "none", "reason": f"layer has {n_units} <= {n_components} units"}
            values = np.asarray(array.values)
        elif method == "srp":
            project, record = sparse_projector(n_units, n_components, seed=seed)
            values = project(array.values)
        else:
            values, record = _pca(array, fit[layer], n_components)
        reduced[layer] = xr.DataArray(values.astype(np.float32), dims=("stimulus", "unit"),
                                      coords={"stimulus_id": array["stimulus_id"]}, name=layer,
                                      attrs={**array.attrs, "reduction": record, "n_units": n_units})
    return reduced


def _pca(array: xr.DataArray, fit_array: xr.DataArray, n_components: int) -> tuple[np.ndarray, dict]:
    check_disjoint(fit_array["stimulus_id"].values, array["stimulus_id"].values)
    return fitted_pca(paired_unit_blocks(fit_array.values, array.values), n_components)


def check_disjoint(fit_ids, scored_ids) -> None:
    """Refuse a PCA fit set that shares stimulus ids with the scored stimuli."""
    overlap = set(np.asarray(fit_ids).astype(str)) & set(np.asarray(scored_ids).astype(str))
    if overlap:
        raise InputError(f"the PCA fit images share {len(overlap)} stimulus ids with the scored stimuli "
                         f"(e.g. {sorted(overlap)[0]!r})", hint="fit the PCA on images the benchmark does not use")


def paired_unit_blocks(fit: np.ndarray, scored: np.ndarray, *, block_units: int = CHUNK_UNITS
                       ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Column blocks of two (n_fit, n_units) and (n, n_units) arrays over the same units, left to right."""
    return zip(unit_blocks(fit, block_units=block_units), unit_blocks(scored, block_units=block_units))


def fitted_pca(blocks: Iterable[tuple[np.ndarray, np.ndarray]], n_components: int) -> tuple[np.ndarray, dict]:
    """``(scores, record)``: PCA fit on one image set, applied to another, in one pass over unit blocks.

    ``blocks`` yields column blocks ``(fit (n_fit, b), scored (n, b))`` of the same units. With
    ``Fc`` the column-centred fit features and ``m`` their column means, the pass accumulates the
    fit kernel ``G = Fc Fc^T`` and the cross kernel ``C = (Y - m) Fc^T``; from ``G = U S^2 U^T``
    the principal axes are ``Fc^T U / S``, so the scores are ``C U / S``: exactly PCA's
    ``transform`` (equal to scikit-learn's full-SVD PCA up to each component's sign) with memory
    (n_fit + n) x n_fit, whatever the number of units. Each component's sign makes its largest
    fit-set score positive. Components with zero variance (beyond the fit set's rank) are dropped.

    Returns float64 (n, k) scores, k <= min(n_components, n_fit - 1), and the record.
    """
    gram = cross = None
    n_units = 0
    for fit_block, scored_block in blocks:
        fit_block = np.array(fit_block, dtype=np.float64)  # a copy: centred in place below
        mean = fit_block.mean(axis=0)
        fit_block -= mean
        part = np.asarray(scored_block, dtype=np.float64) - mean
        gram = fit_block @ fit_block.T if gram is None else gram + fit_block @ fit_block.T
        cross = part @ fit_block.T if cross is None else cross + part @ fit_block.T
        n_units += fit_block.shape[1]
    if gram is None:
        raise ValueError("no unit blocks given")
    values, vectors = np.linalg.eigh((gram + gram.T) / 2)
    values, vectors = values[::-1], vectors[:, ::-1]
    tolerance = max(values[0], 0.0) * len(values) * np.finfo(np.float64).eps
    k = int(min(n_components, np.count_nonzero(values > tolerance)))
    if k == 0:
        raise InputError(f"the {len(gram)} PCA fit image(s) have no variance in this layer",
                         hint="fit the PCA on more (and different) images")
    values, vectors = values[:k], vectors[:, :k]
    vectors = vectors * np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(k)])
    scores = cross @ (vectors / np.sqrt(values))
    record = {"method": "pca", "n_components": k, "solver": "exact (eigendecomposition of the fit-set kernel)",
              "fit_stimuli": len(gram), "n_units": n_units,
              "explained_variance_ratio": float(values.sum() / np.trace(gram))}
    return scores, record
