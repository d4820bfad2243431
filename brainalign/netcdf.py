"""Opening NetCDF files as xarray Datasets, with one clear error for a missing or unreadable file."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import FileFormatError


def open_netcdf(path: str | os.PathLike, *, label: str, missing_hint: str, hint: str,
                engine: str | None = "h5netcdf"):
    """The whole NetCDF file at ``path``, loaded into memory and closed (an ``xarray.Dataset``).

    Parameters
    ----------
    label : what the file holds, for messages (e.g. ``"assembly"``).
    missing_hint, hint : the hints of the errors for a missing file and for an unreadable one.
    engine : xarray's engine (None lets xarray choose from the file).

    Raises
    ------
    FileFormatError
        ``"LABEL file not found: PATH"`` or ``"cannot read PATH as a NetCDF LABEL file (ErrorType: message)"``.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{label} file not found: {path}", hint=missing_hint)
    try:
        with xr.open_dataset(path, engine=engine) as opened:
            return opened.load()
    except Exception as exc:  # h5py / h5netcdf / scipy raise many types on damaged files
        raise FileFormatError(f"cannot read {path} as a NetCDF {label} file ({type(exc).__name__}: {exc})",
                              hint=hint) from None
