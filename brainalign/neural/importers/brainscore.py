"""Brain-Score (BrainIO) assemblies: a NetCDF file plus the stimulus set's CSV and zip.

Brain-Score writes an assembly as one NetCDF4 data variable whose dims come in any order among
``neuroid``, ``time_bin`` and ``presentation``, with its MultiIndex levels reset to plain
coordinates; older files name the stimulus ``image_id`` instead of ``stimulus_id``. A stimulus
set is a CSV (one row per stimulus: ``stimulus_id`` or ``image_id``, ``filename`` and metadata)
and a zip whose members are the CSV's file names.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import DataError, FileFormatError, InputError
from ...netcdf import open_netcdf
from ..assembly import average_time_window, validate_assembly
from .dataset import ImportedDataset, check_stimuli, source_record
from .registry import Importer, register_importer

_ID_COLUMNS = ("stimulus_id", "image_id")


def read_brainscore_assembly(path: str | Path, *, time_window: tuple[float, float] | None = None) -> xr.DataArray:
    """A Brain-Score NetCDF assembly as a NeuralAssembly (presentation x neuroid [x time_bin]).

    Parameters
    ----------
    path : the ``assy_*.nc`` file.
    time_window : (start, end) in ms; the mean over time bins whose start lies in [start, end)
        (Brain-Score's FreemanZiemba2013 uses 50-200 ms over 1 ms bins). None keeps the bins,
        except that a single bin is dropped.

    Returns
    -------
    xarray.DataArray with plain coordinates, ``stimulus_id`` (from ``image_id`` when needed) and
    ``neuroid_id`` as str, NaN allowed as missing trials; ``attrs["time_window"]`` records the
    window used.
    """
    path = Path(path)
    dataset = open_netcdf(path, label="assembly", missing_hint="check the path",
                          hint="the file is truncated or not NetCDF4 - fetch it again and check its sha1")
    variables = list(dataset.data_vars)
    if not variables:
        raise FileFormatError(f"{path.name} holds no data variable", hint="is it a Brain-Score assembly file?")
    assembly = dataset[variables[0] if len(variables) == 1 else ("data" if "data" in variables else variables[0])]
    assembly = assembly.reset_index(list(assembly.indexes)) if assembly.indexes else assembly
    if "stimulus_id" not in assembly.coords and "image_id" in assembly.coords:
        assembly = assembly.rename({"image_id": "stimulus_id"})
    unknown = set(assembly.dims) - {"presentation", "neuroid", "time_bin"}
    if unknown:
        raise DataError(f"{path.name} has dims {list(assembly.dims)}",
                        hint="a Brain-Score neural assembly has dims among presentation, neuroid, time_bin")
    if "time_bin" in assembly.dims:
        if time_window is not None:
            assembly = average_time_window(assembly, *time_window)
        elif assembly.sizes["time_bin"] == 1:
            assembly = assembly.squeeze("time_bin", drop=True)
    if "time_bin" in assembly.dims:
        starts = assembly["time_bin_start"].values if "time_bin_start" in assembly.coords else [0]
        raise InputError(f"{path.name} has {assembly.sizes['time_bin']} time bins "
                         f"({np.min(starts)}-{np.max(starts)} ms) and no time window was given",
                         hint="pass --time-window START,END in ms (e.g. 50,200 for FreemanZiemba2013)")
    assembly = assembly.drop_vars([c for c in ("time_bin_start", "time_bin_end") if c in assembly.coords])
    assembly = assembly.transpose("presentation", "neuroid")
    assembly.attrs = {"time_window": list(time_window) if time_window is not None else None,
                      "source_format": "brainscore", "species": "macaque"}
    return validate_assembly(assembly, nan_policy="missing")


def read_stimulus_csv(csv_path: str | Path) -> pd.DataFrame:
    """Brain-Score stimulus metadata with a str ``stimulus_id`` column and a ``filename`` column."""
    csv_path = Path(csv_path)
    try:
        frame = pd.read_csv(csv_path, dtype={c: str for c in _ID_COLUMNS})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"cannot read stimulus CSV {csv_path} ({type(exc).__name__})",
                              hint="check the path and that it is the set's .csv file") from None
    if "stimulus_id" not in frame and "image_id" in frame:
        frame = frame.rename(columns={"image_id": "stimulus_id"})
    for column in ("stimulus_id", "filename"):
        if column not in frame:
            raise FileFormatError(f"stimulus CSV {csv_path.name} has no {column!r} column",
                                  hint="a Brain-Score stimulus CSV has stimulus_id (or image_id) and filename")
    return frame


def zip_images(zip_path: Path, frame: pd.DataFrame):
    """An image source reading ``frame.filename`` members of ``zip_path`` (matched by base name)."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = {PurePosixPath(n).name: n for n in archive.namelist() if not n.endswith("/")}
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(f"cannot read {zip_path.name} as a zip file ({exc})",
                              hint="the download is incomplete - fetch it again") from None
    absent = [f for f in frame["filename"] if PurePosixPath(str(f)).name not in members]
    if absent:
        raise FileFormatError(f"{len(absent)} image(s) named in the stimulus CSV are not in {zip_path.name} "
                              f"(first: {absent[0]!r})", hint="the CSV and zip must belong to the same stimulus set")

    def images():
        with zipfile.ZipFile(zip_path) as archive:
            for stimulus_id, filename in zip(frame["stimulus_id"], frame["filename"]):
                name = members[PurePosixPath(str(filename)).name]
                yield stimulus_id, PurePosixPath(name).suffix, archive.read(name)

    return images


def import_brainscore(name: str, assembly_path, stimuli_csv, stimuli_zip, *,
                      time_window: tuple[float, float] | None = None) -> ImportedDataset:
    """Import a Brain-Score assembly and its stimulus set (see the module docstring).

    Stimulus-set columns missing from the assembly become presentation coordinates (so e.g.
    ``texture_type`` can stratify the splits). DataError if an assembly stimulus has no image.
    """
    assembly = read_brainscore_assembly(assembly_path, time_window=time_window)
    frame = read_stimulus_csv(stimuli_csv)
    if frame["stimulus_id"].duplicated().any():
        raise DataError(f"stimulus CSV {Path(stimuli_csv).name} repeats a stimulus_id", hint="stimulus ids must be unique")
    check_stimuli(assembly, frame["stimulus_id"])
    images = zip_images(Path(stimuli_zip), frame)
    assembly = _merge_metadata(assembly, frame)
    assembly.attrs["identifier"] = name
    provenance = {"importer": "brainscore", "time_window": assembly.attrs["time_window"],
                  "sources": source_record(assembly_path, stimuli_csv, stimuli_zip)}
    return ImportedDataset(name=name, assembly=assembly, images=images,
                           metadata=frame.drop(columns=["filename"]), provenance=provenance)


def _merge_metadata(assembly: xr.DataArray, frame: pd.DataFrame) -> xr.DataArray:
    indexed = frame.set_index("stimulus_id")
    ids = assembly["stimulus_id"].values
    new = {c: ("presentation", indexed[c].reindex(ids).to_numpy()) for c in indexed.columns
           if c not in assembly.coords and c != "filename"}
    for key, (dim, values) in list(new.items()):
        if values.dtype == object:
            new[key] = (dim, values.astype(str))
    return assembly.assign_coords(new)


_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@register_importer
class BrainScoreImporter(Importer):
    """A Brain-Score NetCDF4 assembly (``.nc`` with the HDF5 signature).

    ``open(path, name=..., stimuli_csv=..., stimuli_zip=..., time_window=None)`` -> ImportedDataset.
    """

    name = "brainscore"
    description = "Brain-Score (BrainIO) NetCDF assembly + stimulus CSV + zip"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        if path.suffix != ".nc" or not path.is_file():
            return False
        with open(path, "rb") as handle:
            return handle.read(len(_HDF5_MAGIC)) == _HDF5_MAGIC

    def open(self, path, *, name: str, stimuli_csv, stimuli_zip, time_window=None) -> ImportedDataset:
        return import_brainscore(name, path, stimuli_csv, stimuli_zip, time_window=time_window)
