"""Opening HDF5 files (NWB 1 and 2) and reading required groups, with one clear error each."""

from __future__ import annotations

from pathlib import Path

from ...errors import FileFormatError


def open_hdf5(path: Path):
    """``h5py.File(path, "r")``; FileFormatError when the file is missing or not HDF5."""
    import h5py

    if not path.is_file():
        raise FileFormatError(f"NWB file not found: {path}", hint="check the path")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"cannot read {path.name} as HDF5/NWB ({exc})",
                              hint="the download is truncated or not an NWB file - fetch it again") from None


def require(handle, key: str, path: Path, *, hint: str):
    """``handle[key]``; FileFormatError naming the file and the key (with ``hint``) when absent."""
    if key not in handle:
        raise FileFormatError(f"{path.name} has no {key}", hint=hint)
    return handle[key]


def has_groups(path: Path, *keys: str) -> bool:
    """Whether ``path`` is an HDF5 file holding every key in ``keys`` (False for any unreadable file)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return all(key in handle for key in keys)
    except OSError:
        return False
