"""Opening NetCDF files as xarray Datasets, with one clear error for a missing or unreadable file.

Plain NetCDF4 files (what brainalign itself writes: numbers, strings, NaN fill values) are read
with h5netcdf directly and decoded here, which gives the Dataset that ``xarray.open_dataset``
gives (``tests/test_netcdf.py`` compares them) in a fraction of the time: xarray's decoding
pipeline imports dask and scipy when they are installed, about half a second. Anything else (CF
scaling, times, enums, character arrays, groups, ...) goes through ``xarray.open_dataset``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import FileFormatError

# Attributes that xarray's CF decoding acts on beyond what the fast reader decodes: with any of
# them (on a variable, or on the file) the file is left to xarray.
_XARRAY_DECODES = frozenset({"scale_factor", "add_offset", "units", "calendar", "missing_value", "_Unsigned",
                             "dtype", "_Encoding", "coordinates", "bounds", "grid_mapping", "compress"})


def open_netcdf(path: str | os.PathLike, *, label: str, missing_hint: str, hint: str,
                engine: str | None = "h5netcdf"):
    """The whole NetCDF file at ``path``, loaded into memory and closed (an ``xarray.Dataset``).

    Parameters
    ----------
    label : what the file holds, for messages (e.g. ``"assembly"``).
    missing_hint, hint : the hints of the errors for a missing file and for an unreadable one.
    engine : xarray's engine (None lets xarray choose from the file), for the files that the fast
        reader (:func:`read_plain_netcdf4`) leaves to xarray.

    Raises
    ------
    FileFormatError
        ``"LABEL file not found: PATH"`` or ``"cannot read PATH as a NetCDF LABEL file (ErrorType: message)"``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{label} file not found: {path}", hint=missing_hint)
    try:
        dataset = read_plain_netcdf4(path) if engine in ("h5netcdf", None) else None
        if dataset is not None:
            return dataset
        import xarray as xr

        with xr.open_dataset(path, engine=engine) as opened:
            return opened.load()
    except Exception as exc:  # h5py / h5netcdf / scipy raise many types on damaged files
        raise FileFormatError(f"cannot read {path} as a NetCDF {label} file ({type(exc).__name__}: {exc})",
                              hint=hint) from None


def read_plain_netcdf4(path: str | os.PathLike):
    """``xarray.open_dataset(path).load()`` for a plain NetCDF4 file, or None for any other file.

    Plain: one root group; every variable of native-order integers or floats, or of
    variable-length strings; ``_FillValue`` on floating variables only (values equal to it become
    NaN, as xarray masks them); no attribute that xarray's CF decoding would act on further
    (:data:`_XARRAY_DECODES`, except a variable's ``coordinates``, decoded here: the variables it
    names become coordinates). Variables named after their dimension become indexed coordinates;
    strings come back as numpy ``str`` arrays, as xarray gives them.

    Returns None (never raises for that) when the file is not HDF5 or not plain; errors reading a
    plain file propagate.
    """
    try:
        import h5netcdf
        import h5py
    except ImportError:  # pragma: no cover - both are dependencies
        return None
    if not h5py.is_hdf5(path):
        return None
    with h5netcdf.File(path, "r") as handle:
        if handle.groups or _XARRAY_DECODES & set(handle.attrs):
            return None
        variables, coordinate_names = {}, set()
        for name, variable in handle.variables.items():
            decoded = _decode(name, variable, h5py)
            if decoded is None:
                return None
            dims, values, attrs, coordinates = decoded
            variables[name] = (dims, values, attrs)
            coordinate_names.update(coordinates)
        attrs = _attributes(handle)
    import xarray as xr

    coords = {name: variables[name] for name in variables
              if name in coordinate_names or variables[name][0] == (name,)}
    data_vars = {name: value for name, value in variables.items() if name not in coords}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _decode(name: str, variable, h5py) -> tuple | None:
    """(dims, values, attrs, names in its ``coordinates``) of one variable, or None when not plain."""
    import numpy as np

    if variable.datatype is not None and not isinstance(variable.datatype, np.dtype):
        return None  # an enum, compound or other named type
    attrs = _attributes(variable)
    coordinates = str(attrs.pop("coordinates", "")).split()
    if _XARRAY_DECODES & set(attrs):
        return None
    dtype = variable.dtype
    fill = attrs.pop("_FillValue", None)
    if h5py.check_dtype(vlen=dtype) is str:
        if fill is not None:
            return None
        values = np.asarray(variable[...], dtype=object).astype(str)
    elif dtype.kind in "iuf" and dtype.isnative:
        if fill is not None and dtype.kind != "f":
            return None  # xarray turns masked integers into floats
        values = np.asarray(variable[...])
        if fill is not None and not np.isnan(fill):
            values = np.where(values == fill, np.asarray(np.nan, dtype=dtype), values)
    else:
        return None
    return tuple(variable.dimensions), values, attrs, coordinates


def _attributes(obj) -> dict:
    """``obj.attrs`` as xarray's h5netcdf backend reads them (bytes decoded as UTF-8 where they can be)."""
    attrs = {}
    for key, value in obj.attrs.items():
        if key not in ("_FillValue", "missing_value") and isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                pass
        attrs[key] = value
    return attrs
