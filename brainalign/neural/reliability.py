"""Per-neuroid split-half reliability and the selection of reliable neuroids.

Reliability of a neuroid = Spearman-Brown corrected Pearson r between the means of two random
halves of the repetitions, averaged over ``n_splits`` halvings (Brain-Score's internal
consistency, :func:`brainalign.metrics.ceiling.spearman_brown_split_half`). The Nayebi et al.
2023 rules of METHODS.md for Allen data are :func:`nayebi_window` (Neuropixels time window) and
the thresholds ``NAYEBI_NEUROPIXELS_MIN`` / ``NAYEBI_TWO_PHOTON_MIN``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError
from ..metrics.ceiling import spearman_brown_split_half
from .assembly import trial_array

NAYEBI_NEUROPIXELS_MIN = 0.5   # unit kept if its SB split-half r >= 0.5 at some 10 ms bin
NAYEBI_WINDOW_MEDIAN = 0.3     # window: longest run of bins with area median reliability >= 0.3
NAYEBI_TWO_PHOTON_MIN = 0.75   # two-photon cells kept if reliability >= 0.75


def neuroid_reliability(assembly: xr.DataArray, *, n_splits: int = 10, seed: int = 1) -> np.ndarray:
    """Split-half reliability of each neuroid of a 2-D assembly, shape (n_neuroids,).

    NaN where a neuroid's halves never correlate (e.g. fewer than 2 repetitions).
    """
    trials = trial_array(assembly)
    if trials.values.shape[0] < 2:
        raise DataError("reliability needs at least 2 repetitions per stimulus",
                        hint="this assembly has a single repetition; omit --min-reliability")
    return spearman_brown_split_half(trials.values, n_splits=n_splits, random_state=seed).per_neuroid


def select_reliable(assembly: xr.DataArray, min_reliability: float, *, n_splits: int = 10,
                    seed: int = 1) -> xr.DataArray:
    """Keep neuroids whose reliability is >= ``min_reliability``; records the rule in ``attrs["selection"]``.

    Adds a ``reliability`` coordinate on ``neuroid``. DataError if no neuroid passes.
    """
    reliability = neuroid_reliability(assembly, n_splits=n_splits, seed=seed)
    keep = np.nan_to_num(reliability, nan=-np.inf) >= min_reliability
    if not keep.any():
        raise DataError(f"no neuroid reaches reliability {min_reliability} "
                        f"(best {np.nanmax(reliability):.3f})", hint="lower --min-reliability")
    selected = assembly.assign_coords(reliability=("neuroid", reliability)).isel(neuroid=np.flatnonzero(keep))
    selected.attrs = {**assembly.attrs, "selection": {
        "rule": "spearman-brown split-half reliability >= threshold", "min_reliability": float(min_reliability),
        "n_splits": n_splits, "seed": seed, "kept": int(keep.sum()), "of": int(keep.size)}}
    return selected


def nayebi_window(median_reliability: np.ndarray, *, threshold: float = NAYEBI_WINDOW_MEDIAN) -> tuple[int, int]:
    """Longest contiguous run of time bins with ``median_reliability >= threshold``.

    Parameters
    ----------
    median_reliability : ndarray of shape (n_bins,), an area's median unit reliability per bin.

    Returns
    -------
    (first, stop) bin indices (stop exclusive); DataError when no bin passes.
    """
    passing = np.nan_to_num(np.asarray(median_reliability, dtype=float), nan=-np.inf) >= threshold
    best, start = (0, 0), None
    for index, ok in enumerate(np.append(passing, False)):
        if ok and start is None:
            start = index
        elif not ok and start is not None:
            if index - start > best[1] - best[0]:
                best = (start, index)
            start = None
    if best == (0, 0):
        raise DataError(f"no time bin has median reliability >= {threshold}",
                        hint="give the window by hand with --time-window START,END")
    return best
