"""Features for kernel-based scoring within a memory budget: in memory, or streamed to kernels.

:func:`features_for_scoring` runs the memory preflight. When the layers fit, it returns plain
activations (:func:`.extract.extract_activations`, content-cached). When they do not, it streams
them to a temporary HDF5 file, accumulates each layer's kernels out of core
(:func:`.kernel.kernel_moments`), caches them by content and returns (n x n) features computed
from them instead of the activations: identical PLS scores (:func:`.kernel.kernel_features`) or
identical RDMs (:func:`.kernel.rdm_features`), with ``attrs["n_units"]`` keeping the layer's
real width.
:func:`projected_features` streams a seeded sparse random projection of every layer instead, and
:func:`pca_features` an exact PCA fit on a separate image set, and :func:`sampled_features` a
seeded sample of units (texture metrics), all within the same memory bounds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
import xarray as xr

from ..config import cache_dir
from ..models.base import LoadedModel
from ..models.layers import layer_shapes
from ..safe_files import atomic_path, plain_name, temporary_dir
from ..stimuli.stimulus_set import StimulusSet
from .cache import CACHE_HINT, activation_key
from .device import resolve_device
from .extract import extract_activations
from .kernel import STREAMED_RDMS, KernelMoments, kernel_features, kernel_moments, rdm_features
from ..models.options import ExtractionOptions
from .preflight import MemoryPlan, preflight
from .reduction import check_disjoint, fitted_pca, paired_unit_blocks, sparse_projector
from .streaming import iter_row_blocks, iter_unit_blocks, stream_activations, stream_layers


def features_for_scoring(model: LoadedModel, stimuli: StimulusSet, layers,
                         extraction: ExtractionOptions = ExtractionOptions(), *, stream: bool | None = None,
                         rdm: str | None = None) -> tuple[dict[str, xr.DataArray], MemoryPlan]:
    """``({layer: DataArray(stimulus, unit)}, plan)`` for scoring ``layers`` of ``model`` on ``stimuli``.

    ``extraction`` sets the forward passes; its ``max_memory`` (bytes or e.g. ``"3GB"``; default
    80% of available memory) and ``stream`` (None: decide by the preflight; True / False: force)
    go to :func:`.preflight.preflight`.

    In ``stream`` mode each DataArray holds float64 features computed from the layer's
    out-of-core kernels, with the real width in ``attrs["n_units"]``: with ``rdm`` None, (n, n)
    kernel features (``attrs["representation"] == "kernel"``) for metrics that see features only
    through their centred linear kernel (PLS predictivity); with ``rdm`` ``"correlation"`` or
    ``"euclidean"``, features with the layer's RDM of that kind (``"rdm:<method>"``, see
    :func:`.kernel.rdm_features`) for RSA.
    """
    layers = list(layers)
    resolve_device(extraction.device)  # fail before any work when e.g. CUDA is absent
    if rdm not in STREAMED_RDMS + (None,):
        raise ValueError(f"RDMs of kind {rdm!r} cannot come from streamed kernels ({', '.join(STREAMED_RDMS)} can)")
    plan = _preflight(model, len(stimuli), layers, extraction, stream)
    if plan.mode == "memory":
        return _in_memory(model, stimuli, layers, extraction), plan
    kernels = streamed_kernels(model, stimuli, layers, replace(extraction, batch_size=plan.batch_size))
    result = {}
    for layer in layers:
        moments, shape = kernels[layer]
        values = kernel_features(moments.gram) if rdm is None else rdm_features(moments, rdm)
        result[layer] = _layer_array(values, stimuli, layer, layer_shape=shape, n_units=moments.n_units,
                                     representation="kernel" if rdm is None else f"rdm:{rdm}")
    return result, plan


def _preflight(model: LoadedModel, n_stimuli: int, layers, extraction: ExtractionOptions,
               stream: bool | None) -> MemoryPlan:
    return preflight(model, n_stimuli, layers, batch_size=extraction.batch_size, budget=extraction.max_memory,
                     stream=stream, stream_dir=_stream_dir())


def _extract(model: LoadedModel, stimuli: StimulusSet, layers,
             extraction: ExtractionOptions) -> dict[str, xr.DataArray]:
    """:func:`.extract.extract_activations` with ``extraction``'s settings (content-cached)."""
    return extract_activations(model, stimuli, layers, batch_size=extraction.batch_size, device=extraction.device,
                               precision=extraction.precision, progress=extraction.progress)


def _stream(model: LoadedModel, stimuli: StimulusSet, layers, path: str, extraction: ExtractionOptions,
            transform=None) -> str:
    """:func:`.streaming.stream_activations` to ``path`` with ``extraction``'s settings."""
    return stream_activations(model, stimuli, layers, path, batch_size=extraction.batch_size,
                              device=extraction.device, precision=extraction.precision, transform=transform,
                              progress=extraction.progress)


def _in_memory(model: LoadedModel, stimuli: StimulusSet, layers,
               extraction: ExtractionOptions) -> dict[str, xr.DataArray]:
    """The layers' activations (content-cached), each with its width in ``attrs["n_units"]``."""
    activations = _extract(model, stimuli, layers, extraction)
    for array in activations.values():
        array.attrs["n_units"] = int(array.shape[1])
    return activations


def _layer_array(values: np.ndarray, stimuli: StimulusSet, layer: str, **attrs) -> xr.DataArray:
    """``values`` (n_stimuli, n_columns) as a layer's DataArray (stimulus x unit) with ``attrs``."""
    return xr.DataArray(values, dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", stimuli.stimulus_ids)},
                        name=layer, attrs={"layer": layer, **attrs})


def _streamed_through(model: LoadedModel, stimuli: StimulusSet, layers, transform, extraction: ExtractionOptions, *,
                      attrs) -> dict[str, xr.DataArray]:
    """Each layer streamed through ``transform(layer, block)`` to a temporary HDF5 file and read back
    whole (small once transformed), with ``attrs(layer)`` and its ``layer_shape``."""
    with _stream_folder() as folder:
        path = _stream(model, stimuli, layers, f"{folder}/transformed.h5", extraction, transform=transform)
        info = stream_layers(path)
        return {layer: _layer_array(np.concatenate(list(iter_row_blocks(path, layer))), stimuli, layer,
                                    layer_shape=info[layer]["layer_shape"], **attrs(layer))
                for layer in layers}


def _stream_dir():
    return cache_dir() / "streams"


def _stream_folder():
    """A temporary folder under the cache's ``streams/`` (removed on exit; those of killed
    processes are swept), where a full or read-only cache is one StorageError."""
    return temporary_dir(_stream_dir(), "stream", hint=CACHE_HINT, legacy=True)


def _kernel_path(key: str):
    return cache_dir() / "kernels" / key[:2] / f"{plain_name(key, 'cache key')}.npz"


def streamed_kernels(model: LoadedModel, stimuli: StimulusSet, layers,
                     extraction: ExtractionOptions) -> dict[str, tuple[KernelMoments, list[int]]]:
    """``{layer: (KernelMoments, layer_shape)}``, from the kernel cache or by streaming.

    Missing layers are extracted in one streamed pass to a temporary HDF5 file (deleted after
    use); each layer's moments are then accumulated over column blocks and cached atomically.
    """
    variant = {"kind": "linear_kernel_moments", "precision": extraction.precision}
    keys = {layer: activation_key(weights_sha256=model.weights_sha256, stimuli_hash=stimuli.content_hash,
                                  layer=layer, preprocessing=model.preprocessing.to_dict(), variant=variant)
            for layer in layers}
    found = {}
    for layer, key in keys.items():
        path = _kernel_path(key)
        if path.is_file():
            with np.load(path) as stored:
                found[layer] = (KernelMoments.from_arrays(stored), [int(v) for v in stored["layer_shape"]])
    missing = [layer for layer in layers if layer not in found]
    if missing:
        with _stream_folder() as folder:
            stream = _stream(model, stimuli, missing, f"{folder}/activations.h5", extraction)
            info = stream_layers(stream)
            for layer in missing:
                moments = kernel_moments(iter_unit_blocks(stream, layer), device=extraction.device)
                shape = info[layer]["layer_shape"]
                with atomic_path(_kernel_path(keys[layer]), CACHE_HINT) as tmp:
                    with open(tmp, "wb") as handle:
                        np.savez(handle, layer_shape=np.asarray(shape, dtype=np.int64), **moments.to_arrays())
                found[layer] = (moments, shape)
    return found


def projected_features(model: LoadedModel, stimuli: StimulusSet, layers, n_components: int,
                       extraction: ExtractionOptions = ExtractionOptions(), *, seed: int) -> dict[str, xr.DataArray]:
    """``{layer: DataArray(stimulus, unit)}``: each layer wider than ``n_components`` sparse-randomly
    projected to ``n_components`` units batch by batch while it is extracted (``--reduce srp:N``).

    Peak memory is one batch of raw outputs plus the (n_stimuli, n_components) results, whatever
    the layers' width; rows are projected independently, so the result equals projecting the whole
    layer at once with the same seed. ``attrs["reduction"]`` records the projection and
    ``attrs["n_units"]`` the layer's real width. ``extraction.max_memory`` is not needed.
    """
    layers = list(layers)
    resolve_device(extraction.device)
    units = {layer: int(np.prod(shape)) for layer, shape in layer_shapes(model, layers).items()}
    projectors = {layer: sparse_projector(width, n_components, seed=seed)
                  for layer, width in units.items() if width > n_components}

    def project(layer: str, block: np.ndarray) -> np.ndarray:
        return projectors[layer][0](block) if layer in projectors else block

    def attrs(layer: str) -> dict:
        record = projectors[layer][1] if layer in projectors else {
            "method": "none", "reason": f"layer has {units[layer]} <= {n_components} units"}
        return {"n_units": units[layer], "reduction": record}

    return _streamed_through(model, stimuli, layers, project, extraction, attrs=attrs)


def pca_features(model: LoadedModel, stimuli: StimulusSet, fit_stimuli: StimulusSet, layers, n_components: int,
                 extraction: ExtractionOptions = ExtractionOptions(), *,
                 stream: bool | None = None) -> dict[str, xr.DataArray]:
    """``{layer: DataArray(stimulus, unit)}``: each layer wider than ``n_components`` replaced by its
    scores on the top principal axes of the same layer on ``fit_stimuli`` (``--reduce pca:N``).

    The fit images must not share stimulus ids with ``stimuli``. The PCA is exact and computed in
    one pass over unit blocks (:func:`.reduction.fitted_pca`), so it needs (n_fit + n) x n_fit
    numbers, never a layer's (units x components) axes. The preflight over both image sets decides
    whether the activations come from the cache in memory or are streamed to temporary HDF5 files
    first (``extraction.max_memory`` and ``stream`` as in :func:`features_for_scoring`).
    ``attrs["reduction"]`` records the fit and ``attrs["n_units"]`` the layer's real width.
    """
    check_disjoint(fit_stimuli.stimulus_ids, stimuli.stimulus_ids)
    layers = list(layers)
    resolve_device(extraction.device)
    plan = _preflight(model, len(stimuli) + len(fit_stimuli), layers, extraction, stream)
    if plan.mode == "memory":
        fit = _extract(model, fit_stimuli, layers, extraction)
        scored = _extract(model, stimuli, layers, extraction)
        return {layer: _pca_layer(layer, plan.units[layer], scored[layer].attrs.get("layer_shape"), n_components,
                                  lambda layer=layer: paired_unit_blocks(fit[layer].values, scored[layer].values),
                                  lambda layer=layer: np.asarray(scored[layer].values), stimuli)
                for layer in layers}
    with _stream_folder() as folder:
        fit_stream, scored_stream = (
            _stream(model, images, layers, f"{folder}/{name}.h5", replace(extraction, batch_size=plan.batch_size))
            for name, images in (("fit", fit_stimuli), ("scored", stimuli)))
        info = stream_layers(scored_stream)
        return {layer: _pca_layer(layer, plan.units[layer], info[layer]["layer_shape"], n_components,
                                  lambda layer=layer: zip(iter_unit_blocks(fit_stream, layer),
                                                          iter_unit_blocks(scored_stream, layer)),
                                  lambda layer=layer: np.concatenate(list(iter_row_blocks(scored_stream, layer))),
                                  stimuli)
                for layer in layers}


def _pca_layer(layer: str, n_units: int, shape, n_components: int, blocks, values,
               stimuli: StimulusSet) -> xr.DataArray:
    """One layer's DataArray for :func:`pca_features`: PCA scores, or the layer itself when narrow enough."""
    if n_units <= n_components:
        reduced, record = values(), {"method": "none", "reason": f"layer has {n_units} <= {n_components} units"}
    else:
        reduced, record = fitted_pca(blocks(), n_components)
    return _layer_array(np.asarray(reduced, dtype=np.float32), stimuli, layer, n_units=n_units, reduction=record,
                        **({} if shape is None else {"layer_shape": list(shape)}))


def sampled_features(model: LoadedModel, stimuli: StimulusSet, layers, sample: Callable[[int], np.ndarray | None],
                     extraction: ExtractionOptions = ExtractionOptions(), *,
                     stream: bool | None = None) -> dict[str, xr.DataArray]:
    """``{layer: DataArray(stimulus, unit)}`` for metrics that use a seeded sample of each layer's units.

    ``sample(n_units)`` gives the sorted unit indices to keep (None: all). When the preflight finds
    that the layers fit (``extraction.max_memory`` and ``stream`` as in :func:`features_for_scoring`) they are
    returned whole, to be sampled by the metric; otherwise they are streamed to disk keeping only
    the sampled units of each batch, with ``attrs["units_sampled"]`` set and the real width in
    ``attrs["n_units"]``: the same values the metric would have sampled.
    """
    layers = list(layers)
    resolve_device(extraction.device)
    plan = _preflight(model, len(stimuli), layers, extraction, stream)
    if plan.mode == "memory":
        return _in_memory(model, stimuli, layers, extraction)
    keep = {layer: sample(units) for layer, units in plan.units.items()}

    def select(layer: str, block: np.ndarray) -> np.ndarray:
        return block if keep[layer] is None else block[:, keep[layer]]

    return _streamed_through(model, stimuli, layers, select, replace(extraction, batch_size=plan.batch_size),
                             attrs=lambda layer: {"n_units": plan.units[layer], "units_sampled": keep[layer] is not None})
