"""The NeuralAssembly data model: an ``xarray.DataArray`` of recorded responses.

Dims are ``presentation`` x ``neuroid`` (optionally x ``time_bin``). Coordinates are plain (no
MultiIndex, no dimension index): on ``presentation`` at least ``stimulus_id`` (str) and
``repetition`` (int); on ``neuroid`` at least ``neuroid_id`` (str), usually ``region`` and
``animal``. Stimuli are always matched by ``stimulus_id``, never by position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError

NAN_POLICIES = ("raise", "missing")


def validate_assembly(assembly, *, nan_policy: str = "raise") -> xr.DataArray:
    """Check an assembly against the schema and return it with plain coordinates.

    Parameters
    ----------
    assembly : xarray.DataArray with dims ``presentation`` and ``neuroid`` (and optionally
        ``time_bin``).
    nan_policy : ``"raise"`` rejects any non-finite value; ``"missing"`` accepts NaN as a missing
        trial (e.g. NaN-padded repetitions) but rejects infinities and neuroids or stimuli that
        are NaN everywhere.

    Returns
    -------
    xarray.DataArray
        The same data with MultiIndexes reset to plain coordinates, a ``repetition`` coordinate
        (0 for every presentation when absent) and ``stimulus_id``/``neuroid_id`` as str.
    """
    if nan_policy not in NAN_POLICIES:
        raise DataError(f"unknown nan_policy {nan_policy!r}", hint=f"use one of {', '.join(NAN_POLICIES)}")
    if not isinstance(assembly, xr.DataArray):
        raise DataError(f"an assembly must be an xarray.DataArray, got {type(assembly).__name__}")
    assembly = _reset_indexes(assembly)
    for dim in ("presentation", "neuroid"):
        if dim not in assembly.dims:
            raise DataError(f"assembly has no {dim!r} dimension (dims: {', '.join(map(str, assembly.dims))})",
                            hint="a NeuralAssembly has dims presentation x neuroid [x time_bin]")
    extra = set(assembly.dims) - {"presentation", "neuroid", "time_bin"}
    if extra:
        raise DataError(f"assembly has unexpected dimensions {sorted(extra)}",
                        hint="a NeuralAssembly has dims presentation x neuroid [x time_bin]")
    _require_coord(assembly, "stimulus_id", "presentation",
                   hint="name each presentation's image in a 'stimulus_id' coordinate "
                        "(Brain-Score's legacy 'image_id' is read by the brainscore importer)")
    _require_coord(assembly, "neuroid_id", "neuroid", hint="give each neuroid a unique 'neuroid_id'")
    if "repetition" not in assembly.coords:
        assembly = assembly.assign_coords(repetition=("presentation", np.zeros(assembly.sizes["presentation"], int)))
    else:
        _require_coord(assembly, "repetition", "presentation", hint="")
    assembly = assembly.assign_coords(
        stimulus_id=("presentation", assembly["stimulus_id"].values.astype(str)),
        neuroid_id=("neuroid", assembly["neuroid_id"].values.astype(str)),
    )
    _check_unique(assembly)
    _check_values(assembly, nan_policy)
    return assembly


def _reset_indexes(assembly: xr.DataArray) -> xr.DataArray:
    """Turn every dimension index (MultiIndex included) into plain coordinates."""
    indexed = [name for name in assembly.indexes]
    return assembly.reset_index(indexed) if indexed else assembly


def _require_coord(assembly: xr.DataArray, name: str, dim: str, *, hint: str) -> None:
    if name not in assembly.coords:
        raise DataError(f"assembly has no {name!r} coordinate", hint=hint or None)
    if assembly[name].dims != (dim,):
        raise DataError(f"coordinate {name!r} must lie along {dim!r}, not {assembly[name].dims}")


def _check_unique(assembly: xr.DataArray) -> None:
    ids = pd.Index(assembly["neuroid_id"].values)
    if ids.has_duplicates:
        raise DataError(f"duplicate neuroid_id {ids[ids.duplicated()][0]!r}", hint="neuroid_id must be unique")
    pairs = pd.MultiIndex.from_arrays([assembly["stimulus_id"].values, assembly["repetition"].values])
    if pairs.has_duplicates:
        stim, rep = pairs[pairs.duplicated()][0]
        raise DataError(f"duplicate presentation (stimulus_id={stim!r}, repetition={rep})",
                        hint="each (stimulus_id, repetition) pair may appear once; number repeated trials")


def _check_values(assembly: xr.DataArray, nan_policy: str) -> None:
    values = np.asarray(assembly.values)
    if not np.issubdtype(values.dtype, np.number):
        raise DataError(f"assembly values must be numeric, got dtype {values.dtype}")
    if np.isinf(values).any():
        raise DataError("assembly contains infinite values", hint="replace or drop them before scoring")
    nan = np.isnan(values)
    if not nan.any():
        return
    if nan_policy == "raise":
        raise DataError(f"assembly contains {int(nan.sum())} NaN values",
                        hint="drop them, or pass nan_policy='missing' if they mark missing trials")
    other_axes = tuple(i for i, d in enumerate(assembly.dims) if d != "neuroid")
    all_nan = nan.all(axis=other_axes)
    if all_nan.any():
        first = assembly["neuroid_id"].values[np.argmax(all_nan)]
        raise DataError(f"{int(all_nan.sum())} neuroid(s) are NaN everywhere (first: {first!r})",
                        hint="drop those neuroids")


@dataclass(frozen=True)
class TrialArray:
    """Responses arranged by repetition.

    Attributes
    ----------
    values : ndarray of shape (n_repetitions, n_stimuli, n_neuroids), NaN where a repetition
        is missing.
    stimulus_ids : ndarray of shape (n_stimuli,), sorted.
    neuroid_ids : ndarray of shape (n_neuroids,).
    """

    values: np.ndarray
    stimulus_ids: np.ndarray
    neuroid_ids: np.ndarray

    def mean(self) -> np.ndarray:
        """Repetition average, shape (n_stimuli, n_neuroids); NaN repetitions ignored."""
        count = np.sum(~np.isnan(self.values), axis=0)
        total = np.nansum(self.values, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def trial_array(assembly: xr.DataArray) -> TrialArray:
    """Arrange a validated 2-D assembly as (repetition, stimulus, neuroid).

    Stimuli come in sorted ``stimulus_id`` order (the order of Brain-Score's repetition
    averaging, which the cross-validation split indices refer to); repetitions in sorted order of
    their values. A (stimulus, repetition) pair that was not recorded is NaN.
    """
    if "time_bin" in assembly.dims:
        raise DataError("assembly still has a time_bin dimension",
                        hint="average a time window first (brainalign.neural.average_time_window)")
    assembly = assembly.transpose("presentation", "neuroid")
    stim_codes, stimulus_ids = pd.factorize(assembly["stimulus_id"].values, sort=True)
    rep_codes, _ = pd.factorize(assembly["repetition"].values, sort=True)
    n_rep = rep_codes.max() + 1
    values = np.full((n_rep, len(stimulus_ids), assembly.sizes["neuroid"]), np.nan)
    values[rep_codes, stim_codes] = np.asarray(assembly.values, dtype=np.float64)
    return TrialArray(values=values, stimulus_ids=np.asarray(stimulus_ids, dtype=str),
                      neuroid_ids=assembly["neuroid_id"].values.astype(str))


def stimulus_metadata(assembly: xr.DataArray, stimulus_ids: np.ndarray) -> pd.DataFrame:
    """Per-stimulus coordinates of ``assembly`` (those constant over a stimulus), in ``stimulus_ids`` order."""
    columns = {name: coord.values for name, coord in assembly.coords.items()
               if coord.dims == ("presentation",) and name not in ("repetition",)}
    frame = pd.DataFrame(columns).drop_duplicates("stimulus_id").set_index("stimulus_id")
    return frame.reindex(stimulus_ids)


def average_time_window(assembly: xr.DataArray, start: float, end: float) -> xr.DataArray:
    """Mean over time bins whose start lies in [start, end); drops the ``time_bin`` dim.

    Needs ``time_bin_start`` on the ``time_bin`` dimension (milliseconds).
    """
    if "time_bin" not in assembly.dims:
        return assembly
    if "time_bin_start" not in assembly.coords:
        raise DataError("assembly has a time_bin dimension but no 'time_bin_start' coordinate")
    starts = assembly["time_bin_start"].values
    keep = (starts >= start) & (starts < end)
    if not keep.any():
        raise DataError(f"no time bin starts in [{start}, {end}) ms",
                        hint=f"bins start between {starts.min()} and {starts.max()} ms")
    return assembly.isel(time_bin=np.flatnonzero(keep)).mean("time_bin", keep_attrs=True)
