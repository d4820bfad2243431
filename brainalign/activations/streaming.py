"""Activations streamed to disk one batch at a time, into chunked HDF5.

Layout of a stream file (plain HDF5, readable with h5py or ``h5dump``)::

    /stimulus_id            (n_stimuli,) utf-8 strings, in extraction order
    /layers/<layer>         (n_stimuli, n_units) float32, chunked (batch_size, <= CHUNK_UNITS)
                            attrs: layer, layer_shape
    attrs: brainalign_provenance (JSON)

Chunks hold whole batches of rows, so each batch is written as complete chunks, and column
blocks (:func:`iter_unit_blocks`) read back in ``n_stimuli / batch_size`` chunks each. Peak memory
is one batch of every layer plus one column block, never a whole (stimulus x unit) layer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator

import h5py
import numpy as np

from ..errors import FileFormatError
from ..models.base import LoadedModel
from ..safe_files import atomic_path, dumps_json
from ..stimuli.stimulus_set import StimulusSet
from .extract import iter_batches

#: Units per HDF5 chunk column block (with 32-row batches: 2 MiB chunks of float32).
CHUNK_UNITS = 16384


def stream_activations(model: LoadedModel, stimuli: StimulusSet, layers, path: str | os.PathLike, *,
                       batch_size: int = 32, device: str = "cpu", precision: str = "fp32",
                       transform: Callable[[str, np.ndarray], np.ndarray] | None = None,
                       provenance: dict | None = None, progress: bool = True) -> Path:
    """Extract ``layers`` batch by batch into the HDF5 file ``path`` (written atomically).

    Parameters
    ----------
    transform : optional ``f(layer, batch)`` mapping a float32 (batch, n_units) block to
        (batch, k) before it is written, e.g. a sparse random projection
        (:func:`brainalign.activations.reduction.sparse_projector`).
    provenance : JSON-serialisable dict stored in the file's attributes.

    Returns
    -------
    Path of the finished file.
    """
    n = len(stimuli)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            handle.create_dataset("stimulus_id", data=np.asarray(stimuli.stimulus_ids, dtype=object),
                                  dtype=h5py.string_dtype())
            handle.attrs["brainalign_provenance"] = dumps_json(provenance or {}, sort_keys=True, indent=None)
            group = handle.create_group("layers")
            for batch, outputs in iter_batches(model, stimuli, layers, batch_size=batch_size, device=device,
                                               precision=precision, progress=progress):
                for layer, output in outputs.items():
                    block = output.reshape(len(batch), -1)
                    if transform is not None:
                        block = np.asarray(transform(layer, block), dtype=np.float32)
                    if layer not in group:
                        units = block.shape[1]
                        dataset = group.create_dataset(layer, shape=(n, units), dtype=np.float32,
                                                       chunks=(min(batch_size, n), min(units, CHUNK_UNITS)))
                        dataset.attrs["layer"] = layer
                        dataset.attrs["layer_shape"] = np.asarray(output.shape[1:], dtype=np.int64)
                    group[layer][batch.start:batch.stop] = block
            handle.attrs["layers"] = dumps_json(list(layers), indent=None)
    return Path(path)


def _open(path: str | os.PathLike) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError:
        raise FileFormatError(f"cannot read {path} as an HDF5 activation stream",
                              hint="is it complete and written by brainalign?") from None


def stream_layers(path: str | os.PathLike) -> dict[str, dict]:
    """``{layer: {"n_units", "layer_shape"}}`` of a stream file, without reading any values."""
    with _open(path) as handle:
        return {name: {"n_units": int(d.shape[1]), "layer_shape": [int(v) for v in d.attrs["layer_shape"]]}
                for name, d in ((n, handle["layers"][n]) for n in json.loads(handle.attrs["layers"]))}


def stream_stimulus_ids(path: str | os.PathLike) -> np.ndarray:
    """(n_stimuli,) str: the row order of every layer in the stream file."""
    with _open(path) as handle:
        return handle["stimulus_id"].asstr()[:].astype(str)


def iter_unit_blocks(path: str | os.PathLike, layer: str, *, block_units: int = CHUNK_UNITS
                     ) -> Iterator[np.ndarray]:
    """Column blocks of one layer: float32 (n_stimuli, <= block_units), left to right."""
    with _open(path) as handle:
        dataset = handle["layers"][layer]
        for start in range(0, dataset.shape[1], block_units):
            yield dataset[:, start:start + block_units]


def unit_blocks(values: np.ndarray, *, block_units: int = CHUNK_UNITS) -> Iterator[np.ndarray]:
    """Column blocks (n_stimuli, <= block_units) of an in-memory or memory-mapped array, left to right."""
    for start in range(0, values.shape[1], block_units):
        yield values[:, start:start + block_units]


def iter_row_blocks(path: str | os.PathLike, layer: str, *, block_rows: int = 256) -> Iterator[np.ndarray]:
    """Row blocks of one layer: float32 (<= block_rows, n_units), top to bottom."""
    with _open(path) as handle:
        dataset = handle["layers"][layer]
        for start in range(0, dataset.shape[0], block_rows):
            yield dataset[start:start + block_rows]
