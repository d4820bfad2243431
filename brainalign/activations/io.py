"""Activation files: NetCDF4 with one variable per layer (dims ``stimulus`` x ``unit``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from .._io import atomic_path, ensure_space
from ..errors import FileFormatError

_UNIT_DIM = "unit__{}"


def save_activations(activations: dict[str, xr.DataArray], path: str | os.PathLike, *,
                     provenance: dict) -> Path:
    """Write ``{layer: DataArray(stimulus, unit)}`` to one NetCDF4 file atomically.

    Each layer becomes a variable named after it, with its own unit dimension
    (``unit__<layer>``); ``stimulus_id`` is a coordinate on ``stimulus``; ``provenance`` is stored
    as JSON in the file's ``brainalign_provenance`` attribute.
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
        variables[layer] = (("stimulus", _UNIT_DIM.format(layer)), np.asarray(array.values, np.float32), attrs)
    dataset = xr.Dataset(variables, coords={"stimulus_id": ("stimulus", np.asarray(stimulus_ids, dtype=str))},
                         attrs={"brainalign_provenance": json.dumps(provenance, sort_keys=True),
                                "layers": json.dumps(list(activations))})
    ensure_space(Path(path).parent, dataset.nbytes)   # HDF5 cannot survive a write that fails half way
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp, engine="h5netcdf")
    return Path(path)


def load_activations(path: str | os.PathLike) -> dict[str, xr.DataArray]:
    """Read a file written by ``brainalign extract``: ``{layer: DataArray(stimulus, unit)}``.

    The provenance dict is in each array's ``attrs["provenance"]``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"activations file not found: {path}", hint="run `brainalign extract` first")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as opened:
            dataset = opened.load()
        layers = json.loads(dataset.attrs["layers"])
        provenance = json.loads(dataset.attrs["brainalign_provenance"])
    except Exception as exc:  # h5py/h5netcdf raise many types for bad files
        raise FileFormatError(f"cannot read {path} as a brainalign activations file ({type(exc).__name__})",
                              hint="is it complete and written by `brainalign extract`?") from None
    result = {}
    for layer in layers:
        variable = dataset[layer].rename({_UNIT_DIM.format(layer): "unit"})
        attrs = {"layer": layer, "provenance": provenance}
        if "layer_shape" in variable.attrs:
            attrs["layer_shape"] = [int(v) for v in np.atleast_1d(variable.attrs["layer_shape"])]
        result[layer] = xr.DataArray(variable.values, dims=("stimulus", "unit"),
                                     coords={"stimulus_id": ("stimulus", dataset["stimulus_id"].values.astype(str))},
                                     name=layer, attrs=attrs)
    return result
