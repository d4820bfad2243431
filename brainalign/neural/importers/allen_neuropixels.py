"""Allen Brain Observatory Visual Coding Neuropixels session files (NWB 2 on HDF5), natural scenes.

Groups read (NWB 2 schema, as the AllenSDK writes them):

- ``units/id``, ``units/spike_times`` (all units' spikes, s) with ``units/spike_times_index``
  (end offset of each unit's spikes), optional quality metrics ``units/{quality, snr,
  isi_violations, amplitude_cutoff, presence_ratio, firing_rate}``;
- the unit's area: ``units/peak_channel_id`` matched to ``general/extracellular_ephys/electrodes/id``
  and its ``location`` (the AllenSDK's ``ecephys_structure_acronym``), or else the first row of
  ``units/electrodes`` (a region of the electrodes table);
- ``intervals/natural_scenes_presentations/{start_time, stop_time, frame}`` (frame -1 = blank).

Counts: spikes in bins ``[onset + k * bin, onset + (k + 1) * bin)`` for the bins inside the window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import FileFormatError
from .allen_2p import scene_id
from .dataset import ImportedDataset, source_record
from .hdf5 import has_groups, open_hdf5, require
from .registry import Importer, register_importer

QUALITY_METRICS = ("snr", "isi_violations", "amplitude_cutoff", "presence_ratio", "firing_rate")
ELECTRODES = "general/extracellular_ephys/electrodes"
PRESENTATIONS = "intervals/natural_scenes_presentations"
HINT = ("expected an Allen Visual Coding Neuropixels session NWB 2 file (Brain Observatory 1.1 sessions show "
        "natural scenes)")


def binned_counts(spike_times: np.ndarray, onsets: np.ndarray, edges_s: np.ndarray) -> np.ndarray:
    """Spike counts of one unit per trial and bin.

    Parameters
    ----------
    spike_times : sorted ndarray (n_spikes,), seconds.
    onsets : ndarray (n_trials,), seconds.
    edges_s : ndarray (n_bins + 1,), bin edges relative to onset, seconds.

    Returns
    -------
    int ndarray of shape (n_trials, n_bins).
    """
    positions = np.searchsorted(spike_times, onsets[:, None] + edges_s[None, :], side="left")
    return np.diff(positions, axis=1)


def _column(handle, key: str):
    values = np.asarray(handle[key])
    return values.astype(str) if values.dtype.kind in "SO" else values


def _unit_regions(handle, n_units: int) -> np.ndarray:
    if ELECTRODES in handle and "location" in handle[ELECTRODES]:
        electrode_ids = np.asarray(handle[f"{ELECTRODES}/id"])
        locations = _column(handle, f"{ELECTRODES}/location")
        if "units/peak_channel_id" in handle:
            lookup = pd.Series(locations, index=electrode_ids)
            return lookup.reindex(np.asarray(handle["units/peak_channel_id"])).fillna("unknown").to_numpy(str)
        if "units/electrodes" in handle and "units/electrodes_index" in handle:
            rows = np.asarray(handle["units/electrodes"])
            ends = np.asarray(handle["units/electrodes_index"])
            starts = np.concatenate([[0], ends[:-1]])
            return np.array([locations[rows[s]] if e > s else "unknown" for s, e in zip(starts, ends)])
    return np.full(n_units, "unknown")


def read_allen_neuropixels(path: str | Path, *, bin_ms: float = 10.0, window_ms: tuple[float, float] = (0.0, 250.0),
                           stimulus: str = "natural_scenes", areas=None) -> xr.DataArray:
    """Binned spike counts of every unit on every natural-scene trial.

    Returns
    -------
    xarray.DataArray (presentation, neuroid, time_bin) of spike counts; coords ``stimulus_id``,
    ``repetition``, ``frame``, ``start_time`` on presentation; ``neuroid_id`` (unit id),
    ``region`` and the quality metrics present on neuroid; ``time_bin_start``/``time_bin_end`` (ms).
    """
    path = Path(path)
    edges_ms = np.arange(window_ms[0], window_ms[1] + 1e-9, bin_ms)
    if len(edges_ms) < 2:
        raise FileFormatError(f"window {window_ms} ms holds no {bin_ms} ms bin", hint="widen the window")
    with open_hdf5(path) as handle:
        ids = np.asarray(require(handle, "units/id", path, hint=HINT)).astype(str)
        spikes = np.asarray(require(handle, "units/spike_times", path, hint=HINT), dtype=np.float64)
        ends = np.asarray(require(handle, "units/spike_times_index", path, hint=HINT)).astype(int)
        table = f"intervals/{stimulus}_presentations"
        onsets = np.asarray(require(handle, f"{table}/start_time", path, hint=HINT), dtype=np.float64)
        frame = np.asarray(require(handle, f"{table}/frame", path, hint=HINT)).astype(float).astype(int)
        regions = _unit_regions(handle, len(ids))
        metrics = {m: _column(handle, f"units/{m}") for m in (*QUALITY_METRICS, "quality") if f"units/{m}" in handle}
    if len(ends) != len(ids):
        raise FileFormatError(f"{path.name}: {len(ids)} units but {len(ends)} spike_times_index entries",
                              hint="the units table is inconsistent; fetch the file again")
    keep_units = np.ones(len(ids), bool) if areas is None else np.isin(regions, list(areas))
    shown = frame >= 0
    onsets, frame = onsets[shown], frame[shown]
    starts = np.concatenate([[0], ends[:-1]])
    counts = np.stack([binned_counts(np.sort(spikes[s:e]), onsets, edges_ms / 1000.0)
                       for s, e, k in zip(starts, ends, keep_units) if k], axis=1)  # trial x unit x bin
    repetition = pd.Series(frame).groupby(frame).cumcount().to_numpy()
    neuroid = {"neuroid_id": ("neuroid", ids[keep_units]), "region": ("neuroid", regions[keep_units])}
    neuroid.update({m: ("neuroid", v[keep_units]) for m, v in metrics.items()})
    return xr.DataArray(
        counts.astype(np.float32), dims=("presentation", "neuroid", "time_bin"),
        coords={"stimulus_id": ("presentation", np.array([scene_id(i) for i in frame])),
                "repetition": ("presentation", repetition), "frame": ("presentation", frame),
                "start_time": ("presentation", onsets), **neuroid,
                "time_bin_start": ("time_bin", edges_ms[:-1]), "time_bin_end": ("time_bin", edges_ms[1:])},
        attrs={"species": "mouse", "unit": f"spike count per {bin_ms:g} ms", "source_format": "allen-neuropixels-nwb2",
               "stimulus": stimulus})


def per_bin_reliability(counts: xr.DataArray, *, seed: int = 1) -> np.ndarray:
    """Split-half Spearman-Brown reliability of every unit in every bin, shape (n_bins, n_units)."""
    from ..reliability import neuroid_reliability

    return np.stack([neuroid_reliability(counts.isel(time_bin=k), seed=seed) for k in range(counts.sizes["time_bin"])])


def nayebi_units(counts: xr.DataArray, *, seed: int = 1) -> np.ndarray:
    """Bool mask of units whose reliability reaches ``NAYEBI_NEUROPIXELS_MIN`` (0.5) in some bin.

    (Nayebi et al. 2023 also drop running-modulated units; that needs running speed, not read here.)
    """
    from ..reliability import NAYEBI_NEUROPIXELS_MIN

    return np.nanmax(np.nan_to_num(per_bin_reliability(counts, seed=seed), nan=-np.inf), axis=0) \
        >= NAYEBI_NEUROPIXELS_MIN


def choose_window(counts: xr.DataArray, *, seed: int = 1) -> tuple[float, float]:
    """Nayebi et al. 2023 window: longest run of bins where the median unit reliability >= 0.3."""
    from ..reliability import nayebi_window

    first, stop = nayebi_window(np.nanmedian(per_bin_reliability(counts, seed=seed), axis=1))
    return float(counts["time_bin_start"].values[first]), float(counts["time_bin_end"].values[stop - 1])


def import_allen_neuropixels(name: str, path: str | Path, images, *, bin_ms: float = 10.0,
                             window_ms: tuple[float, float] = (0.0, 250.0),
                             time_window: tuple[float, float] | None = None, areas=None,
                             select_units: bool = False) -> ImportedDataset:
    """Import one session: counts averaged over ``time_window`` (default: Nayebi's reliability window).

    ``images`` is an image source (see :mod:`.dataset`) giving the natural scenes as ``sceneNNN``.
    ``select_units`` keeps only units passing :func:`nayebi_units`.
    """
    from ..assembly import average_time_window
    from ...errors import DataError

    counts = read_allen_neuropixels(path, bin_ms=bin_ms, window_ms=window_ms, areas=areas)
    unit_rule = None
    if select_units:
        keep = nayebi_units(counts)
        if not keep.any():
            raise DataError("no unit reaches split-half reliability 0.5 in any bin",
                            hint="drop --nayebi-units or check the session")
        unit_rule = {"rule": "nayebi2023: reliability >= 0.5 in some bin", "kept": int(keep.sum()), "of": int(keep.size)}
        counts = counts.isel(neuroid=np.flatnonzero(keep))
    rule = "given"
    if time_window is None:
        time_window, rule = choose_window(counts), "nayebi2023: longest run with median split-half reliability >= 0.3"
    assembly = average_time_window(counts, *time_window)
    assembly = assembly.drop_vars(["time_bin_start", "time_bin_end"], errors="ignore")
    assembly.attrs = {**counts.attrs, "identifier": name, "time_window": list(time_window)}
    return ImportedDataset(name=name, assembly=assembly, images=images,
                           metadata=pd.DataFrame({"stimulus_id": np.unique(assembly["stimulus_id"].values)}),
                           provenance={"importer": "allen-neuropixels", "bin_ms": bin_ms,
                                       "time_window": list(time_window), "time_window_rule": rule,
                                       "unit_selection": unit_rule,
                                       "sources": source_record(path)})


@register_importer
class AllenNeuropixelsImporter(Importer):
    """An NWB 2 session with units and natural-scene presentations.

    ``open(path, name=..., images=..., **options)`` -> ImportedDataset (options of
    :func:`import_allen_neuropixels`).
    """

    name = "allen-neuropixels"
    description = "Allen Brain Observatory Visual Coding Neuropixels NWB 2 session file (natural scenes)"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        return path.suffix == ".nwb" and path.is_file() and has_groups(path, "units/spike_times", PRESENTATIONS)

    def open(self, path, *, name: str, images, **options) -> ImportedDataset:
        return import_allen_neuropixels(name, path, images, **options)
