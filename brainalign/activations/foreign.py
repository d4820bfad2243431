"""Activations written by other tools: plain xarray/NetCDF, NumPy, HDF5 and THINGSvision outputs.

Every reader returns ``{layer: DataArray(stimulus, unit)}`` with a ``stimulus_id`` coordinate,
the same as :func:`brainalign.activations.activation_files.load_activations`; the rows are matched to the
recordings by ``stimulus_id`` only, never by position. Accepted files:

- NetCDF / xarray (``.nc``, or ``.h5``/``.hdf5`` holding NetCDF4 dimensions): every numeric
  variable that lies along the dimension of a ``stimulus_id`` coordinate is a layer (any
  dimension names; dimensions other than the stimulus one are flattened into units, C order). A
  single saved DataArray is one layer named after it.
- ``.npy`` (one layer, named after the file) and ``.npz`` (one layer per array): the first axis is
  the stimuli; ids from an array named ``stimulus_id`` (or ``stimulus_ids``, ``file_names``) in
  the ``.npz``, else from ``stimulus_ids`` (a text file, one id per row), else from a
  THINGSvision ``file_names.txt`` beside the file.
- HDF5 (``.h5``/``.hdf5``) without NetCDF dimensions: every numeric dataset is a layer (named by
  its path); ids as for ``.npz`` (a string dataset ``stimulus_id``/``stimulus_ids``/``file_names``).
- A THINGSvision output folder (``extractor.save_features(features, OUT, file_format)``): the
  features are ``OUT/features.{npy,hdf5,mat,txt}`` (hdf5 dataset ``features``; ``.mat`` either
  ``features`` or one variable per image name) and the row order is ``OUT/file_names.txt``,
  written by THINGSvision's ``ImageDataset``.

Ids from file names lose their image suffix (``cat01.jpg`` -> ``cat01``); when every name has a
folder (THINGSvision's class datasets write ``ROOT/class/image.jpg``), the folder they share is
dropped, so the ids are paths relative to the image root, as ``brainalign extract`` names them.

This module imports neither torch nor anything that does.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, FileFormatError, InputError

ID_ARRAYS = ("stimulus_id", "stimulus_ids", "file_names")
THINGSVISION_NAMES = "file_names.txt"
THINGSVISION_FEATURES = ("features.npy", "features.hdf5", "features.mat", "features.txt")
_IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|bmp|tiff?|gif|webp|eps)$", re.IGNORECASE)
_HINT_IDS = ("give the rows' stimulus ids: --stimulus-ids FILE (one per line), an array named stimulus_id in the "
             "file, or a stimulus_id coordinate")


def read_foreign_activations(path: str | Path, *, stimulus_ids: str | Path | None = None) -> dict[str, xr.DataArray]:
    """``{layer: DataArray(stimulus, unit)}`` from a file or THINGSvision folder (see the module docstring).

    Parameters
    ----------
    path : the activations file, or a THINGSvision output folder.
    stimulus_ids : optional text file with one stimulus id per row of the arrays.

    Raises
    ------
    FileFormatError for unreadable files, DataError for arrays without usable stimulus ids,
    with mismatched row counts, duplicate ids or non-numeric values.
    """
    path = Path(path)
    ids = read_id_file(stimulus_ids) if stimulus_ids is not None else None
    if path.is_dir():
        return _thingsvision(path, ids)
    if not path.is_file():
        raise FileFormatError(f"activations file not found: {path}", hint="check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in (".nc", ".nc4", ".netcdf", ".cdf"):
            return _netcdf(path)
        if suffix in (".h5", ".hdf5"):
            return _netcdf(path) if _has_netcdf_dims(path) else _hdf5(path, ids)
        if suffix == ".npy":
            return _layers({path.stem: np.load(path, allow_pickle=False)}, _ids_or_sibling(path, ids), path)
        if suffix == ".npz":
            return _npz(path, ids)
        if suffix == ".mat":
            return _mat(path, _ids_or_sibling(path, ids, required=False))
        if suffix == ".txt":
            return _layers({path.stem: np.loadtxt(path, ndmin=2)}, _ids_or_sibling(path, ids), path)
    except (DataError, FileFormatError, InputError):
        raise
    except Exception as exc:  # numpy, h5py, scipy and xarray raise many types on damaged files
        raise FileFormatError(f"cannot read {path.name} as activations ({type(exc).__name__}: {exc})",
                              hint="is the file complete and in the format its suffix says?") from None
    raise InputError(f"cannot read activations from {path.name}: unknown suffix {suffix!r}",
                     hint="use .nc, .h5/.hdf5, .npy, .npz, .mat, .txt or a THINGSvision output folder")


def read_id_file(path: str | Path) -> list[str]:
    """Stimulus ids from a text file, one per line (blank lines skipped, image suffixes dropped)."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"stimulus id file not found: {path}", hint="one stimulus id per line")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise DataError(f"{path.name} lists no stimulus ids", hint="one stimulus id per line")
    return ids_from_file_names(names)


def ids_from_file_names(names) -> list[str]:
    """Stimulus ids from image file names: suffix dropped, and a folder shared by all names dropped."""
    names = [str(n).strip().replace("\\", "/") for n in names]
    ids = [_IMAGE_SUFFIX.sub("", n) for n in names]
    if ids and all("/" in i for i in ids):
        common = posixpath.commonpath([posixpath.dirname(i) for i in ids])
        if common and all(i.startswith(common + "/") for i in ids):
            ids = [i[len(common) + 1:] for i in ids]
    return ids


def _ids_or_sibling(path: Path, ids, *, required: bool = True):
    if ids is not None:
        return ids
    sibling = path.parent / THINGSVISION_NAMES
    if sibling.is_file():
        return ids_from_file_names(line for line in sibling.read_text().splitlines() if line.strip())
    if required:
        raise DataError(f"{path.name} holds no stimulus ids", hint=_HINT_IDS)
    return None


def _layers(arrays: dict[str, np.ndarray], ids, path: Path) -> dict[str, xr.DataArray]:
    """DataArrays (stimulus, unit) from arrays whose first axis is the stimuli."""
    if ids is None:
        raise DataError(f"{path.name} holds no stimulus ids", hint=_HINT_IDS)
    ids = np.asarray([str(i) for i in ids])
    if len(set(ids)) != len(ids):
        raise DataError(f"{path.name}: stimulus id {_first_duplicate(ids)!r} names two rows",
                        hint="every row needs its own stimulus id")
    result = {}
    for layer, array in arrays.items():
        array = np.asarray(array)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or array.ndim < 1:
            raise DataError(f"{path.name}: layer {layer!r} is not a numeric array (dtype {array.dtype})",
                            hint="activations are numbers, one row per stimulus")
        if array.ndim == 1:
            array = array[:, None]
        if array.shape[0] != len(ids):
            raise DataError(f"{path.name}: layer {layer!r} has {array.shape[0]} rows but there are {len(ids)} "
                            "stimulus ids", hint="the first axis must be the stimuli, in the order of the ids")
        attrs = {"layer": layer, "layer_shape": [int(n) for n in array.shape[1:]]}
        result[layer] = xr.DataArray(np.asarray(array.reshape(len(ids), -1), dtype=np.float32),
                                     dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", ids)},
                                     name=layer, attrs=attrs)
    if not result:
        raise DataError(f"{path.name} holds no activation arrays", hint="one numeric array per layer")
    return result


def _first_duplicate(ids: np.ndarray) -> str:
    seen = set()
    for i in ids:
        if i in seen:
            return str(i)
        seen.add(i)
    return ""


def _strings(array) -> list[str] | None:
    array = np.asarray(array)
    if array.dtype.kind in "US":
        return [v.decode() if isinstance(v, bytes) else str(v) for v in array.reshape(-1)]
    if array.dtype.kind == "O":
        return [v.decode() if isinstance(v, bytes) else str(v) for v in array.reshape(-1)]
    return None


def _npz(path: Path, ids) -> dict[str, xr.DataArray]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    found = [name for name in ID_ARRAYS if name in arrays]
    if found and ids is None:
        ids = ids_from_file_names(_strings(arrays[found[0]]) or [])
    arrays = {k: v for k, v in arrays.items() if k not in ID_ARRAYS}
    return _layers(arrays, _ids_or_sibling(path, ids), path)


def _has_netcdf_dims(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as handle:
        if "_NCProperties" in handle.attrs or "brainalign_provenance" in handle.attrs:
            return True
        found = []
        handle.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset)
                          and ("DIMENSION_LIST" in obj.attrs or obj.attrs.get("CLASS") == b"DIMENSION_SCALE") else None)
        return bool(found)


def _hdf5(path: Path, ids) -> dict[str, xr.DataArray]:
    import h5py

    arrays, id_values = {}, None
    with h5py.File(path, "r") as handle:
        def visit(name, obj):
            nonlocal id_values
            if not isinstance(obj, h5py.Dataset):
                return
            leaf = name.rsplit("/", 1)[-1]
            if leaf in ID_ARRAYS:
                id_values = _strings(obj[()]) if id_values is None else id_values
            elif np.issubdtype(obj.dtype, np.number):
                arrays[name] = obj[()]
        handle.visititems(visit)
    if ids is None and id_values is not None:
        ids = ids_from_file_names(id_values)
    return _layers(arrays, _ids_or_sibling(path, ids), path)


def _mat(path: Path, ids) -> dict[str, xr.DataArray]:
    import scipy.io

    contents = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    if "features" in contents:
        return _layers({"features": contents["features"]}, ids, path)
    # THINGSvision with file_names.txt: one variable per image (name without suffix), in that order
    keys = list(contents)
    order = [i.rsplit("/", 1)[-1] for i in ids] if ids is not None else keys
    missing = [k for k in order if k not in contents]
    if missing:
        raise DataError(f"{path.name} has no variable for image {missing[0]!r}",
                        hint="expected THINGSvision's .mat: 'features', or one variable per image name")
    stacked = np.stack([np.asarray(contents[k], dtype=np.float64).reshape(-1) for k in order])
    return _layers({"features": stacked}, ids if ids is not None else keys, path)


def _thingsvision(folder: Path, ids) -> dict[str, xr.DataArray]:
    features = [folder / name for name in THINGSVISION_FEATURES if (folder / name).is_file()]
    if not features:
        raise FileFormatError(f"{folder} holds no THINGSvision features",
                              hint=f"expected one of {', '.join(THINGSVISION_FEATURES)} (and {THINGSVISION_NAMES})")
    if len(features) > 1:
        raise InputError(f"{folder} holds several feature files ({', '.join(f.name for f in features)})",
                         hint="pass the one to score as --activations FILE")
    if ids is None and not (folder / THINGSVISION_NAMES).is_file() and features[0].suffix != ".mat":
        raise DataError(f"{folder} has no {THINGSVISION_NAMES}", hint=_HINT_IDS)
    return read_foreign_activations(features[0], stimulus_ids=None) if ids is None else \
        _with_ids(features[0], ids)


def _with_ids(path: Path, ids: list[str]) -> dict[str, xr.DataArray]:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _layers({path.stem: np.load(path, allow_pickle=False)}, ids, path)
    if suffix == ".hdf5":
        return _hdf5(path, ids)
    if suffix == ".mat":
        return _mat(path, ids)
    return _layers({path.stem: np.loadtxt(path, ndmin=2)}, ids, path)


def _netcdf(path: Path) -> dict[str, xr.DataArray]:
    with xr.open_dataset(path) as opened:
        dataset = opened.load()
    if "stimulus_id" not in dataset.coords and "stimulus_id" not in dataset.data_vars:
        raise DataError(f"{path.name} has no stimulus_id coordinate (dims: {', '.join(map(str, dataset.dims))})",
                        hint="add a coordinate stimulus_id along the stimulus dimension, one image id per row")
    coord = dataset["stimulus_id"]
    if coord.ndim != 1:
        raise DataError(f"{path.name}: stimulus_id lies along {coord.dims}, not one dimension",
                        hint="stimulus_id must be one id per row of the stimulus dimension")
    dim = coord.dims[0]
    ids = _strings(coord.values) or [str(v) for v in coord.values]
    arrays = {}
    for name, variable in dataset.data_vars.items():
        if name == "stimulus_id" or dim not in variable.dims:
            continue
        layer = str(variable.attrs.get("layer", name))
        if layer == "__xarray_dataarray_variable__":
            layer = "features"
        other = [d for d in variable.dims if d != dim]
        arrays[layer] = variable.transpose(dim, *other).values
    if not arrays:
        raise DataError(f"{path.name} has no variable along {dim!r}, the dimension of stimulus_id",
                        hint="store each layer as a (stimulus, unit) variable sharing that dimension")
    return _layers(arrays, ids, path)


def foreign_provenance(path: str | Path, *, fmt: str) -> dict:
    """The model part of a record for activations of unknown origin (keyed by the file's content)."""
    from ..safe_files import sha256_file

    path = Path(path)
    target = path / next(n for n in THINGSVISION_FEATURES if (path / n).is_file()) if path.is_dir() else path
    digest = sha256_file(target)
    return {"spec": f"activations:{path.name}@{digest[:12]}", "checkpoint": None, "weights_sha256": "unknown",
            "seed": None, "preprocessing": None, "provenance": "unknown", "activations_format": fmt,
            "activations_sha256": digest, "activations_path": str(path.resolve())}


def activations_format(path: str | Path) -> str:
    """A short name of the format :func:`read_foreign_activations` reads ``path`` as."""
    path = Path(path)
    if path.is_dir():
        return "thingsvision"
    suffix = path.suffix.lower().lstrip(".")
    return {"nc4": "netcdf", "cdf": "netcdf", "nc": "netcdf", "h5": "hdf5"}.get(suffix, suffix)
