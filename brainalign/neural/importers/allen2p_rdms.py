"""Conwell et al. 2021's Allen two-photon RDMs: similarity matrices per area x layer, and their ceilings.

- ``similarity_119x119_by_area_layer.npz``: one (n, n) Pearson-similarity matrix per key
  ``AREA__LAYER`` (e.g. ``VISp__layer23``), diagonal 1;
- ``noise_ceiling.csv``: columns ``area, layer, mean, sem``, the split-half reliability of each
  matrix (DeepMouseTrap's ``neural_data/rdms_noise_ceiling.csv``).
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataError, FileFormatError
from .registry import Importer, register_importer

SIMILARITIES = "similarity_119x119_by_area_layer.npz"
CEILINGS = "noise_ceiling.csv"
CEILING_COLUMNS = ["area", "layer", "mean", "sem"]
_KEY = re.compile(r"^VIS[a-z]+__layer\d+$")


def read_similarities(path: str | os.PathLike) -> dict[tuple[str, str], np.ndarray]:
    """``{(area, layer): similarity matrix (n, n)}`` of the npz at ``path``, checked square with unit diagonal."""
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"cannot read {path} as an npz archive ({exc})") from None
    with archive:
        matrices = {}
        for key in sorted(archive.files):
            if not _KEY.match(key):
                raise FileFormatError(f"{path.name}: key {key!r} is not AREA__LAYER (e.g. VISp__layer23)")
            matrix = np.asarray(archive[key], dtype=np.float64)
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
                raise FileFormatError(f"{path.name}:{key} has shape {matrix.shape}, expected a square matrix")
            if not np.allclose(np.diag(matrix), 1.0):
                raise DataError(f"{path.name}:{key} is not a similarity matrix (diagonal is not 1)")
            area, layer = key.split("__")
            matrices[area, layer] = matrix
    return matrices


def read_ceilings(path: str | os.PathLike) -> pd.DataFrame:
    """The reliability table at ``path``: columns area, layer, mean, sem (one row per matrix)."""
    path = Path(path)
    table = pd.read_csv(path)
    if list(table.columns) != CEILING_COLUMNS:
        raise FileFormatError(f"{path.name}: columns {list(table.columns)}, expected {', '.join(CEILING_COLUMNS)}")
    return table


@register_importer
class Allen2pRDMsImporter(Importer):
    """The npz of ``AREA__LAYER`` similarity matrices, or a folder holding it and ``noise_ceiling.csv``.

    ``open(path)`` of the npz returns :func:`read_similarities`'s dict; of the csv,
    :func:`read_ceilings`'s table; of the folder, the pair (dict, table).
    """

    name = "allen2p-rdms"
    description = "Allen two-photon area x layer similarity matrices (.npz, keys AREA__LAYER) + noise_ceiling.csv"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        if path.is_dir():
            return (path / SIMILARITIES).is_file() and (path / CEILINGS).is_file()
        if path.suffix != ".npz" or not path.is_file():
            return False
        try:
            with np.load(path, allow_pickle=False) as archive:
                return bool(archive.files) and all(_KEY.match(key) for key in archive.files)
        except (OSError, ValueError, zipfile.BadZipFile):
            return False

    def open(self, path, **options):
        path = Path(path)
        if path.is_dir():
            return read_similarities(path / SIMILARITIES), read_ceilings(path / CEILINGS)
        return read_ceilings(path) if path.suffix == ".csv" else read_similarities(path)
