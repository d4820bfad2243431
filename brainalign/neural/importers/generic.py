"""Your own recordings: an array file with an explicit axis spec, images, optional metadata.

Arrays: ``.npy``, ``.npz`` (``key``), ``.h5``/``.hdf5`` (``key``: dataset path), ``.csv``
(numbers, optional header row), ``.mat`` (MATLAB v5 through scipy, v7.3 through h5py; ``key``).
The axis spec names every axis, e.g. ``neuroid,stimulus,repetition``: ``neuroid`` and
``stimulus`` are required, ``repetition`` and ``time_bin`` optional (time bins are averaged).
NaN marks a missing repetition. Stimulus ids come from the metadata CSV's ``stimulus_id`` column
(one row per stimulus, in array order), else from the images' paths (their ids as
``brainalign extract`` names them), else ``stim0000``...

Row order is never guessed: when the image paths sort differently by name (``1, 10, 100, 2``)
and by number (``1, 2, ..., 10``), the import is refused unless ``order`` says which one the
array's rows follow (``lexicographic`` or ``natural``). Only images of stimuli with responses
are copied into the imported dataset.
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import DataError, FileFormatError, InputError
from ...stimuli.sources import IMAGE_SUFFIXES
from ..importer_options import IMAGE_ORDERS
from .dataset import ImportedDataset, encode_png, source_record
from .registry import Importer, register_importer

AXES = ("neuroid", "stimulus", "repetition", "time_bin")


def parse_axes(spec: str, ndim: int, shape=()) -> list[str]:
    """Validate an axis spec like ``neuroid,stimulus,repetition`` against an array's dims."""
    names = [a.strip() for a in str(spec).split(",") if a.strip()]
    unknown = [a for a in names if a not in AXES]
    if unknown:
        raise InputError(f"unknown axis {unknown[0]!r} in --axes {spec!r}", hint=f"axes are {', '.join(AXES)}")
    if len(set(names)) != len(names):
        raise InputError(f"--axes {spec!r} names an axis twice", hint="name each array dimension once")
    if len(names) != ndim:
        raise InputError(f"--axes {spec!r} names {len(names)} axes but the array has {ndim} (shape {tuple(shape)})",
                         hint="give one name per dimension, e.g. --axes neuroid,stimulus,repetition")
    for required in ("neuroid", "stimulus"):
        if required not in names:
            raise InputError(f"--axes {spec!r} has no {required!r} axis", hint="neuroid and stimulus are required")
    return names


def load_array(path: str | Path, key: str | None = None) -> np.ndarray:
    """The numeric array stored in ``path`` (see the module docstring for formats and ``key``)."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"file not found: {path}", hint="check the path")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                array = archive[_pick(list(archive.files), key, path)]
        elif suffix in (".h5", ".hdf5"):
            array = _h5_array(path, key)
        elif suffix == ".csv":
            frame = pd.read_csv(path, header=None)
            if frame.shape[0] and not pd.to_numeric(frame.iloc[0], errors="coerce").notna().all():
                frame = frame.iloc[1:]  # a header row
            array = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        elif suffix == ".mat":
            array = _mat_array(path, key)
        else:
            raise InputError(f"cannot import {path.name}: unknown suffix {suffix!r}",
                             hint="use .npy, .npz, .h5, .csv or .mat")
    except (InputError, FileFormatError):
        raise
    except Exception as exc:  # numpy, h5py, scipy raise many types on damaged files
        raise FileFormatError(f"cannot read {path.name} ({type(exc).__name__}: {exc})",
                              hint="is the file complete and in the format its suffix says?") from None
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{path.name}{':' + key if key else ''} is not numeric (dtype {array.dtype})",
                        hint="pass --key to choose a numeric array")
    return array.astype(np.float64)


def _pick(names: list[str], key: str | None, path: Path) -> str:
    if key is not None:
        if key not in names:
            raise InputError(f"{path.name} has no array {key!r}", hint=f"arrays there: {', '.join(names)}")
        return key
    if len(names) != 1:
        raise InputError(f"{path.name} holds {len(names)} arrays", hint=f"pass --key, one of {', '.join(names)}")
    return names[0]


def _h5_array(path: Path, key: str | None) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as handle:
        names = []
        handle.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        return np.asarray(handle[_pick(names, key, path)])


def _mat_array(path: Path, key: str | None) -> np.ndarray:
    import scipy.io

    try:
        contents = scipy.io.loadmat(path)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5; h5py reads them transposed
        return _h5_array(path, key).T
    names = [k for k in contents if not k.startswith("__")]
    return contents[_pick(names, key, path)]


def natural_key(text: str) -> list:
    """Sort key that orders the digit runs of ``text`` by value: ``img2`` before ``img10``."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def order_ids(ids: list[str], order: str | None, *, origin: str = "the images",
              instead: str = "--metadata with a stimulus_id per row") -> list[int]:
    """Positions of ``ids`` in the order the array's rows follow.

    ``order`` is ``lexicographic`` (sorted by name), ``natural`` (digit runs by value) or None:
    then both orders must agree, else InputError (the rows would be guessed).
    """
    lexicographic = sorted(range(len(ids)), key=lambda k: ids[k])
    natural = sorted(range(len(ids)), key=lambda k: natural_key(ids[k]))
    if order is None:
        if lexicographic != natural:
            first = next(k for k, (a, b) in enumerate(zip(lexicographic, natural)) if a != b)
            raise InputError(f"the row order of {origin} is ambiguous: by name row {first} is "
                             f"{ids[lexicographic[first]]!r}, by number {ids[natural[first]]!r}",
                             hint="say which order the rows follow with --image-order natural or "
                                  f"--image-order lexicographic, or give {instead}")
        return lexicographic
    if order not in IMAGE_ORDERS:
        raise InputError(f"unknown image order {order!r}", hint=f"use one of {', '.join(IMAGE_ORDERS)}")
    return natural if order == "natural" else lexicographic


def image_source(source: str | Path, *, order: str | None = "lexicographic",
                 instead: str = "--metadata with a stimulus_id per row"):
    """``(ids, images)`` from a folder or zip of images, or a ``.npy`` stack (n, H, W[, 3]) of uint8.

    Folder/zip ids are the relative paths without suffix, in ``order`` (see :func:`order_ids`;
    None refuses names whose lexicographic and natural orders differ); stack ids are
    ``img0000``... in stack order; ``instead`` names the alternative in the ambiguity error's
    hint. ``images(keep=None)`` yields ``(id, suffix, bytes)``, only
    for the ids in ``keep`` when given (the others are not even read).
    """
    path = Path(source)
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        names = [str(PurePosixPath(p.relative_to(path).as_posix()).with_suffix("")) for p in files]
        rows = order_ids(names, order, origin=str(path), instead=instead)
        ids, files = [names[k] for k in rows], [files[k] for k in rows]
        return ids, lambda keep=None: ((i, f.suffix, f.read_bytes()) for i, f in zip(ids, files)
                                       if keep is None or i in keep)
    if path.is_file() and path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if not n.endswith("/")
                       and PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES]
        names = [str(PurePosixPath(n).with_suffix("")) for n in members]
        rows = order_ids(names, order, origin=str(path), instead=instead)
        ids, members = [names[k] for k in rows], [members[k] for k in rows]

        def from_zip(keep=None):
            with zipfile.ZipFile(path) as archive:
                for i, member in zip(ids, members):
                    if keep is None or i in keep:
                        yield i, PurePosixPath(member).suffix, archive.read(member)
        return ids, from_zip
    if path.is_file() and path.suffix.lower() == ".npy":
        stack = np.load(path, allow_pickle=False)
        ids = [f"img{i:04d}" for i in range(len(stack))]
        return ids, lambda keep=None: ((i, ".png", encode_png(image)) for i, image in zip(ids, stack)
                                       if keep is None or i in keep)
    raise InputError(f"cannot use {source} as images", hint="give a folder or .zip of images, or a .npy image stack")


def generic_assembly(array: np.ndarray, axes: list[str], stimulus_ids, *, region: str | None = None,
                     neuroid_ids=None) -> xr.DataArray:
    """NeuralAssembly from an array whose dims are named by ``axes``.

    Returns
    -------
    xarray.DataArray (presentation, neuroid): one presentation per (stimulus, repetition) with any
    finite value; time bins averaged.
    """
    data = xr.DataArray(array, dims=axes)
    if "time_bin" in axes:
        data = data.mean("time_bin", skipna=True)
    if "repetition" not in data.dims:
        data = data.expand_dims(repetition=1)
    data = data.transpose("stimulus", "repetition", "neuroid")
    n_stimuli, n_rep, n_neuroids = data.shape
    if len(stimulus_ids) != n_stimuli:
        raise DataError(f"the stimulus axis has {n_stimuli} entries but there are {len(stimulus_ids)} stimulus ids",
                        hint="check --axes; with more images than rows, give --metadata naming each row's "
                             "stimulus_id (only those images are copied)")
    trials = data.values.reshape(n_stimuli * n_rep, n_neuroids)
    keep = ~np.isnan(trials).all(axis=1)
    neuroid_ids = np.asarray(neuroid_ids if neuroid_ids is not None else [f"n{i:04d}" for i in range(n_neuroids)])
    coords = {"stimulus_id": ("presentation", np.repeat(np.asarray(stimulus_ids, dtype=str), n_rep)[keep]),
              "repetition": ("presentation", np.tile(np.arange(n_rep), n_stimuli)[keep]),
              "neuroid_id": ("neuroid", neuroid_ids.astype(str))}
    if region:
        coords["region"] = ("neuroid", np.full(n_neuroids, region))
    return xr.DataArray(trials[keep], dims=("presentation", "neuroid"), coords=coords,
                        attrs={"source_format": "generic", "axes": ",".join(axes)})


def import_generic(name: str, responses, *, axes: str, images=None, metadata=None, key: str | None = None,
                   region: str | None = None, species: str = "unknown", order: str | None = None) -> ImportedDataset:
    """Import an array file with its images and optional per-stimulus metadata CSV.

    Rows of the array's stimulus axis are the metadata's ``stimulus_id`` rows when ``metadata``
    is given, else the images in ``order`` (see :func:`order_ids`). The first and last rows'
    ids are recorded in ``provenance["rows"]``, and only images of stimuli with a response are kept.
    """
    array = load_array(responses, key)
    names = parse_axes(axes, array.ndim, array.shape)
    frame = None
    if metadata is not None:
        frame = pd.read_csv(metadata, dtype={"stimulus_id": str})
        if "stimulus_id" not in frame:
            raise FileFormatError(f"metadata {Path(metadata).name} has no stimulus_id column",
                                  hint="one row per stimulus, in the order of the array's stimulus axis")
    # with metadata the images' order does not matter (ids come from the metadata rows)
    ids, source = (image_source(images, order="lexicographic" if frame is not None else order)
                   if images is not None else (None, None))
    rows_from = "metadata" if frame is not None else ("images" if ids is not None else "default")
    if frame is not None:
        ids = frame["stimulus_id"].tolist()
    if ids is None:
        ids = [f"stim{i:04d}" for i in range(array.shape[names.index("stimulus")])]
    assembly = generic_assembly(array, names, ids, region=region)
    assembly.attrs.update(identifier=name, species=species)
    if frame is not None:
        extra = [c for c in frame.columns if c != "stimulus_id"]
        indexed = frame.set_index("stimulus_id")
        columns = {c: indexed[c].reindex(assembly["stimulus_id"].values).to_numpy() for c in extra}
        assembly = assembly.assign_coords({c: ("presentation", v.astype(str) if v.dtype == object else v)
                                           for c, v in columns.items()})
    if source is not None:  # copy only the images of stimuli with responses
        source = functools.partial(source, keep=frozenset(assembly["stimulus_id"].values.astype(str)))
    rows = {"first": str(ids[0]), "last": str(ids[-1]), "n": len(ids), "from": rows_from,
            "order": (order or "lexicographic = natural") if rows_from == "images" else None}
    return ImportedDataset(name=name, assembly=assembly, images=source,
                           metadata=frame if frame is not None else pd.DataFrame({"stimulus_id": ids}),
                           provenance={"importer": "generic", "axes": ",".join(names), "key": key, "rows": rows,
                                       "sources": source_record(responses, metadata)})


ARRAY_SUFFIXES = (".npy", ".npz", ".h5", ".hdf5", ".csv", ".mat")


@register_importer
class GenericImporter(Importer):
    """Any numeric array file, by suffix (a fallback: asked after every specific importer).

    ``open(path, name=..., axes=..., images=..., **options)`` -> ImportedDataset (options of
    :func:`import_generic`).
    """

    name = "generic"
    description = "responses in .npy/.npz/.h5/.csv/.mat with an --axes spec, images from a folder or zip"
    fallback = True

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        return path.suffix.lower() in ARRAY_SUFFIXES and path.is_file()

    def open(self, path, *, name: str, axes: str, **options) -> ImportedDataset:
        return import_generic(name, path, axes=axes, **options)
