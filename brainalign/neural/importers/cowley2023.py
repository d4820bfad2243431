"""Cowley et al. 2023 macaque V4 data (cowleygroup/V4_compact_models release).

``responses_raw/responses_SESSION.npy`` has shape (n_neurons, n_images, n_repeats): spike counts
in 100 ms bins, NaN where an image had fewer repeats. ``images/images_SESSION.zip`` holds
``imageNNNN.jpg`` (112 x 112 x 3); image ``i`` in sorted member order is response row ``i``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import DataError, FileFormatError
from ...safe_files import plain_name
from .dataset import ImportedDataset, source_record
from .registry import Importer, register_importer

SESSIONS = {"210325": "PE", "190923": "WE"}


def cowley_files(folder: str | Path, session: str = "210325") -> tuple[Path, Path]:
    """Paths of the raw responses and the image zip of ``session`` under ``folder``.

    ``folder`` has the release layout (``responses_raw/``, ``images/``) or holds both files directly.
    """
    session = plain_name(session, "session")
    folder = Path(folder)
    responses = folder / "responses_raw" / f"responses_{session}.npy"
    images = folder / "images" / f"images_{session}.zip"
    if not responses.is_file() and (folder / responses.name).is_file():  # flat, as `brainalign data fetch` stores them
        responses, images = folder / responses.name, folder / images.name
    for path in (responses, images):
        if not path.is_file():
            raise FileFormatError(f"missing {path}", hint="point at the V4_compact_models data folder "
                                  "(holding responses_raw/ and images/); only session 210325 has raw repeats")
    return responses, images


def cowley_assembly(responses: np.ndarray, stimulus_ids, *, session: str) -> xr.DataArray:
    """NeuralAssembly from raw responses.

    Parameters
    ----------
    responses : ndarray of shape (n_neurons, n_images, n_repeats), NaN-padded repeats.
    stimulus_ids : ids of the n_images images, in row order.

    Returns
    -------
    xarray.DataArray (presentation, neuroid): one presentation per (image, repeat) that holds any
    value; repeats recorded for some neurons only stay NaN for the others.
    """
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim != 3 or responses.shape[1] != len(stimulus_ids):
        raise DataError(f"responses of shape {responses.shape} do not match {len(stimulus_ids)} images",
                        hint="expected (n_neurons, n_images, n_repeats)")
    n_neurons, n_images, n_repeats = responses.shape
    trials = responses.transpose(1, 2, 0).reshape(n_images * n_repeats, n_neurons)  # (image, repeat) x neuron
    image = np.repeat(np.arange(n_images), n_repeats)
    repeat = np.tile(np.arange(n_repeats), n_images)
    keep = ~np.isnan(trials).all(axis=1)
    return xr.DataArray(
        trials[keep], dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", np.asarray(stimulus_ids, dtype=str)[image[keep]]),
                "repetition": ("presentation", repeat[keep]),
                "neuroid_id": ("neuroid", np.array([f"{session}-n{i:02d}" for i in range(n_neurons)])),
                "region": ("neuroid", np.full(n_neurons, "V4")),
                "animal": ("neuroid", np.full(n_neurons, SESSIONS.get(session, "unknown")))},
        attrs={"species": "macaque", "unit": "spike count per 100 ms", "session": session,
               "source_format": "cowley2023"})


def import_cowley2023(name: str, folder: str | Path, *, session: str = "210325") -> ImportedDataset:
    """Import one session of the Cowley et al. 2023 V4 release."""
    responses_path, zip_path = cowley_files(folder, session)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = sorted(n for n in archive.namelist() if n.lower().endswith(".jpg"))
    except zipfile.BadZipFile as exc:
        raise FileFormatError(f"cannot read {zip_path} ({exc})", hint="the zip is damaged - fetch it again") from None
    ids = [PurePosixPath(m).stem for m in members]
    assembly = cowley_assembly(np.load(responses_path), ids, session=session)
    assembly.attrs["identifier"] = name

    def images():
        with zipfile.ZipFile(zip_path) as archive:
            for stimulus_id, member in zip(ids, members):
                yield stimulus_id, ".jpg", archive.read(member)

    return ImportedDataset(name=name, assembly=assembly, images=images,
                           metadata=pd.DataFrame({"stimulus_id": ids, "session": session}),
                           provenance={"importer": "cowley2023", "session": session,
                                       "sources": source_record(responses_path, zip_path)})


@register_importer
class Cowley2023Importer(Importer):
    """A folder of the V4_compact_models release (or the two files side by side, as fetched).

    ``open(folder, name=..., session="210325")`` -> ImportedDataset.
    """

    name = "cowley2023"
    description = "Cowley et al. 2023 V4 release (responses_raw/*.npy + images/*.zip)"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        return path.is_dir() and any(any(folder.glob("responses_*.npy")) and any(images.glob("images_*.zip"))
                                     for folder, images in ((path / "responses_raw", path / "images"), (path, path)))

    def open(self, path, *, name: str, session: str = "210325") -> ImportedDataset:
        return import_cowley2023(name, path, session=session)
