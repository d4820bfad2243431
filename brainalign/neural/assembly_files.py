"""NetCDF4 (HDF5) reading and writing of assemblies through h5netcdf, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from ..errors import FileFormatError
from ..netcdf import open_netcdf
from ..safe_files import atomic_path, dumps_json, ensure_space
from .assembly import validate_assembly


def write_assembly(assembly: xr.DataArray, path: str | os.PathLike) -> Path:
    """Validate and write ``assembly`` to ``path`` (NetCDF4 via h5netcdf), atomically.

    Non-scalar attributes (dicts, lists) are stored as JSON strings.
    """
    assembly = validate_assembly(assembly, nan_policy="missing")
    attrs = {k: v if isinstance(v, (str, int, float)) else dumps_json(v, indent=None) for k, v in assembly.attrs.items()}
    data = assembly.copy()
    data.attrs = attrs
    data.name = data.name or "responses"
    ensure_space(Path(path).parent, data.nbytes)   # HDF5 cannot survive a write that fails half way
    with atomic_path(path) as tmp:
        data.to_netcdf(tmp, engine="h5netcdf")
    return Path(path)


def read_assembly(path: str | os.PathLike, *, nan_policy: str = "missing") -> xr.DataArray:
    """Read an assembly written by :func:`write_assembly`, or any NetCDF file in the schema.

    A plain DataArray will do: dims ``presentation`` x ``neuroid`` [x ``time_bin``] with a
    ``stimulus_id`` coordinate on ``presentation``. When the file holds several variables, the
    one with both dims is taken; neuroids without a ``neuroid_id`` are numbered ``n00000``...
    and, without a ``repetition`` coordinate, the presentations of each stimulus are numbered
    0, 1, ... in file order (both recorded in ``attrs``).
    """
    path = Path(path)
    dataset = open_netcdf(path, label="assembly", missing_hint="check the path", engine=None,
                          hint="is the file complete and written by xarray, brainalign or Brain-Score?")
    candidates = [name for name, v in dataset.data_vars.items() if {"presentation", "neuroid"} <= set(v.dims)]
    if len(candidates) != 1:
        found = ", ".join(f"{name}{tuple(map(str, v.dims))}" for name, v in dataset.data_vars.items()) or "none"
        raise FileFormatError(f"{path.name}: expected one variable with dims presentation x neuroid, found {found}",
                              hint="an assembly is a DataArray (presentation, neuroid) with a stimulus_id coordinate")
    assembly = dataset[candidates[0]]
    if "neuroid_id" not in assembly.coords:
        n = assembly.sizes["neuroid"]
        assembly = assembly.assign_coords(neuroid_id=("neuroid", [f"n{i:05d}" for i in range(n)]))
        assembly.attrs["neuroid_id"] = "numbered by position (the file had no neuroid_id)"
    if "repetition" not in assembly.coords and "stimulus_id" in assembly.coords \
            and assembly["stimulus_id"].dims == ("presentation",):
        import pandas as pd

        ids = assembly["stimulus_id"].values.astype(str)
        repetition = pd.Series(ids).groupby(ids).cumcount()
        assembly = assembly.assign_coords(repetition=("presentation", repetition.to_numpy()))
        if repetition.max() > 0:
            assembly.attrs["repetition"] = "numbered in file order per stimulus (the file had no repetition)"
    return validate_assembly(assembly, nan_policy=nan_policy)
