"""RSA benchmarks: a model layer's RDM compared with measured RDMs (one per subject), noise-ceiled.

The target needs no responses, only RDMs over named stimuli (e.g. the Kriegeskorte 2008 IT RDMs).
Scoring one layer:

1. the layer's RDM over the target's stimuli (``protocol.rdm``, correlation distance by default);
2. its similarity to each subject's RDM (``protocol.comparison``, rsatoolbox); raw = mean over
   subjects, error = standard error over subjects (NaN with one subject), ``ci`` = percentile
   interval of raw over ``protocol.n_bootstrap`` stimulus bootstrap samples (seeded);
3. the rsatoolbox leave-one-subject-out noise ceiling (lower, upper) with the same comparison;
   ceiled = raw / upper, i.e. the ``r/c`` convention, because an RDM ceiling is already in the
   comparison's units (NaN, with a note, when the target has a single subject). A benchmark
   whose RDMs come with a *published* reliability c_k per RDM (:class:`PublishedCeiling`, e.g.
   a split-half reliability, which bounds r**2 rather than r) uses it instead: ceiling = mean c_k,
   ceiled = mean_k sign(r_k) r_k**2 / mean_k c_k (``r2/c``; for one RDM sign(r) r**2 / c; for
   several, the reliability-weighted mean of the per-RDM ceiled scores);
4. layer commitment, as for the predictivity benchmarks: the stimuli are split once (seeded,
   stratified when the benchmark names a metadata column) into a selection half and a held-out
   half; raw, ceiling and ceiled score are also computed on each half's sub-RDMs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import xarray as xr

from ..activations.gather import FeatureNeeds
from ..errors import DataError, InputError
from ..records import ScoreRecord
from ..stimuli.stimulus_set import StimulusSet
from .alignment import align_features, check_stimulus_ids
from .base import Benchmark
from .commitment import LayerCommitment, selection_partition
from .options import ScoreOptions

SIMILARITY_CONVENTION = "r/c"
# brainalign.metrics.rsa (and so rsatoolbox, ~2 s to import) is imported when scoring, not when
# benchmarks are listed.


@dataclass(frozen=True)
class RSAProtocol(LayerCommitment):
    """How an RSA benchmark scores a layer (recorded with every score)."""

    name: str = "rsa"
    rdm: str = "correlation"
    comparison: str = "spearman"
    ceiling: str = "leave-one-subject-out (rsatoolbox boot_noise_ceiling); ceiled = raw / upper bound"
    n_bootstrap: int = 200
    bootstrap_seed: int = 0
    ci_level: float = 0.95


@dataclass(frozen=True)
class PublishedCeiling:
    """Reliabilities published with the target RDMs, used as their ceilings (see the module docstring).

    Attributes
    ----------
    values : {rdm descriptor value: reliability c}, one per target RDM (the ``subject`` descriptor).
    sem : {rdm descriptor value: standard error of c}, as published (recorded only).
    source : where the numbers come from (file, repository, paper).
    description : how they were computed, in the source's words.
    """

    values: dict
    sem: dict
    source: str
    description: str
    convention: str = "r2/c"

    def of(self, names) -> np.ndarray:
        """The reliabilities of the RDMs named ``names``, shape (n_rdms,)."""
        return np.array([float(self.values[str(n)]) for n in names])

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RSABenchmark(Benchmark):
    """A benchmark whose target is a set of RDMs (one per subject) over named stimuli.

    Attributes
    ----------
    identifier, version, region, species, description, dataset, citation, ranked : see :class:`.base.Benchmark`.
    load_target : returns rsatoolbox RDMs with ``pattern_descriptors["stimulus_id"]`` and, for more
        than one subject, ``rdm_descriptors["subject"]`` (see ``brainalign.metrics.rsa``).
    load_stimuli : returns the StimulusSet holding every stimulus id of the target.
    stratify_coord : stimulus metadata column that stratifies the selection / held-out split, or None.
    """

    identifier: str
    version: str
    region: str
    species: str
    description: str
    load_target: Callable
    load_stimuli: Callable[[], StimulusSet]
    stratify_coord: str | None = None
    protocol: RSAProtocol = field(default_factory=RSAProtocol)
    dataset: dict = field(default_factory=dict)
    citation: str = ""
    ranked: bool = True   # False: a supplementary view of data another benchmark ranks (kept out of area means)
    published_ceiling: PublishedCeiling | None = None

    def needs(self) -> FeatureNeeds:
        """Wide layers may come as features with their correlation or euclidean RDM (from streamed
        kernels); other RDMs (crossnobis) need the activations in memory."""
        from ..activations.kernel import STREAMED_RDMS

        return FeatureNeeds(streamed=f"rdm:{self.protocol.rdm}" if self.protocol.rdm in STREAMED_RDMS else None)

    def score(self, features: dict[str, xr.DataArray], *, options: ScoreOptions | None = None,
              convention: str | None = None, cache: dict | None = None) -> list[ScoreRecord]:
        """One record per layer of ``features`` (:func:`score_rsa`; ``options`` and ``cache`` are not used)."""
        return score_rsa(self, features, convention=convention)

    def check_compare(self, options: ScoreOptions) -> None:
        """RDMs are compared by the benchmark's own protocol: --protocol and --metric do not apply."""
        if (options.protocol, options.regression) != ("brainalign", "pls"):
            raise InputError(f"--protocol and --metric choose how responses are regressed; {self.identifier} "
                             "compares RDMs with its own protocol", hint="drop --protocol/--metric")

    def compare(self, features_a: dict[str, xr.DataArray], features_b: dict[str, xr.DataArray], *,
                options: ScoreOptions, convention: str | None = None) -> dict:
        """:func:`compare_rsa` with the bootstrap of ``options``."""
        return compare_rsa(self, features_a, features_b, n_boot=options.n_boot, seed=options.bootstrap_seed,
                           level=options.ci_level)


def rdms_from_assembly(assembly: xr.DataArray, *, method: str = "correlation", subject_coord: str = "animal",
                       name: str = "assembly"):
    """One RDM per subject (value of ``subject_coord`` on ``neuroid``) from a validated assembly.

    ``correlation`` / ``euclidean`` RDMs use the repetition-averaged responses of the subject's
    neuroids; ``crossnobis`` cross-validates over repetitions (each must show every stimulus).
    Returns rsatoolbox RDMs with ``rdm_descriptors["subject"]`` and the sorted stimulus ids.
    """
    from ..metrics.rsa import rdm_from_features, rdms_from_matrices, select_stimuli
    from ..neural.assembly import trial_array

    trials = trial_array(assembly)
    subjects = (assembly[subject_coord].values.astype(str) if subject_coord in assembly.coords
                else np.full(assembly.sizes["neuroid"], "subject"))
    matrices, names = [], sorted(set(subjects))
    for subject in names:
        values = trials.values[:, :, subjects == subject]  # (n_repetitions, n_stimuli, n_neuroids)
        label = f"{name} {subject_coord} {subject}"
        if method == "crossnobis":
            if np.isnan(values).any():
                raise DataError(f"{label}: crossnobis needs every stimulus in every repetition (found NaN)")
            n_rep, n_stim = values.shape[:2]
            rdm = rdm_from_features(values.reshape(n_rep * n_stim, -1), np.tile(trials.stimulus_ids, n_rep),
                                    method=method, folds=np.repeat(np.arange(n_rep), n_stim), name=label)
        else:
            mean = np.nanmean(values, axis=0) if np.isnan(values).any() else values.mean(axis=0)
            rdm = rdm_from_features(mean, trials.stimulus_ids, method=method, name=label)
        matrices.append(select_stimuli(rdm, trials.stimulus_ids).get_matrices()[0])
    return rdms_from_matrices(np.stack(matrices), trials.stimulus_ids, subjects=names, measure=method, name=name)


def _ceiling(target, method: str) -> tuple[float, float, str | None]:
    descriptor = "subject" if "subject" in target.rdm_descriptors else "index"
    if len(set(target.rdm_descriptors[descriptor])) < 2:
        return float("nan"), float("nan"), "single-subject target: no noise ceiling can be estimated (NaN)"
    from ..metrics.rsa import noise_ceiling

    lower, upper = noise_ceiling(target, method=method)
    return lower, upper, None


def _subjects(target) -> list[str]:
    return [str(s) for s in target.rdm_descriptors.get("subject", target.rdm_descriptors["index"])]


def _target_ceiling(benchmark: RSABenchmark, target) -> tuple[float, float, str | None]:
    """(lower, upper, note) of ``target``: the published reliabilities' mean, or rsatoolbox's bounds."""
    published = benchmark.published_ceiling
    if published is None:
        return _ceiling(target, benchmark.protocol.comparison)
    value = float(np.mean(published.of(_subjects(target))))
    return value, value, None


def _ceiled_of(benchmark: RSABenchmark, per_rdm: np.ndarray, ceiling: float) -> float:
    """Ceiled score of the per-RDM similarities ``per_rdm`` (n_rdms,) under the benchmark's convention."""
    if benchmark.published_ceiling is None:
        return _ceiled(float(np.mean(per_rdm)), ceiling)
    explained = float(np.mean(np.sign(per_rdm) * per_rdm ** 2))
    return explained / ceiling if np.isfinite(ceiling) and ceiling > 0 else float("nan")


def _convention(benchmark: RSABenchmark) -> str:
    published = benchmark.published_ceiling
    return SIMILARITY_CONVENTION if published is None else published.convention


def _labels(benchmark: RSABenchmark, stimulus_ids: np.ndarray):
    if benchmark.stratify_coord is None:
        return None
    metadata = benchmark.load_stimuli().metadata.set_index("stimulus_id")
    return metadata.loc[stimulus_ids, benchmark.stratify_coord].to_numpy()


def _ceiled(raw: float, upper: float) -> float:
    return float(raw / upper) if np.isfinite(upper) and upper > 0 else float("nan")


def rdm_ready(array: xr.DataArray, ids: np.ndarray, method: str, *, layer: str) -> np.ndarray:
    """Rows in ``ids`` order of features with the layer's ``method`` RDM.

    For correlation and euclidean RDMs of a plain layer these are the (n, 2n) or (n, n) features
    of its kernel moments (:func:`brainalign.activations.kernel.rdm_features`), accumulated over
    unit blocks: the same RDM to round-off, without the float64 copies of the whole layer that
    computing it directly takes (several times the layer's size for wide layers).
    """
    from ..activations.kernel import STREAMED_RDMS, kernel_moments, rdm_features
    from ..activations.streaming import unit_blocks

    if array.attrs.get("representation", "features") != "features" or method not in STREAMED_RDMS:
        return align_features(array, ids, layer=layer)
    check_stimulus_ids(array, ids, layer=layer)
    moments = kernel_moments(unit_blocks(array.values))
    if not (np.isfinite(moments.gram).all() and np.isfinite(moments.row_sums).all()):
        align_features(array, ids, layer=layer)  # raises the error naming NaN or infinite activations
    small = xr.DataArray(rdm_features(moments, method), dims=("stimulus", "unit"),
                         coords={"stimulus_id": ("stimulus", array["stimulus_id"].values)})
    return align_features(small, ids, layer=layer)


def score_rsa(benchmark: RSABenchmark, activations: dict[str, xr.DataArray], *,
              convention: str | None = None) -> list[ScoreRecord]:
    """Score each layer of ``activations`` on the RSA ``benchmark`` (see the module docstring).

    ``convention`` is accepted for symmetry with the predictivity benchmarks; RDM scores always use
    ``r/c`` and say so in the record's notes when another convention was asked for.
    """
    from ..metrics.rsa import (BOOTSTRAP_COMPARISONS, COMPARISONS, bootstrap_comparisons, compare_rdms,
                               rdm_from_features, select_stimuli, stimulus_ids_of)

    protocol = benchmark.protocol
    if protocol.comparison not in COMPARISONS:
        raise DataError(f"benchmark {benchmark.identifier} asks for unknown comparison {protocol.comparison!r}")
    target = benchmark.load_target()
    ids = stimulus_ids_of(target)
    for layer, array in activations.items():
        check_stimulus_ids(array, ids, layer=layer)  # fail before any work on a mismatched layer
        representation = array.attrs.get("representation", "features")
        if representation not in ("features", f"rdm:{protocol.rdm}"):
            raise ValueError(f"layer {layer!r}: {representation} features do not give its {protocol.rdm} RDM")
    selection, heldout = (ids[index] for index in selection_partition(len(ids), _labels(benchmark, ids), protocol))
    parts = {"selection": select_stimuli(target, selection), "heldout": select_stimuli(target, heldout)}
    lower, upper, ceiling_note = _target_ceiling(benchmark, target)
    heldout_lower, heldout_upper, _ = _target_ceiling(benchmark, parts["heldout"])
    notes = [ceiling_note] if ceiling_note else []
    published = benchmark.published_ceiling
    if published is not None:
        notes.append(f"published ceiling ({published.source}), used as it is on the held-out stimuli too; "
                     f"ceiled = mean sign(r) r^2 / mean c over the target's {len(_subjects(target))} RDM(s)")
    elif convention not in (None, SIMILARITY_CONVENTION):
        notes.append(f"RDM ceilings are in the comparison's own units, so ceiled = raw / ceiling (r/c) "
                     f"rather than {convention}")
    bootstrap = protocol.n_bootstrap > 0 and protocol.comparison in BOOTSTRAP_COMPARISONS
    if protocol.n_bootstrap > 0 and not bootstrap:
        notes.append(f"no stimulus-bootstrap CI (NaN): {protocol.comparison} is not defined on resampled RDMs")
    subjects = _subjects(target)
    metric = {"name": f"rsa_{protocol.comparison}", "protocol": protocol.name, "parameters": protocol.to_dict(),
              "stratify": benchmark.stratify_coord}
    if published is not None:
        metric["published_ceiling"] = published.to_dict()
    parts_of, model_rdms = [], {}   # (layer, score, layer_selection) of each layer
    for layer, array in activations.items():
        features = rdm_ready(array, ids, protocol.rdm, layer=layer)
        model_rdm = model_rdms[layer] = rdm_from_features(features, ids, method=protocol.rdm, name=f"layer {layer!r}")
        per_subject = compare_rdms(model_rdm, target, method=protocol.comparison)
        part_values = {name: compare_rdms(select_stimuli(model_rdm, stimulus_ids_of(rdms)), rdms,
                                          method=protocol.comparison) for name, rdms in parts.items()}
        part_raw = {name: float(np.mean(values)) for name, values in part_values.items()}
        raw = float(per_subject.mean())
        ci = [float("nan"), float("nan")]
        if bootstrap:
            samples = bootstrap_comparisons(model_rdm, target, method=protocol.comparison,
                                            n_bootstrap=protocol.n_bootstrap, seed=protocol.bootstrap_seed).mean(axis=1)
            tail = 50 * (1 - protocol.ci_level)
            ci = [float(v) for v in np.nanpercentile(samples, [tail, 100 - tail])]
        error = float(per_subject.std(ddof=1) / np.sqrt(len(per_subject))) if len(per_subject) > 1 else float("nan")
        score = {"raw": raw, "error": error, "ci": ci, "ci_level": protocol.ci_level,
                 "ci_over": "stimuli (bootstrap, subjects fixed)",
                 "per_subject": dict(zip(subjects, per_subject.tolist())),
                 "ceiling": upper, "ceiling_lower": lower, "ceiling_upper": upper,
                 "ceiled": _ceiled_of(benchmark, per_subject, upper),
                 "ceiled_lower": _ceiled_of(benchmark, per_subject, lower),
                 "convention": _convention(benchmark), "comparison": protocol.comparison, "rdm": protocol.rdm,
                 "n_stimuli": len(ids), "n_neuroids": None, "n_units": int(array.attrs.get("n_units", array.shape[1])),
                 "n_subjects": len(per_subject), "notes": list(notes)}
        layer_selection = {"mode": "selection/held-out", "selection_raw": part_raw["selection"],
                           "heldout_raw": part_raw["heldout"],
                           "heldout_ceiling": heldout_upper, "heldout_ceiling_lower": heldout_lower,
                           "heldout_ceiled": _ceiled_of(benchmark, part_values["heldout"], heldout_upper),
                           "n_selection": len(selection), "n_heldout": len(heldout),
                           "seed": protocol.selection_seed, "fraction": protocol.selection_fraction}
        parts_of.append((layer, score, layer_selection))
    committed = max(parts_of, key=lambda part: _nan_low(part[2]["selection_raw"]))[0]
    rdms = {"model": _small_rdm(model_rdms[committed].get_matrices()[0]),
            "neural": _small_rdm(np.nanmean(target.get_matrices(), axis=0)),
            "n_stimuli": len(ids), "order": "the benchmark's stimulus order", "layer": committed}
    benchmark_record = benchmark.record()
    return [ScoreRecord(benchmark=benchmark_record, layer=layer, metric=metric, layer_selection=layer_selection,
                        score={**score, "rdms": rdms} if layer == committed else score)
            for layer, score, layer_selection in parts_of]


#: RDMs kept in a record (the committed layer's) are at most this many rows: block means beyond it
RDM_CELLS = 64


def _nan_low(value: float) -> float:
    return -np.inf if value is None or np.isnan(value) else value


def _small_rdm(matrix: np.ndarray) -> list[list[float]]:
    """(n, n) -> at most (RDM_CELLS, RDM_CELLS) block means over the stimulus order, 4 decimals, for records."""
    n = matrix.shape[0]
    if n > RDM_CELLS:
        edges = np.linspace(0, n, RDM_CELLS + 1).astype(int)
        matrix = np.array([[np.nanmean(matrix[a:b, c:d]) for c, d in zip(edges[:-1], edges[1:])]
                           for a, b in zip(edges[:-1], edges[1:])])
    return np.round(matrix, 4).tolist()


def compare_rsa(benchmark: RSABenchmark, activations_a: dict[str, xr.DataArray],
                activations_b: dict[str, xr.DataArray], *, n_boot: int = 1000, seed: int = 0,
                level: float = 0.95) -> dict:
    """Paired comparison of two models on an RSA benchmark, on its held-out stimuli.

    Each model with several layers is committed to its best layer on the selection stimuli (as
    :func:`score_rsa` does); both layers' RDMs are then compared with every subject's RDM on the
    held-out stimuli, and the same ``n_boot`` stimulus bootstrap resamples (seed ``seed``) for
    both give the percentile CI and two-sided p-value of the difference A - B of the mean
    similarities over subjects. The output has the layout of
    :func:`brainalign.benchmarks.compare.compare_layers`.
    """
    from ..metrics.bootstrap import BootstrapSamples, interval, paired_comparison
    from ..metrics.rsa import (BOOTSTRAP_COMPARISONS, bootstrap_comparisons, compare_rdms, rdm_from_features,
                               select_stimuli, stimulus_ids_of)

    protocol = benchmark.protocol
    if n_boot < 1:
        raise InputError("compare needs bootstrap replicates", hint="pass --bootstrap 1000")
    if protocol.comparison not in BOOTSTRAP_COMPARISONS:
        raise InputError(f"{benchmark.identifier} compares RDMs by {protocol.comparison}, which has no stimulus "
                         "bootstrap, so no paired test", hint="compare the two models' scores from `brainalign score`")
    target = benchmark.load_target()
    ids = stimulus_ids_of(target)
    heldout = ids[selection_partition(len(ids), _labels(benchmark, ids), protocol)[1]]
    heldout_target = select_stimuli(target, heldout)
    _, upper, _ = _target_ceiling(benchmark, heldout_target)
    models, samples = {}, {}
    for name, activations in (("A", activations_a), ("B", activations_b)):
        layer = next(iter(activations)) if len(activations) == 1 else max(
            score_rsa(benchmark, activations), key=lambda r: r.layer_selection["selection_raw"]).layer
        features = rdm_ready(activations[layer], ids, protocol.rdm, layer=layer)
        rdm = select_stimuli(rdm_from_features(features, ids, method=protocol.rdm, name=f"layer {layer!r}"), heldout)
        per_rdm = compare_rdms(rdm, heldout_target, method=protocol.comparison)
        raw = float(np.mean(per_rdm))
        replicates = bootstrap_comparisons(rdm, heldout_target, method=protocol.comparison, n_bootstrap=n_boot,
                                           seed=seed).mean(axis=1)
        samples[name] = BootstrapSamples(raw=replicates, ceiling=None, n_boot=n_boot, seed=seed, over=("stimuli",))
        models[name] = {"layer": layer, "raw": raw, "raw_ci": interval(replicates, level),
                        "ceiled": _ceiled_of(benchmark, per_rdm, upper)}
    paired = paired_comparison(models["A"]["raw"], models["B"]["raw"], samples["A"], samples["B"], level=level)
    return {"benchmark": benchmark.identifier, "protocol": protocol.name, "regression": None,
            "metric": f"rsa_{protocol.comparison} of {protocol.rdm} RDMs", "stimuli": "held-out",
            "n_stimuli": len(heldout), "ceiling": upper, "convention": _convention(benchmark), "models": models,
            "difference": paired.to_dict(), "options": {"n_boot": n_boot, "bootstrap_seed": seed, "ci_level": level,
                                                        "protocol": protocol.to_dict()}}
