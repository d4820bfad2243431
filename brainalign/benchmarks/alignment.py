"""Model features and neural targets put side by side: matched by ``stimulus_id``, never by row order.

:func:`neural_target` turns a benchmark's assembly into trial arrays with the stratification labels
and the animal of each neuroid; :func:`align_features` reorders a layer's rows to the target's
stimulus ids, refusing missing, repeated or non-finite ones.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from ..neural.assembly import stimulus_metadata, trial_array


@dataclass(frozen=True)
class NeuralTarget:
    """A benchmark's responses, ready to score against.

    Attributes
    ----------
    responses : ndarray of shape (n_repetitions, n_stimuli, n_neuroids), NaN where a repetition is missing.
    mean : ndarray of shape (n_stimuli, n_neuroids), the repetition average.
    stimulus_ids : ndarray of shape (n_stimuli,).
    labels : ndarray of shape (n_stimuli,), the stratification labels, or None.
    animals : ndarray of shape (n_neuroids,), the animal / subject of each neuroid, or None.
    """

    responses: np.ndarray
    mean: np.ndarray
    stimulus_ids: np.ndarray
    labels: np.ndarray | None
    animals: np.ndarray | None


def neural_target(benchmark) -> NeuralTarget:
    """The :class:`NeuralTarget` of a :class:`.predictivity.NeuralBenchmark` (its assembly is loaded here)."""
    assembly = benchmark.load_assembly()
    trials = trial_array(assembly)
    labels = None
    if benchmark.stratify_coord is not None:
        metadata = stimulus_metadata(assembly, trials.stimulus_ids)
        labels = metadata[benchmark.stratify_coord].to_numpy()
    animals = None
    for name in ("animal", "subject"):
        if name in assembly.coords and assembly[name].dims == ("neuroid",):
            order = pd.Index(assembly["neuroid_id"].values.astype(str)).get_indexer(trials.neuroid_ids)
            animals = assembly[name].values.astype(str)[order]
            break
    return NeuralTarget(trials.values, trials.mean(), trials.stimulus_ids, labels, animals)


def check_stimulus_ids(activations: xr.DataArray, stimulus_ids: np.ndarray, *, layer: str) -> pd.Index:
    """The activations' stimulus ids as an Index; DataError if repeated or if any of ``stimulus_ids`` is absent."""
    have = pd.Index(activations["stimulus_id"].values.astype(str))
    if have.has_duplicates:
        raise DataError(f"activations of layer {layer!r} repeat stimulus_id {have[have.duplicated()][0]!r}")
    missing = pd.Index(stimulus_ids).difference(have)
    if len(missing):
        raise DataError(f"activations of layer {layer!r} lack {len(missing)} of the benchmark's "
                        f"{len(stimulus_ids)} stimulus ids (first missing: {missing[0]!r})",
                        hint="extract on the benchmark's own stimulus set, or check that the ids match")
    return have


def align_features(activations: xr.DataArray, stimulus_ids: np.ndarray, *, layer: str) -> np.ndarray:
    """Rows of ``activations`` (stimulus x unit) reordered to ``stimulus_ids``; DataError on mismatch or NaN."""
    have = check_stimulus_ids(activations, stimulus_ids, layer=layer)
    values = np.asarray(activations.values)[have.get_indexer(stimulus_ids)]
    if not np.isfinite(values).all():
        raise DataError(f"activations of layer {layer!r} contain NaN or infinite values",
                        hint="check the model's numerics (e.g. input normalisation) for this layer")
    return values


def constant_neuroids(mean: np.ndarray) -> list[int]:
    """Indices of the neuroids whose mean responses (n_stimuli, n_neuroids) do not vary (no defined r)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(mean, axis=0) - np.nanmin(mean, axis=0)
    return [int(i) for i in np.flatnonzero(~(spread > 0))]
