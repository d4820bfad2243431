"""The ``brainscore`` and ``brainalign`` predictivity protocols (:class:`.protocols.BrainScoreProtocol`).

``brainscore``: Brain-Score's PLS (or ridge) predictivity over stratified ShuffleSplits with the
split-half ceiling, on all the stimuli. ``brainalign`` (the default) adds the layer commitment:
the same scores on a *selection* half and a *held-out* half of the stimuli
(:func:`.commitment.selection_partition`). Both report bootstrap intervals over stimuli and
neuroids (:func:`.intervals.prediction_ci`).
"""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from ..metrics.conventions import ceiled_score
from ..metrics.pls import linear_kernel
from ..metrics.predictivity import cross_validated_predictivity
from ..metrics.splits import brainscore_splits
from ..safe_files import sha256_bytes
from .alignment import NeuralTarget, align_features, constant_neuroids
from .ceilings import SplitHalfCeiling
from .commitment import selection_partition
from .intervals import prediction_ci
from .layer_score import LayerScore, blas_threads
from .options import ScoreOptions
from .protocols import BrainScoreProtocol


def prediction_splits(labels, n: int, protocol: BrainScoreProtocol):
    """The protocol's (train, test) index splits of ``n`` stimuli, stratified by ``labels`` (n,) or None."""
    return brainscore_splits(n, n_splits=protocol.n_splits, train_size=protocol.train_size,
                             random_state=protocol.random_state, stratify=labels)


def score_brainscore(activations: dict, target: NeuralTarget, protocol: BrainScoreProtocol, *, convention: str,
                     options: ScoreOptions, gram_cache: dict) -> list[LayerScore]:
    """One LayerScore per layer of ``activations`` ({layer: DataArray(stimulus, unit)}) on ``target``.

    ``gram_cache`` shares each layer's (n_stimuli, n_stimuli) kernel between benchmarks on the same stimuli.
    """
    n = len(target.stimulus_ids)
    labels = target.labels
    with_split = options.protocol == "brainalign"
    selection, heldout = selection_partition(n, labels, protocol)
    part_labels = (None, None) if labels is None else (labels[selection], labels[heldout])
    splits = {"full": prediction_splits(labels, n, protocol)}
    if with_split:
        splits.update(selection=prediction_splits(part_labels[0], len(selection), protocol),
                      heldout=prediction_splits(part_labels[1], len(heldout), protocol))
    ceiling = SplitHalfCeiling(target.responses, protocol)
    heldout_ceiling = SplitHalfCeiling(target.responses[:, heldout], protocol) if with_split else None
    constant = constant_neuroids(target.mean)
    fit = dict(n_components=protocol.n_components, regression=options.regression, alphas=options.alphas,
               backend=options.backend)

    scores = []
    for layer, array in activations.items():
        if str(array.attrs.get("representation", "")).startswith("rdm:"):
            raise ValueError(f"layer {layer!r}: RDM features cannot be regressed on (they keep only the RDM)")
        features = align_features(array, target.stimulus_ids, layer=layer)
        cache_key = (layer, sha256_bytes("\n".join(target.stimulus_ids).encode()))
        if cache_key not in gram_cache:
            gram_cache[cache_key] = linear_kernel(features)
        gram = gram_cache[cache_key]
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(blas_threads(n)):
            warnings.simplefilter("always")
            full = cross_validated_predictivity(features, target.mean, splits=splits["full"], gram=gram, **fit)
            parts = {}
            if with_split:
                for name, index in (("selection", selection), ("heldout", heldout)):
                    parts[name] = cross_validated_predictivity(
                        features[index], target.mean[index], splits=splits[name],
                        gram=gram[np.ix_(index, index)], **fit)
        notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        if constant:
            notes.append(f"{len(constant)} constant neuroid(s) have no defined r and are left out of the "
                         f"medians (indices {constant[:10]}{'...' if len(constant) > 10 else ''})")
        details = {"constant_neuroids": len(constant), "reduction": array.attrs.get("reduction") or "none",
                   "representation": array.attrs.get("representation", "features")}
        if full.alphas is not None:
            details["ridge_alpha_median"] = float(np.median(full.alphas))
        heldout_values = (np.nan, np.nan, np.nan, np.nan)
        heldout_ci = None
        if with_split:
            heldout_values = (float(parts["selection"].raw), float(parts["heldout"].raw), heldout_ceiling.value,
                              float(ceiled_score(parts["heldout"].raw, heldout_ceiling.value, convention)))
            heldout_ci = prediction_ci(parts["heldout"], target.mean[heldout], splits["heldout"], heldout_ceiling,
                                       options, convention)
        scores.append(LayerScore(
            layer=layer, raw=float(full.raw), error=float(full.error),
            per_split=[float(v) for v in full.per_split],
            ceiling=ceiling.value, ceiling_per_split=ceiling.per_split,
            ceiled=float(ceiled_score(full.raw, ceiling.value, convention)), convention=convention,
            n_stimuli=n, n_neuroids=target.mean.shape[1], n_units=features.shape[1],
            selection_raw=heldout_values[0], heldout_raw=heldout_values[1],
            heldout_ceiling=heldout_values[2], heldout_ceiled=heldout_values[3],
            n_selection=len(selection) if with_split else 0, n_heldout=len(heldout) if with_split else 0,
            notes=notes, protocol=options.protocol, regression=options.regression,
            ci=prediction_ci(full, target.mean, splits["full"], ceiling, options, convention), heldout_ci=heldout_ci,
            ceiling_note=ceiling.note if heldout_ceiling is None or ceiling.note else heldout_ceiling.note,
            details=details))
    return scores
