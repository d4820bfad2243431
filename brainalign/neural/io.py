"""NetCDF4 (HDF5) reading and writing of assemblies through h5netcdf, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import xarray as xr

from .._io import atomic_path, ensure_space
from ..errors import FileFormatError
from .assembly import validate_assembly


def write_assembly(assembly: xr.DataArray, path: str | os.PathLike) -> Path:
    """Validate and write ``assembly`` to ``path`` (NetCDF4 via h5netcdf), atomically.

    Non-scalar attributes (dicts, lists) are stored as JSON strings.
    """
    assembly = validate_assembly(assembly, nan_policy="missing")
    attrs = {k: v if isinstance(v, (str, int, float)) else json.dumps(v) for k, v in assembly.attrs.items()}
    data = assembly.copy()
    data.attrs = attrs
    data.name = data.name or "responses"
    ensure_space(Path(path).parent, data.nbytes)   # HDF5 cannot survive a write that fails half way
    with atomic_path(path) as tmp:
        data.to_netcdf(tmp, engine="h5netcdf")
    return Path(path)


def read_assembly(path: str | os.PathLike, *, nan_policy: str = "missing") -> xr.DataArray:
    """Read an assembly written by :func:`write_assembly` (or any NetCDF4 file in the schema)."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"assembly file not found: {path}", hint="check the path")
    try:
        with xr.open_dataarray(path, engine="h5netcdf") as opened:
            assembly = opened.load()
    except FileFormatError:
        raise
    except Exception as exc:  # h5py/h5netcdf raise many types for bad files
        raise FileFormatError(f"cannot read {path} as a NetCDF4 assembly ({type(exc).__name__}: {exc})",
                              hint="is the file complete and written by brainalign or Brain-Score?") from None
    return validate_assembly(assembly, nan_policy=nan_policy)
