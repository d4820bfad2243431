"""An imported dataset (assembly + images + metadata) and its folder in the data home.

``imported/NAME/`` holds ``assembly.nc`` (NeuralAssembly, NetCDF4), ``stimuli.zip`` (one member
``<stimulus_id><suffix>`` per image, original bytes), ``stimuli.csv`` (per-stimulus metadata) and
``dataset.json`` (importer, source files with sha256, regions, time window, selection). The folder
is written beside its final place and renamed into it, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import xarray as xr

from ...config import data_home
from ...errors import DataError, OutputExistsError
from ...safe_files import (ensure_space, new_temp_dir, plain_name, sha256_file, storage_errors, sweep_once,
                           write_json_atomic)
from ...stimuli.sources import zip_stimulus_set
from ...stimuli.stimulus_set import StimulusSet
from ..assembly import validate_assembly
from ..assembly_files import read_assembly, write_assembly

# yields (stimulus_id, suffix, encoded image bytes) for every stimulus
ImageSource = Callable[[], Iterator[tuple[str, str, bytes]]]


@dataclass
class ImportedDataset:
    """What an importer returns.

    Attributes
    ----------
    name : dataset name (folder name under ``imported/``).
    assembly : validated NeuralAssembly, dims presentation x neuroid (NaN marks missing trials).
    images : callable yielding ``(stimulus_id, suffix, bytes)``, or None for data without images.
    metadata : per-stimulus table with a ``stimulus_id`` column (may be empty).
    provenance : importer name, options and source files with their sha256.
    """

    name: str
    assembly: xr.DataArray
    images: ImageSource | None
    metadata: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"stimulus_id": []}))
    provenance: dict = field(default_factory=dict)


def source_record(*paths) -> list[dict]:
    """``[{"path", "sha256"}]`` for each source file (recorded in ``dataset.json``)."""
    return [{"path": str(Path(p).resolve()), "sha256": sha256_file(p)} for p in paths if p is not None]


def imported_dir(name: str, home: Path | None = None) -> Path:
    """Folder of imported dataset ``name`` (a plain name: InputError otherwise)."""
    return (home or data_home()) / "imported" / plain_name(name, "dataset name")


@contextlib.contextmanager
def staging_dir(final: Path, name: str):
    """A temporary folder beside ``final`` for an import being written (removed unless renamed);
    full or read-only data homes become one StorageError, stale stagings of killed imports are swept."""
    with storage_errors(final.parent, "free space in the data home, or set BRAINALIGN_HOME to another disk"):
        final.parent.mkdir(parents=True, exist_ok=True)
        sweep_once(final.parent)
        staging = new_temp_dir(final.parent, name)
        try:
            yield staging
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def list_imported(home: Path | None = None) -> list[dict]:
    """The ``dataset.json`` record of every imported dataset, sorted by name (records whose name is
    not their folder's are skipped: a dataset is only ever addressed by its folder)."""
    root = (home or data_home()) / "imported"
    if not root.is_dir():
        return []
    records = []
    for path in sorted(root.glob("*/dataset.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict) and record.get("name") == path.parent.name:
            records.append({**record, "folder": str(path.parent)})
    return records


def check_stimuli(assembly: xr.DataArray, stimulus_ids) -> None:
    """DataError when some stimulus id of ``assembly`` has no image."""
    have = pd.Index(np.asarray(stimulus_ids, dtype=str))
    missing = pd.Index(np.unique(assembly["stimulus_id"].values.astype(str))).difference(have)
    if len(missing):
        raise DataError(f"{len(missing)} stimulus id(s) of the assembly are missing from the stimulus set "
                        f"(first: {missing[0]!r})",
                        hint="check that the assembly and the images come from the same dataset "
                             "(ids must match exactly)")


def save_imported(dataset: ImportedDataset, *, home: Path | None = None, overwrite: bool = False) -> Path:
    """Write ``dataset`` to ``imported/NAME/`` atomically; returns the folder."""
    final = imported_dir(dataset.name, home)
    if final.exists() and not overwrite:
        raise OutputExistsError(f"dataset {dataset.name!r} is already imported ({final})",
                                hint="pass --overwrite, or `brainalign data remove NAME` first")
    assembly = validate_assembly(dataset.assembly, nan_policy="missing")
    with staging_dir(final, dataset.name) as staging:
        ensure_space(final.parent, assembly.nbytes, hint="free space in the data home, or set BRAINALIGN_HOME "
                                                         "to another disk")
        ids = write_images(dataset.images, staging / "stimuli.zip") if dataset.images is not None else None
        if ids is not None:
            check_stimuli(assembly, ids)
        write_assembly(assembly, staging / "assembly.nc")
        dataset.metadata.to_csv(staging / "stimuli.csv", index=False)
        regions = sorted(set(assembly["region"].values.astype(str))) if "region" in assembly.coords else []
        write_json_atomic(staging / "dataset.json", {
            "name": dataset.name, "regions": regions, "species": str(assembly.attrs.get("species", "unknown")),
            "n_neuroids": assembly.sizes["neuroid"], "n_stimuli": int(np.unique(assembly["stimulus_id"]).size),
            "n_presentations": assembly.sizes["presentation"], "has_images": ids is not None,
            "assembly_sha256": sha256_file(staging / "assembly.nc"), **dataset.provenance})
        if final.exists():
            trash = new_temp_dir(final.parent, f"{dataset.name}.old")
            os.replace(final, trash / "old")
            os.replace(staging, final)
            shutil.rmtree(trash)
        else:
            os.replace(staging, final)
    return final


def write_images(images: ImageSource, path: Path) -> list[str]:
    """Store every image of ``images`` in a new zip at ``path`` as ``ID.SUFFIX``; the ids, in order."""
    ids = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for stimulus_id, suffix, data in images():
            archive.writestr(f"{stimulus_id}{suffix}", data)
            ids.append(stimulus_id)
    if len(set(ids)) != len(ids):
        raise DataError("two images share one stimulus_id", hint="stimulus ids must be unique")
    return ids


def load_imported_assembly(name: str, home: Path | None = None) -> xr.DataArray:
    """The assembly of imported dataset ``name``."""
    return read_assembly(imported_dir(name, home) / "assembly.nc")


def load_imported_stimuli(name: str, home: Path | None = None) -> StimulusSet:
    """The images of imported dataset ``name``, with the metadata columns of ``stimuli.csv``."""
    folder = imported_dir(name, home)
    images = zip_stimulus_set(folder / "stimuli.zip")
    metadata = pd.read_csv(folder / "stimuli.csv", dtype={"stimulus_id": str})
    extra = [c for c in metadata.columns if c not in images.metadata.columns]
    merged = images.metadata.merge(metadata[["stimulus_id", *extra]], on="stimulus_id", how="left") \
        if extra else images.metadata
    return StimulusSet(identifier=f"imported:{name}", metadata=merged, loader=images.loader,
                       content_hash=images.content_hash)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (H, W) or (H, W, 3) image."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
