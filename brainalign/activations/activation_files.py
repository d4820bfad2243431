"""Activation files: NetCDF4 with one variable per layer (dims ``stimulus`` x ``unit``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, FileFormatError
from ..netcdf import open_netcdf
from ..safe_files import atomic_path, dumps_json, ensure_space

_UNIT_DIM = "unit__{}"


def save_activations(activations: dict[str, xr.DataArray], path: str | os.PathLike, *,
                     provenance: dict) -> Path:
    """Write ``{layer: DataArray(stimulus, unit)}`` to one NetCDF4 file atomically.

    Each layer becomes a variable named after it, with its own unit dimension
    (``unit__<layer>``); ``stimulus_id`` is a coordinate on ``stimulus``; ``provenance`` is stored
    as JSON in the file's ``brainalign_provenance`` attribute. Values that are NaN or infinite
    (in float32) raise :class:`~brainalign.errors.DataError` before anything is written.
    """
    variables, stimulus_ids = {}, None
    for layer, array in activations.items():
        ids = array["stimulus_id"].values
        if stimulus_ids is None:
            stimulus_ids = ids
        elif not np.array_equal(ids, stimulus_ids):
            raise ValueError("all layers must share one stimulus order")
        attrs = {"layer": layer}
        if "layer_shape" in array.attrs:
            attrs["layer_shape"] = np.asarray(array.attrs["layer_shape"], dtype=np.int64)
        variables[layer] = (("stimulus", _UNIT_DIM.format(layer)), _finite_float32(array.values, layer), attrs)
    dataset = xr.Dataset(variables, coords={"stimulus_id": ("stimulus", np.asarray(stimulus_ids, dtype=str))},
                         attrs={"brainalign_provenance": dumps_json(provenance, sort_keys=True, indent=None),
                                "layers": dumps_json(list(activations), indent=None)})
    ensure_space(Path(path).parent, dataset.nbytes)   # HDF5 cannot survive a write that fails half way
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp, engine="h5netcdf")
    return Path(path)


def _finite_float32(values, layer: str) -> np.ndarray:
    """``values`` as float32; DataError if any is NaN or infinite (also after the cast), as scoring would say."""
    with np.errstate(over="ignore"):
        values = np.asarray(values, np.float32)
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise DataError(f"activations of layer {layer!r} contain {bad} NaN or infinite value(s) of {values.size}; "
                        "nothing was written",
                        hint="check the checkpoint's weights for NaN/Inf and the model's numerics (e.g. input "
                             "normalisation)")
    return values


def load_activations(path: str | os.PathLike) -> dict[str, xr.DataArray]:
    """Read a file written by ``brainalign extract``: ``{layer: DataArray(stimulus, unit)}``.

    The provenance dict is in each array's ``attrs["provenance"]``.
    """
    path = Path(path)
    dataset = open_netcdf(path, label="activations", missing_hint="run `brainalign extract` first",
                          hint="is it complete and written by `brainalign extract`?")
    try:
        layers = json.loads(dataset.attrs["layers"])
        provenance = json.loads(dataset.attrs["brainalign_provenance"])
    except (KeyError, ValueError) as exc:  # no brainalign attributes, or not JSON
        raise FileFormatError(f"cannot read {path} as a brainalign activations file ({type(exc).__name__})",
                              hint="is it complete and written by `brainalign extract`?") from None
    if not isinstance(provenance, dict):
        provenance = {}
    result = {}
    for layer in layers:
        if layer not in dataset.data_vars or "stimulus_id" not in dataset.coords \
                or dataset[layer].dims != ("stimulus", _UNIT_DIM.format(layer)):
            raise FileFormatError(f"{path.name}: layer {layer!r} is not a (stimulus, {_UNIT_DIM.format(layer)}) "
                                  "variable with a stimulus_id coordinate",
                                  hint="the file was changed after `brainalign extract` wrote it; extract it again")
        variable = dataset[layer].rename({_UNIT_DIM.format(layer): "unit"})
        attrs = {"layer": layer, "provenance": provenance}
        if "layer_shape" in variable.attrs:
            attrs["layer_shape"] = [int(v) for v in np.atleast_1d(variable.attrs["layer_shape"])]
        result[layer] = xr.DataArray(variable.values, dims=("stimulus", "unit"),
                                     coords={"stimulus_id": ("stimulus", dataset["stimulus_id"].values.astype(str))},
                                     name=layer, attrs=attrs)
    return result


def is_brainalign_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an activations file written by ``brainalign extract`` (HDF5 with its attributes)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        import h5py

        with h5py.File(path, "r") as handle:
            return "layers" in handle.attrs and "brainalign_provenance" in handle.attrs
    except Exception:  # not HDF5 (NetCDF3, .npy, ...): not ours
        return False


def open_activations(path: str | os.PathLike, *, stimulus_ids: str | os.PathLike | None = None
                     ) -> tuple[dict[str, xr.DataArray], dict | None]:
    """Activations from any supported file, and the model provenance when the file records one.

    Files written by ``brainalign extract`` give their recorded model (missing fields None);
    anything else is read by :func:`brainalign.activations.foreign.read_foreign_activations` and
    gives None (provenance unknown). ``stimulus_ids`` (a text file, one id per row) names the rows
    of files that do not carry ids themselves.
    """
    from .foreign import read_foreign_activations

    if is_brainalign_file(path) and stimulus_ids is None:
        layers = load_activations(path)
        model = next(iter(layers.values())).attrs["provenance"].get("model") if layers else None
        if isinstance(model, dict) and model.get("spec"):
            defaults = {"checkpoint": None, "weights_sha256": "unknown", "seed": None, "preprocessing": None}
            return layers, {**defaults, **model}
        return layers, None
    return read_foreign_activations(path, stimulus_ids=stimulus_ids), None
