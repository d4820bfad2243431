"""The ``nayebi2023`` protocol: noise-corrected PLS predictivity from single trials, inter-animal ceiling.

See :class:`.protocols.NayebiProtocol` and :mod:`brainalign.metrics.nayebi`. Intervals and the
paired comparison resample units only (the protocol has no stimulus resampling).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..errors import DataError
from ..metrics.bootstrap import BootstrapSamples, interval, paired_comparison
from ..metrics.conventions import ceiled_score
from ..metrics.nayebi import noise_corrected_predictivity
from .alignment import NeuralTarget, align_features
from .ceilings import InterAnimalCeiling
from .commitment import selection_partition
from .intervals import unit_ci
from .layer_score import LayerScore, blas_threads
from .options import ScoreOptions
from .protocols import NayebiProtocol


def nayebi_protocol(benchmark) -> NayebiProtocol:
    """The benchmark's own NayebiProtocol, or the default one with the benchmark's PLS components."""
    if isinstance(benchmark.protocol, NayebiProtocol):
        return benchmark.protocol
    return NayebiProtocol(n_components=benchmark.protocol.n_components)


def _check_single_trials(benchmark, target: NeuralTarget) -> None:
    if target.responses.shape[0] < 2:
        raise DataError(f"the nayebi2023 protocol needs single-trial responses; {benchmark.identifier} has "
                        f"{target.responses.shape[0]} repetition per stimulus",
                        hint="use --protocol brainscore for trial-averaged data")


def score_nayebi(benchmark, activations: dict[str, xr.DataArray], target: NeuralTarget, *, convention: str,
                 options: ScoreOptions) -> list[LayerScore]:
    """One LayerScore per layer of ``activations`` on ``benchmark``'s ``target`` under nayebi2023."""
    protocol = nayebi_protocol(benchmark)
    n = len(target.stimulus_ids)
    _check_single_trials(benchmark, target)
    selection, heldout = selection_partition(n, target.labels, protocol)
    everything = np.arange(n)
    with threadpool_limits(blas_threads(n)):
        ceiling, heldout_ceiling = [InterAnimalCeiling(target, part, protocol, options.backend)
                                    for part in (everything, heldout)]
    kwargs = dict(n_components=protocol.n_components, n_splits=protocol.n_splits, train_frac=protocol.train_frac,
                  n_halves=protocol.n_halves, backend=options.backend)
    scores = []
    for layer, array in activations.items():
        features = align_features(array, target.stimulus_ids, layer=layer)
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(blas_threads(n)):
            warnings.simplefilter("always")
            results = {name: noise_corrected_predictivity(features[index], target.responses[:, index], **kwargs)
                       for name, index in (("full", everything), ("selection", selection), ("heldout", heldout))}
        full, held = results["full"], results["heldout"]
        notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        if full.n_nan_units:
            notes.append(f"{full.n_nan_units} unit(s) have no defined noise-corrected score (negative "
                         "split-half reliability or constant responses) and are left out of the median")
        scores.append(LayerScore(
            layer=layer, raw=full.score, error=float(np.nanstd(full.per_split) / np.sqrt(len(full.per_split))),
            per_split=[float(v) for v in full.per_split], ceiling=float(ceiling.value), ceiling_per_split=[],
            ceiled=float(ceiled_score(full.score, ceiling.value, convention)), convention=convention,
            n_stimuli=n, n_neuroids=target.mean.shape[1], n_units=features.shape[1],
            selection_raw=results["selection"].score, heldout_raw=held.score,
            heldout_ceiling=float(heldout_ceiling.value),
            heldout_ceiled=float(ceiled_score(held.score, heldout_ceiling.value, convention)),
            n_selection=len(selection), n_heldout=len(heldout), notes=notes, protocol="nayebi2023",
            regression="pls", ci=unit_ci(full.per_unit, options), heldout_ci=unit_ci(held.per_unit, options),
            ceiling_note=ceiling.note, details={"nan_units": full.n_nan_units, "ceiling_animals": ceiling.animals,
                                                "ceiling_n_components": ceiling.n_components,
                                                "parameters": protocol.to_dict()}))
    return scores


def compare_nayebi(benchmark, target: NeuralTarget, layers: dict[str, tuple[str, xr.DataArray]], *, convention,
                   options: ScoreOptions) -> dict:
    """Paired nayebi2023 comparison on the held-out stimuli: the same image splits and trial halves
    for both models, then the same bootstrap resamples of the units that have a score for both.

    ``layers`` is ``{"A": (layer, DataArray), "B": (layer, DataArray)}``. Each model's raw score
    and the difference are medians over those common units.
    """
    protocol = nayebi_protocol(benchmark)
    _check_single_trials(benchmark, target)
    heldout = selection_partition(len(target.stimulus_ids), target.labels, protocol)[1]
    per_unit = {}
    for name, (layer, array) in layers.items():
        features = align_features(array, target.stimulus_ids, layer=layer)[heldout]
        with warnings.catch_warnings(), threadpool_limits(blas_threads(len(heldout))):
            warnings.simplefilter("ignore")
            per_unit[name] = noise_corrected_predictivity(
                features, target.responses[:, heldout], n_components=protocol.n_components,
                n_splits=protocol.n_splits, train_frac=protocol.train_frac, n_halves=protocol.n_halves,
                backend=options.backend).per_unit
    common = np.isfinite(per_unit["A"]) & np.isfinite(per_unit["B"])
    if not common.any():
        raise DataError("no unit has a noise-corrected score for both models on the held-out stimuli",
                        hint="check that the units respond reliably across trials")
    rng = np.random.default_rng(options.bootstrap_seed)
    resamples = rng.integers(0, int(common.sum()), size=(options.n_boot, int(common.sum())))
    samples, observed = {}, {}
    for name in ("A", "B"):
        values = per_unit[name][common]
        observed[name] = float(np.median(values))
        samples[name] = BootstrapSamples(raw=np.median(values[resamples], axis=1), ceiling=None,
                                         n_boot=options.n_boot, seed=options.bootstrap_seed, over=("neuroids",))
    paired = paired_comparison(observed["A"], observed["B"], samples["A"], samples["B"], level=options.ci_level)
    ceiling = InterAnimalCeiling(target, heldout, protocol, options.backend).value
    models = {name: {"layer": layers[name][0], "raw": observed[name],
                     "raw_ci": interval(samples[name].raw, options.ci_level),
                     "ceiled": float(ceiled_score(observed[name], ceiling, convention))} for name in ("A", "B")}
    return {"benchmark": benchmark.identifier, "protocol": options.protocol, "regression": options.regression,
            "stimuli": "held-out", "n_stimuli": len(heldout), "n_units": int(common.sum()),
            "ceiling": float(ceiling), "convention": convention, "models": models,
            "difference": paired.to_dict(), "options": options.to_dict()}
