"""Score layer activations on a neural benchmark under a named protocol.

Protocols (``ScoreOptions.protocol``; every record stores the name and its parameters):

- ``brainalign`` (default): Brain-Score's regression, splits and split-half ceiling
  (:class:`.base.BrainScoreProtocol`), plus brainalign's layer commitment (the layer is chosen
  on a *selection* half of the stimuli and reported on the *held-out* half) and bootstrap
  confidence intervals over stimuli and neuroids.
- ``brainscore``: Brain-Score exactly: the same full-data numbers, no selection/held-out split.
  Bootstrap intervals are still reported next to them (they change no number).
- ``nayebi2023``: noise-corrected PLS predictivity from single trials with the inter-animal
  ceiling (:class:`.base.NayebiProtocol`, :mod:`brainalign.metrics.nayebi`); intervals
  resample neuroids only.

Degenerate data never give a silent number: a single repetition gives a NaN ceiling with its
reason in ``ceiling_note``; constant neuroids are NaN for every split and named in ``notes``;
too few stimuli for the splits, or NaN responses after averaging, raise :class:`DataError`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from threadpoolctl import threadpool_limits

from .._io import sha256_bytes
from ..errors import DataError, InputError
from ..metrics.bootstrap import bootstrap_samples, interval
from ..metrics.ceiling import spearman_brown_split_half, split_half_means
from ..metrics.conventions import DEFAULT_CONVENTION, ceiled_score
from ..metrics.nayebi import interanimal_consistency, noise_corrected_predictivity
from ..metrics.pls import linear_kernel
from ..metrics.predictivity import cross_validated_predictivity
from ..metrics.splits import brainscore_splits, shuffle_split
from ..neural.assembly import stimulus_metadata, trial_array
from .base import BrainScoreProtocol, NayebiProtocol, NeuralBenchmark
from .options import DEFAULT_PROTOCOL, PROTOCOLS, REGRESSIONS, ScoreOptions  # noqa: F401  (re-exported)

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
    protocol: str = DEFAULT_PROTOCOL
    regression: str = "pls"
    ci: dict | None = None          # bootstrap CIs of raw, ceiling and ceiled on the full data
    heldout_ci: dict | None = None  # the same on the held-out part
    ceiling_note: str | None = None  # why the ceiling is NaN, when it is
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Target:
    responses: np.ndarray      # (n_repetitions, n_stimuli, n_neuroids)
    mean: np.ndarray           # (n_stimuli, n_neuroids)
    stimulus_ids: np.ndarray   # (n_stimuli,)
    labels: np.ndarray | None  # (n_stimuli,) stratification labels
    animals: np.ndarray | None  # (n_neuroids,) animal / subject of each neuroid


def _target(benchmark: NeuralBenchmark) -> _Target:
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
    return _Target(trials.values, trials.mean(), trials.stimulus_ids, labels, animals)


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


def selection_partition(n_stimuli: int, labels, protocol) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of the layer-selection part and the held-out part of the stimuli."""
    kwargs = dict(n_splits=1, train_size=protocol.selection_fraction, random_state=protocol.selection_seed)
    if labels is None:
        [(selection, heldout)] = shuffle_split(n_stimuli, **kwargs)
    else:
        from sklearn.model_selection import StratifiedShuffleSplit  # a second to import: only when stratified

        selection, heldout = next(StratifiedShuffleSplit(**kwargs).split(np.zeros(n_stimuli), labels))
    return np.sort(selection), np.sort(heldout)


def _splits(labels, n: int, protocol: BrainScoreProtocol):
    return brainscore_splits(n, n_splits=protocol.n_splits, train_size=protocol.train_size,
                             random_state=protocol.random_state, stratify=labels)


class _Ceiling:
    """The split-half ceiling of some stimuli, or NaN with the reason it cannot be computed."""

    def __init__(self, responses: np.ndarray, protocol: BrainScoreProtocol):
        self.value, self.per_split, self.halves, self.note, self.samples = np.nan, [], None, None, None
        if responses.shape[0] < 2:
            self.note = (f"no split-half ceiling: {responses.shape[0]} repetition per stimulus "
                         "(the ceiling needs at least 2)")
            return
        try:
            result = spearman_brown_split_half(responses, n_splits=protocol.ceiling_splits,
                                               random_state=protocol.random_state)
        except DataError as error:
            self.note = f"no split-half ceiling: {error.message}"
            return
        self.value, self.per_split = float(result.ceiling), [float(v) for v in result.per_split]
        self.halves = split_half_means(responses, n_splits=protocol.ceiling_splits,
                                       random_state=protocol.random_state)


def _constant_neuroids(mean: np.ndarray) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(mean, axis=0) - np.nanmin(mean, axis=0)
    return [int(i) for i in np.flatnonzero(~(spread > 0))]


def _ci(result, Y, splits, ceiling: _Ceiling, options: ScoreOptions, convention: str) -> dict | None:
    """Bootstrap CIs of raw, ceiling and ceiled; the ceiling's replicates are drawn once per part
    (the resamples depend only on the seed, so every layer shares them)."""
    if options.n_boot == 0:
        return None
    with threadpool_limits(1):  # many small products: BLAS threads only add contention
        samples = bootstrap_samples(result.predictions, Y, splits,
                                    ceiling_halves=ceiling.halves if ceiling.samples is None else None,
                                    n_boot=options.n_boot, seed=options.bootstrap_seed, over=options.bootstrap_over)
    if ceiling.samples is None and samples.ceiling is not None:
        ceiling.samples = samples.ceiling
    samples = dataclasses.replace(samples, ceiling=ceiling.samples)
    ci = {"level": options.ci_level, "n_boot": options.n_boot, "seed": options.bootstrap_seed,
          "over": list(options.bootstrap_over), "raw": interval(samples.raw, options.ci_level)}
    if samples.ceiling is not None:
        ci["ceiling"] = interval(samples.ceiling, options.ci_level)
        ci["ceiled"] = interval(samples.ceiled(convention), options.ci_level)
    return ci


def score_layers(benchmark: NeuralBenchmark, activations: dict[str, xr.DataArray], *,
                 convention: str = DEFAULT_CONVENTION, gram_cache: dict | None = None,
                 options: ScoreOptions | None = None) -> list[LayerScore]:
    """Score each layer of ``activations`` ({layer: DataArray(stimulus, unit)}) on ``benchmark``.

    Returns one LayerScore per layer, in the order given. ``gram_cache`` (a dict the caller keeps
    for one model) shares each layer's (n_stimuli, n_stimuli) kernel between benchmarks that use
    the same stimuli. See the module docstring for the protocols.
    """
    options = options or ScoreOptions()
    gram_cache = {} if gram_cache is None else gram_cache
    target = _target(benchmark)
    for layer, array in activations.items():
        check_stimulus_ids(array, target.stimulus_ids, layer=layer)
    if options.protocol == "nayebi2023":
        return _score_nayebi(benchmark, activations, target, convention=convention, options=options)
    protocol = benchmark.protocol
    n = len(target.stimulus_ids)
    labels = target.labels
    with_split = options.protocol == "brainalign"
    selection, heldout = selection_partition(n, labels, protocol)
    part_labels = (None, None) if labels is None else (labels[selection], labels[heldout])
    splits = {"full": _splits(labels, n, protocol)}
    if with_split:
        splits.update(selection=_splits(part_labels[0], len(selection), protocol),
                      heldout=_splits(part_labels[1], len(heldout), protocol))
    ceiling = _Ceiling(target.responses, protocol)
    heldout_ceiling = _Ceiling(target.responses[:, heldout], protocol) if with_split else None
    constant = _constant_neuroids(target.mean)
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
        blas_threads = 1 if n < SINGLE_THREAD_BELOW else None
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(blas_threads):
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
            heldout_ci = _ci(parts["heldout"], target.mean[heldout], splits["heldout"], heldout_ceiling,
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
            ci=_ci(full, target.mean, splits["full"], ceiling, options, convention), heldout_ci=heldout_ci,
            ceiling_note=ceiling.note if heldout_ceiling is None or ceiling.note else heldout_ceiling.note,
            details=details))
    return scores


class _AnimalCeiling:
    """Inter-animal consistency of some images, or NaN with the reason."""

    def __init__(self, target: _Target, images: np.ndarray, protocol: NayebiProtocol, backend: str = "numpy"):
        self.value, self.note, self.animals, self.n_components = np.nan, None, [], None
        if target.animals is None or len(set(target.animals)) < 2:
            self.note = ("no inter-animal ceiling: the assembly names fewer than 2 animals "
                         "(neuroid coordinate 'animal' or 'subject')")
            return
        by_animal = {name: target.responses[:, images][:, :, target.animals == name]
                     for name in sorted(set(target.animals))}
        try:
            result, self.animals = interanimal_consistency(
                by_animal, n_components=protocol.n_components, n_splits=protocol.n_splits,
                train_frac=protocol.train_frac, n_halves=protocol.n_halves,
                min_unit_percentile=protocol.min_unit_percentile, backend=backend)
        except (DataError, InputError) as error:
            self.note = f"no inter-animal ceiling: {error.message}"
            return
        self.value, self.n_components = result.score, result.n_components


def _nayebi_protocol(benchmark) -> NayebiProtocol:
    """The benchmark's own NayebiProtocol, or the default one with the benchmark's PLS components."""
    if isinstance(benchmark.protocol, NayebiProtocol):
        return benchmark.protocol
    return NayebiProtocol(n_components=benchmark.protocol.n_components)


def _check_single_trials(benchmark, target: _Target) -> None:
    if target.responses.shape[0] < 2:
        raise DataError(f"the nayebi2023 protocol needs single-trial responses; {benchmark.identifier} has "
                        f"{target.responses.shape[0]} repetition per stimulus",
                        hint="use --protocol brainscore for trial-averaged data")


def _score_nayebi(benchmark, activations, target: _Target, *, convention, options) -> list[LayerScore]:
    protocol = _nayebi_protocol(benchmark)
    n = len(target.stimulus_ids)
    _check_single_trials(benchmark, target)
    selection, heldout = selection_partition(n, target.labels, protocol)
    everything = np.arange(n)
    with threadpool_limits(1 if n < SINGLE_THREAD_BELOW else None):
        ceiling, heldout_ceiling = [_AnimalCeiling(target, part, protocol, options.backend) for part in (everything, heldout)]
    kwargs = dict(n_components=protocol.n_components, n_splits=protocol.n_splits, train_frac=protocol.train_frac,
                  n_halves=protocol.n_halves, backend=options.backend)
    scores = []
    for layer, array in activations.items():
        features = align_features(array, target.stimulus_ids, layer=layer)
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(1 if n < SINGLE_THREAD_BELOW else None):
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
            regression="pls", ci=_unit_ci(full.per_unit, options), heldout_ci=_unit_ci(held.per_unit, options),
            ceiling_note=ceiling.note, details={"nan_units": full.n_nan_units, "ceiling_animals": ceiling.animals,
                                                "ceiling_n_components": ceiling.n_components,
                                                "parameters": protocol.to_dict()}))
    return scores


def _unit_ci(per_unit: np.ndarray, options: ScoreOptions) -> dict | None:
    """Bootstrap over units of the median noise-corrected score (the protocol has no stimulus resampling)."""
    if options.n_boot == 0:
        return None
    values = per_unit[np.isfinite(per_unit)]
    rng = np.random.default_rng(options.bootstrap_seed)
    samples = np.median(values[rng.integers(0, len(values), size=(options.n_boot, len(values)))], axis=1)
    return {"level": options.ci_level, "n_boot": options.n_boot, "seed": options.bootstrap_seed,
            "over": ["neuroids"], "raw": interval(samples, options.ci_level)}


def compare_layers(benchmark: NeuralBenchmark, activations_a: dict[str, xr.DataArray],
                   activations_b: dict[str, xr.DataArray], *, convention: str = DEFAULT_CONVENTION,
                   options: ScoreOptions | None = None) -> dict:
    """Paired comparison of two models on one benchmark, with identical splits and resamples.

    Each model with several layers is first committed to its best layer on the selection
    stimuli (``brainalign`` protocol); both are then scored on the held-out stimuli with the
    same splits, and the same bootstrap resamples of stimuli and neuroids give the CI and
    two-sided p-value of the difference A - B of the raw scores (the ceiling is common, so
    the ceiled difference has the same sign and p-value). With ``brainscore`` each model must
    come with one layer, scored on all the stimuli. With ``nayebi2023`` the layers are committed
    the same way and the held-out scores compared by a paired bootstrap over units (that
    protocol's only resampled axis; see :func:`_compare_nayebi`).
    """
    from ..metrics.bootstrap import paired_comparison

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
    target = _target(benchmark)
    if options.protocol == "nayebi2023":
        return _compare_nayebi(benchmark, target, {name: (chosen[name], activations[chosen[name]]) for name, activations
                                                   in (("A", activations_a), ("B", activations_b))},
                               convention=convention, options=options)
    protocol = benchmark.protocol
    index = np.arange(len(target.stimulus_ids))
    if options.protocol == "brainalign":
        index = selection_partition(len(index), target.labels, protocol)[1]
    labels = None if target.labels is None else target.labels[index]
    splits = _splits(labels, len(index), protocol)
    Y = target.mean[index]
    ceiling = _Ceiling(target.responses[:, index], protocol)
    results, samples = {}, {}
    for name, activations in (("A", activations_a), ("B", activations_b)):
        features = align_features(activations[chosen[name]], target.stimulus_ids, layer=chosen[name])[index]
        with warnings.catch_warnings(), threadpool_limits(1 if len(index) < SINGLE_THREAD_BELOW else None):
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


def _compare_nayebi(benchmark, target: _Target, layers: dict[str, tuple[str, xr.DataArray]], *, convention,
                    options: ScoreOptions) -> dict:
    """Paired nayebi2023 comparison on the held-out stimuli: the same image splits and trial halves
    for both models, then the same bootstrap resamples of the units that have a score for both.

    Each model's raw score and the difference are medians over those common units.
    """
    from ..metrics.bootstrap import BootstrapSamples, paired_comparison

    protocol = _nayebi_protocol(benchmark)
    _check_single_trials(benchmark, target)
    heldout = selection_partition(len(target.stimulus_ids), target.labels, protocol)[1]
    per_unit = {}
    for name, (layer, array) in layers.items():
        features = align_features(array, target.stimulus_ids, layer=layer)[heldout]
        with warnings.catch_warnings(), threadpool_limits(1 if len(heldout) < SINGLE_THREAD_BELOW else None):
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
    ceiling = _AnimalCeiling(target, heldout, protocol, options.backend).value
    models = {name: {"layer": layers[name][0], "raw": observed[name],
                     "raw_ci": interval(samples[name].raw, options.ci_level),
                     "ceiled": float(ceiled_score(observed[name], ceiling, convention))} for name in ("A", "B")}
    return {"benchmark": benchmark.identifier, "protocol": options.protocol, "regression": options.regression,
            "stimuli": "held-out", "n_stimuli": len(heldout), "n_units": int(common.sum()),
            "ceiling": float(ceiling), "convention": convention, "models": models,
            "difference": paired.to_dict(), "options": options.to_dict()}
