"""Allen Brain Observatory Visual Coding two-photon files (NWB 1.0 on HDF5), natural scenes.

Groups read (the layout the AllenSDK's ``BrainObservatoryNwbDataSet`` reads):

- ``processing/brain_observatory_pipeline/DfOverF/imaging_plane_1/data``: dF/F, (n_cells, n_frames);
- ``processing/brain_observatory_pipeline/ImageSegmentation/cell_specimen_ids``: (n_cells,);
- ``stimulus/presentation/natural_scenes_stimulus/data``: image index of each trial (-1 = blank)
  and ``frame_duration``: (n_trials, 2) first and end imaging frame of the trial;
- ``stimulus/templates/natural_scenes_image_stack/data``: (118, H, W) uint8 images;
- ``general/optophysiology/imaging_plane_1/location`` (area), ``.../imaging depth``
  ("175 microns"), ``general/subject/genotype`` (Cre line first), ``general/session_id``,
  ``general/experiment_container_id``, ``general/specimen_name`` (mouse, when present).

Per-trial response = mean sweep response: mean dF/F over the trial's frames [start, end)
(METHODS.md, two-photon). Blank trials are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import FileFormatError
from .dataset import ImportedDataset, encode_png, source_record
from .hdf5 import has_groups, open_hdf5, require
from .registry import Importer, register_importer

PIPELINE = "processing/brain_observatory_pipeline"
DFF = f"{PIPELINE}/DfOverF/imaging_plane_1/data"
CELL_IDS = f"{PIPELINE}/ImageSegmentation/cell_specimen_ids"
TABLE = "stimulus/presentation/{stimulus}_stimulus"
TEMPLATE = "stimulus/templates/{stimulus}_image_stack/data"
PLANE = "general/optophysiology/imaging_plane_1"
HINT = ("expected an Allen Visual Coding two-photon NWB 1 file of session B (natural scenes); session A and C "
        "files have no natural scenes")


def scene_id(frame: int) -> str:
    """Stimulus id of Allen natural scene ``frame`` (0..117)."""
    return f"scene{int(frame):03d}"


def _text(handle, key: str, default: str = "unknown") -> str:
    if key not in handle:
        return default
    value = handle[key][()]
    return value.decode() if isinstance(value, bytes) else str(value)


def mean_sweep_responses(dff: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Mean dF/F of every cell over every trial.

    Parameters
    ----------
    dff : ndarray of shape (n_cells, n_frames).
    frames : int ndarray of shape (n_trials, 2), first and end (exclusive) imaging frame.

    Returns
    -------
    ndarray of shape (n_trials, n_cells).
    """
    cumulative = np.concatenate([np.zeros((dff.shape[0], 1)), np.cumsum(dff, axis=1, dtype=np.float64)], axis=1)
    start, end = frames[:, 0], frames[:, 1]
    return ((cumulative[:, end] - cumulative[:, start]) / (end - start)).T


def read_allen_2p(path: str | Path, *, stimulus: str = "natural_scenes") -> tuple[xr.DataArray, np.ndarray]:
    """Trial responses and stimulus templates of one experiment.

    Returns
    -------
    assembly : xarray.DataArray (presentation, neuroid), mean sweep dF/F; presentation coords
        ``stimulus_id`` (``sceneNNN``), ``repetition``, ``frame``, ``start_frame``; neuroid coords
        ``neuroid_id`` (cell specimen id), ``region``, ``depth_um``, ``cre_line``,
        ``experiment_id``, ``animal``.
    templates : ndarray (n_images, H, W) uint8, or an empty array when the file has none.
    """
    path = Path(path)
    with open_hdf5(path) as handle:
        dff = np.asarray(require(handle, DFF, path, hint=HINT), dtype=np.float64)
        cells = np.asarray(require(handle, CELL_IDS, path, hint=HINT)).astype(str)
        table = require(handle, TABLE.format(stimulus=stimulus), path, hint=HINT)
        image = np.asarray(table["data"]).reshape(-1).astype(int)
        frames = np.asarray(table["frame_duration"]).astype(int)
        templates = np.asarray(handle[TEMPLATE.format(stimulus=stimulus)]) \
            if TEMPLATE.format(stimulus=stimulus) in handle else np.zeros((0, 0, 0), np.uint8)
        meta = {"region": _text(handle, f"{PLANE}/location"), "depth": _text(handle, f"{PLANE}/imaging depth", "0"),
                "genotype": _text(handle, "general/subject/genotype"),
                "experiment": _text(handle, "general/session_id"),
                "container": _text(handle, "general/experiment_container_id")}
        animal = _text(handle, "general/specimen_name", meta["container"])
    if dff.shape[0] != len(cells):
        raise FileFormatError(f"{path.name}: {dff.shape[0]} dF/F traces but {len(cells)} cell ids",
                              hint="the file is inconsistent; fetch it again")
    if frames.shape != (len(image), 2) or frames.min() < 0 or frames.max() > dff.shape[1] \
            or (frames[:, 1] <= frames[:, 0]).any():
        raise FileFormatError(f"{path.name}: the {stimulus} stimulus table does not fit the {dff.shape[1]} dF/F frames",
                              hint="expected frame_duration (n_trials, 2) of imaging-frame indices")
    shown = image >= 0  # -1 marks the blank (gray) screen
    responses = mean_sweep_responses(dff, frames[shown])
    image, frames = image[shown], frames[shown]
    repetition = pd.Series(image).groupby(image).cumcount().to_numpy()
    n = len(cells)
    depth = int(str(meta["depth"]).split()[0]) if str(meta["depth"]).split() else 0
    assembly = xr.DataArray(
        responses, dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", np.array([scene_id(i) for i in image])),
                "repetition": ("presentation", repetition), "frame": ("presentation", image),
                "start_frame": ("presentation", frames[:, 0]),
                "neuroid_id": ("neuroid", cells), "region": ("neuroid", np.full(n, meta["region"])),
                "depth_um": ("neuroid", np.full(n, depth)),
                "cre_line": ("neuroid", np.full(n, meta["genotype"].split(";")[0])),
                "experiment_id": ("neuroid", np.full(n, meta["experiment"])),
                "animal": ("neuroid", np.full(n, animal))},
        attrs={"species": "mouse", "unit": "mean dF/F over the trial", "source_format": "allen-2p-nwb1",
               "stimulus": stimulus})
    return assembly, templates


def import_allen_2p(name: str, path: str | Path, *, stimulus: str = "natural_scenes") -> ImportedDataset:
    """Import one two-photon experiment with its stimulus templates as the images."""
    assembly, templates = read_allen_2p(path, stimulus=stimulus)
    if len(templates) == 0:
        raise FileFormatError(f"{Path(path).name} has no {TEMPLATE.format(stimulus=stimulus)}",
                              hint="use a session-B file, which stores the 118 natural-scene images")
    assembly.attrs["identifier"] = name
    ids = [scene_id(i) for i in range(len(templates))]

    def images():
        for i, stimulus_id in enumerate(ids):
            yield stimulus_id, ".png", encode_png(templates[i])

    return ImportedDataset(name=name, assembly=assembly, images=images,
                           metadata=pd.DataFrame({"stimulus_id": ids, "frame": np.arange(len(ids))}),
                           provenance={"importer": "allen-2p", "stimulus": stimulus,
                                       "response": "mean dF/F over each trial's frames",
                                       "sources": source_record(path)})


@register_importer
class Allen2pImporter(Importer):
    """An NWB 1 file with the Brain Observatory pipeline's dF/F; ``open(path, name=...)`` -> ImportedDataset."""

    name = "allen-2p"
    description = "Allen Brain Observatory Visual Coding two-photon NWB 1 file (natural scenes)"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        return path.suffix == ".nwb" and path.is_file() and has_groups(path, DFF)

    def open(self, path, *, name: str, stimulus: str = "natural_scenes") -> ImportedDataset:
        return import_allen_2p(name, path, stimulus=stimulus)
