"""Paired comparison of two models on one predictivity benchmark: same splits, same bootstrap resamples."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..errors import InputError
from ..metrics.bootstrap import bootstrap_samples, interval, paired_comparison
from ..metrics.conventions import DEFAULT_CONVENTION, ceiled_score
from ..metrics.predictivity import cross_validated_predictivity
from .alignment import align_features, neural_target
from .brainscore import prediction_splits
from .ceilings import SplitHalfCeiling
from .commitment import selection_partition
from .layer_score import blas_threads
from .nayebi import compare_nayebi
from .options import ScoreOptions
from .scoring import score_layers


def compare_layers(benchmark, activations_a: dict[str, xr.DataArray], activations_b: dict[str, xr.DataArray], *,
                   convention: str = DEFAULT_CONVENTION, options: ScoreOptions | None = None) -> dict:
    """Paired comparison of two models on one benchmark, with identical splits and resamples.

    Each model with several layers is first committed to its best layer on the selection
    stimuli (``brainalign`` protocol); both are then scored on the held-out stimuli with the
    same splits, and the same bootstrap resamples of stimuli and neuroids give the CI and
    two-sided p-value of the difference A - B of the raw scores (the ceiling is common, so
    the ceiled difference has the same sign and p-value). With ``brainscore`` each model must
    come with one layer, scored on all the stimuli. With ``nayebi2023`` the layers are committed
    the same way and the held-out scores compared by a paired bootstrap over units (that
    protocol's only resampled axis; see :func:`.nayebi.compare_nayebi`).
    """
    options = options or ScoreOptions()
    if options.n_boot < 1:
        raise InputError("compare needs bootstrap replicates", hint="pass --bootstrap 1000")
    chosen = {}
    for name, activations in (("A", activations_a), ("B", activations_b)):
        if len(activations) == 1:
            chosen[name] = next(iter(activations))
        elif options.protocol == "brainscore":
            raise InputError(f"model {name} has {len(activations)} layers; the brainscore protocol compares one "
                             "layer per model", hint="pass --layers-a/--layers-b LAYER, or use --protocol brainalign")
        else:
            scores = score_layers(benchmark, activations, convention=convention,
                                  options=dataclasses.replace(options, n_boot=0))
            chosen[name] = max(scores, key=lambda s: s.selection_raw).layer
    target = neural_target(benchmark)
    if options.protocol == "nayebi2023":
        return compare_nayebi(benchmark, target, {name: (chosen[name], activations[chosen[name]]) for name, activations
                                                  in (("A", activations_a), ("B", activations_b))},
                              convention=convention, options=options)
    protocol = benchmark.protocol
    index = np.arange(len(target.stimulus_ids))
    if options.protocol == "brainalign":
        index = selection_partition(len(index), target.labels, protocol)[1]
    labels = None if target.labels is None else target.labels[index]
    splits = prediction_splits(labels, len(index), protocol)
    Y = target.mean[index]
    ceiling = SplitHalfCeiling(target.responses[:, index], protocol)
    results, samples = {}, {}
    for name, activations in (("A", activations_a), ("B", activations_b)):
        features = align_features(activations[chosen[name]], target.stimulus_ids, layer=chosen[name])[index]
        with warnings.catch_warnings(), threadpool_limits(blas_threads(len(index))):
            warnings.simplefilter("ignore")
            results[name] = cross_validated_predictivity(
                features, Y, splits=splits, n_components=protocol.n_components, regression=options.regression,
                alphas=options.alphas, backend=options.backend)
        samples[name] = bootstrap_samples(results[name].predictions, Y, splits, ceiling_halves=ceiling.halves,
                                          n_boot=options.n_boot, seed=options.bootstrap_seed,
                                          over=options.bootstrap_over)
    paired = paired_comparison(results["A"].raw, results["B"].raw, samples["A"], samples["B"],
                               level=options.ci_level)
    models = {name: {"layer": chosen[name], "raw": float(results[name].raw),
                     "raw_ci": interval(samples[name].raw, options.ci_level),
                     "ceiled": float(ceiled_score(results[name].raw, ceiling.value, convention))}
              for name in ("A", "B")}
    return {"benchmark": benchmark.identifier, "protocol": options.protocol, "regression": options.regression,
            "stimuli": "held-out" if options.protocol == "brainalign" else "all", "n_stimuli": len(index),
            "ceiling": ceiling.value, "convention": convention, "models": models,
            "difference": paired.to_dict(), "options": options.to_dict()}
