"""Score layer activations on a neural benchmark with the ``brainscore`` protocol."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from threadpoolctl import threadpool_limits

from .._io import sha256_bytes
from ..errors import DataError
from ..metrics.ceiling import spearman_brown_split_half
from ..metrics.conventions import DEFAULT_CONVENTION, ceiled_score
from ..metrics.pls import linear_kernel
from ..metrics.predictivity import cross_validated_predictivity
from ..metrics.splits import brainscore_splits
from ..neural.assembly import stimulus_metadata, trial_array
from .base import BrainScoreProtocol, NeuralBenchmark

# Below this many stimuli the per-split PLS fits are many small (n x n) products, where BLAS threads
# cost more in synchronisation than they gain: one thread ran the demo 2.8x faster on 2 cores.
SINGLE_THREAD_BELOW = 1024


@dataclass(frozen=True)
class LayerScore:
    """One layer's score on one benchmark (all values are Pearson r unless named ``ceiled``)."""

    layer: str
    raw: float
    error: float
    per_split: list
    ceiling: float
    ceiling_per_split: list
    ceiled: float
    convention: str
    n_stimuli: int
    n_neuroids: int
    n_units: int
    selection_raw: float
    heldout_raw: float
    heldout_ceiling: float
    heldout_ceiled: float
    n_selection: int
    n_heldout: int
    notes: list  # warnings raised while fitting (e.g. PLS power iterations that hit max_iter, as in sklearn)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Target:
    responses: np.ndarray      # (n_repetitions, n_stimuli, n_neuroids)
    mean: np.ndarray           # (n_stimuli, n_neuroids)
    stimulus_ids: np.ndarray   # (n_stimuli,)
    labels: np.ndarray | None  # (n_stimuli,) stratification labels


def _target(benchmark: NeuralBenchmark) -> _Target:
    assembly = benchmark.load_assembly()
    trials = trial_array(assembly)
    labels = None
    if benchmark.stratify_coord is not None:
        metadata = stimulus_metadata(assembly, trials.stimulus_ids)
        labels = metadata[benchmark.stratify_coord].to_numpy()
    return _Target(trials.values, trials.mean(), trials.stimulus_ids, labels)


def check_stimulus_ids(activations: xr.DataArray, stimulus_ids: np.ndarray, *, layer: str) -> pd.Index:
    """The activations' stimulus ids as an Index; DataError if repeated or if any of ``stimulus_ids`` is absent."""
    have = pd.Index(activations["stimulus_id"].values.astype(str))
    if have.has_duplicates:
        raise DataError(f"activations of layer {layer!r} repeat stimulus_id {have[have.duplicated()][0]!r}")
    missing = pd.Index(stimulus_ids).difference(have)
    if len(missing):
        raise DataError(f"activations of layer {layer!r} lack {len(missing)} of the assembly's "
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


def selection_partition(n_stimuli: int, labels, protocol: BrainScoreProtocol) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of the layer-selection part and the held-out part of the stimuli."""
    kwargs = dict(n_splits=1, train_size=protocol.selection_fraction, random_state=protocol.selection_seed)
    splitter = StratifiedShuffleSplit(**kwargs) if labels is not None else ShuffleSplit(**kwargs)
    selection, heldout = next(splitter.split(np.zeros(n_stimuli), labels))
    return np.sort(selection), np.sort(heldout)


def _splits(labels, n: int, protocol: BrainScoreProtocol):
    return brainscore_splits(n, n_splits=protocol.n_splits, train_size=protocol.train_size,
                             random_state=protocol.random_state, stratify=labels)


def _ceiling(responses: np.ndarray, protocol: BrainScoreProtocol):
    return spearman_brown_split_half(responses, n_splits=protocol.ceiling_splits,
                                     random_state=protocol.random_state)


def score_layers(benchmark: NeuralBenchmark, activations: dict[str, xr.DataArray], *,
                 convention: str = DEFAULT_CONVENTION, gram_cache: dict | None = None) -> list[LayerScore]:
    """Score each layer of ``activations`` ({layer: DataArray(stimulus, unit)}) on ``benchmark``.

    Returns one LayerScore per layer, in the order given. The full-data score follows the
    protocol exactly; the selection / held-out scores implement the layer commitment of
    :class:`BrainScoreProtocol`. ``gram_cache`` (a dict the caller keeps for one model) shares each layer's
    (n_stimuli, n_stimuli) kernel between benchmarks that use the same stimuli.
    """
    gram_cache = {} if gram_cache is None else gram_cache
    protocol = benchmark.protocol
    target = _target(benchmark)
    for layer, array in activations.items():
        check_stimulus_ids(array, target.stimulus_ids, layer=layer)
    n = len(target.stimulus_ids)
    labels = target.labels
    selection, heldout = selection_partition(n, labels, protocol)
    part_labels = (None, None) if labels is None else (labels[selection], labels[heldout])
    splits = {"full": _splits(labels, n, protocol),
              "selection": _splits(part_labels[0], len(selection), protocol),
              "heldout": _splits(part_labels[1], len(heldout), protocol)}
    ceiling = _ceiling(target.responses, protocol)
    heldout_ceiling = _ceiling(target.responses[:, heldout], protocol)

    scores = []
    for layer, array in activations.items():
        features = align_features(array, target.stimulus_ids, layer=layer)
        cache_key = (layer, sha256_bytes("\n".join(target.stimulus_ids).encode()))
        if cache_key not in gram_cache:
            gram_cache[cache_key] = linear_kernel(features)
        gram = gram_cache[cache_key]
        blas_threads = 1 if n < SINGLE_THREAD_BELOW else None
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(blas_threads):
            warnings.simplefilter("always")
            full = cross_validated_predictivity(features, target.mean, splits=splits["full"],
                                                n_components=protocol.n_components, gram=gram)
            parts = {}
            for name, index in (("selection", selection), ("heldout", heldout)):
                parts[name] = cross_validated_predictivity(
                    features[index], target.mean[index], splits=splits[name],
                    n_components=protocol.n_components, gram=gram[np.ix_(index, index)])
        scores.append(LayerScore(
            layer=layer, raw=float(full.raw), error=float(full.error),
            per_split=[float(v) for v in full.per_split],
            ceiling=float(ceiling.ceiling), ceiling_per_split=[float(v) for v in ceiling.per_split],
            ceiled=float(ceiled_score(full.raw, ceiling.ceiling, convention)), convention=convention,
            n_stimuli=n, n_neuroids=target.mean.shape[1], n_units=features.shape[1],
            selection_raw=float(parts["selection"].raw), heldout_raw=float(parts["heldout"].raw),
            heldout_ceiling=float(heldout_ceiling.ceiling),
            heldout_ceiled=float(ceiled_score(parts["heldout"].raw, heldout_ceiling.ceiling, convention)),
            n_selection=len(selection), n_heldout=len(heldout),
            notes=sorted({f"{w.category.__name__}: {w.message}" for w in caught})))
    return scores
