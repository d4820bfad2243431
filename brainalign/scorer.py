"""Score a model on benchmarks and store the records: :func:`score`, :func:`score_files`, :func:`compare`.

The loop is the same for every benchmark (:class:`brainalign.benchmarks.base.Benchmark`): resolve
the benchmarks, give each the features it asks for (:class:`.activations.gather.FeatureSource`),
let it score them (one :class:`.records.ScoreRecord` per layer), commit layers for ``--layers
auto``, stamp the records with the model (:func:`.records.stamp`) and store them. The functions
are :mod:`brainalign.api`'s (the CLI's); they live here, below the API, so that run plans
(:mod:`brainalign.plans`) can call them.
"""

from __future__ import annotations

import os
from pathlib import Path

from tqdm.auto import tqdm

from .benchmarks.commitment import commit_layers
from .benchmarks.options import ScoreOptions
from .benchmarks.predictivity import NeuralBenchmark
from .benchmarks.protocols import protocol_for_stimuli
from .benchmarks.registry import load_benchmark, resolve_benchmarks
from .errors import DataError, InputError
from .metrics.conventions import DEFAULT_CONVENTION
from .neural.assembly_files import read_assembly
from .records import ScoreRecord, stamp
from .reports.metadata import model_metadata
from .reports.store import ResultsStore
from .safe_files import sha256_file

DEFAULT_RESULTS = Path("brainalign-results")
# torch is imported inside the functions that run a model: scoring activation files needs none of it


def score(model: str, *, benchmarks=None, area: str | None = None, layers=None, checkpoint: str | None = None,
          seed: int = 0, results: str | os.PathLike = DEFAULT_RESULTS, objective: str | None = None,
          tag: str | None = None, epoch: int | None = None, convention: str = DEFAULT_CONVENTION,
          batch_size: int = 32, device: str = "cpu", precision: str = "fp32", max_memory=None,
          progress: bool = True, options: ScoreOptions | None = None, checkpoint_format: str | None = None,
          trust_checkpoint: bool = False, allow_partial: bool = False, tokens: str = "patches",
          reduce: str | None = None, reduce_fit: str | None = None, reduce_seed: int = 0) -> list[dict]:
    """Score every chosen layer of ``model`` on each benchmark; write and return one record per layer.

    ``checkpoint_format``, ``trust_checkpoint``, ``allow_partial`` and ``tokens`` go to
    :func:`brainalign.models.load_model`.

    ``options`` (:class:`ScoreOptions`) picks the protocol (``brainalign`` default, ``brainscore``,
    ``nayebi2023``), the regression (PLS or ridge) and the bootstrap. ``layers="auto"`` scores
    every declared layer and commits each region to the layer best on the selection stimuli
    (:func:`brainalign.benchmarks.commitment.commit_layers`; the map is stored in every record's
    ``layer_selection.auto``).

    ``device``/``precision`` (fp32, fp16, bf16) set the forward pass, recorded under
    ``model.extraction``. ``max_memory`` (e.g. ``"3GB"``) bounds the estimated peak: layers that do
    not fit are streamed to disk and scored from out-of-core kernels (see ``features_for_scoring``).

    ``benchmarks`` is a list of identifiers or shell patterns (``sim.*``); ``area`` picks every
    benchmark of that area instead. ``objective`` and ``epoch`` override what the checkpoint
    records (solo-learn ``args.json``, Lightning ``hyper_parameters``, the file name's epoch).

    ``reduce`` (``srp:N`` or ``pca:N``, PCA fit on the images of ``reduce_fit``; seed
    ``reduce_seed``) reduces each layer before scoring (:func:`.activations.features.projected_features`,
    :func:`.activations.features.pca_features`: both within the memory bounds);
    the method is recorded in ``model.extraction.reduction`` and in each score's details.
    """
    from .activations.gather import FeatureSource, check_reduction
    from .models import load_model, resolve_layers
    from .models.options import ExtractionOptions, LoadOptions
    from .stimuli import resolve_stimuli

    identifiers = resolve_benchmarks(benchmarks, area)
    reduction = check_reduction(reduce, reduce_fit)
    options = options or ScoreOptions()
    auto = layers == "auto"
    if auto and options.protocol == "brainscore":
        raise InputError("--layers auto needs a selection/held-out split, which the brainscore protocol has not",
                         hint="use --protocol brainalign (the default) or nayebi2023")
    loaded = load_model(model, LoadOptions(checkpoint=checkpoint, seed=seed, checkpoint_format=checkpoint_format,
                                           trust_checkpoint=trust_checkpoint, allow_partial=allow_partial,
                                           tokens=tokens))
    extraction = ExtractionOptions(batch_size=batch_size, device=device, precision=precision, max_memory=max_memory,
                                   progress=progress)
    chosen = resolve_layers(loaded, None if auto else layers)
    model_record = {**loaded.provenance(), "tag": tag,
                    **model_metadata(loaded.spec, checkpoint, checkpoint_metadata=loaded.checkpoint_metadata,
                                     objective=objective, epoch=epoch),
                    "layer_inventory": list(loaded.default_layers),  # network order, for the layer profiles
                    "extraction": extraction.record()}
    fit_stimuli = resolve_stimuli(reduce_fit) if reduction is not None and reduce_fit else None
    if reduction is not None:
        model_record["extraction"]["reduction"] = {
            "spec": reduce, "seed": reduce_seed,
            "fit_stimuli": None if fit_stimuli is None else {"source": str(reduce_fit),
                                                              "content_sha256": fit_stimuli.content_hash}}
    source = FeatureSource(loaded, chosen, extraction, reduction=reduction, reduce_seed=reduce_seed,
                           fit_stimuli=fit_stimuli)
    scored, cache = [], {}   # cache: shared by the benchmarks on the same stimuli (e.g. the layers' kernels)
    for identifier in tqdm(identifiers, desc=f"score {loaded.spec}", unit="benchmark", disable=not progress,
                           leave=False):
        benchmark = load_benchmark(identifier)
        features = source.features(benchmark.load_stimuli(), benchmark.needs())
        scored += benchmark.score(features, options=options, convention=convention, cache=cache)
    return _stored(commit_layers(scored) if auto else scored, model_record, results)


def _stored(scored: list[ScoreRecord], model_record: dict, results) -> list[dict]:
    """The records of ``scored`` stamped with the model, each written to ``results``."""
    store = ResultsStore(results)
    records = [stamp(record, model=model_record) for record in scored]
    for record in records:
        store.write(record)
    return records


def compare(model_a: str, model_b: str, *, benchmark: str, layers_a=None, layers_b=None,
            checkpoint_a: str | None = None, checkpoint_b: str | None = None, seed: int = 0,
            convention: str = DEFAULT_CONVENTION, options: ScoreOptions | None = None, batch_size: int = 32,
            device: str = "cpu", progress: bool = True) -> dict:
    """Paired comparison of two models on one benchmark (same splits, same bootstrap resamples).

    Returns the committed layer, raw score and CI of each model and the difference A - B with its
    CI and two-sided bootstrap p-value (the benchmark's ``compare``:
    :func:`brainalign.benchmarks.compare.compare_layers`, :func:`brainalign.benchmarks.rsa.compare_rsa`).
    """
    from .activations.gather import FeatureSource
    from .models import load_model, resolve_layers
    from .models.options import ExtractionOptions

    bench = load_benchmark(benchmark)
    options = options or ScoreOptions()
    bench.check_compare(options)
    features = []
    for spec, layers, checkpoint in ((model_a, layers_a, checkpoint_a), (model_b, layers_b, checkpoint_b)):
        loaded = load_model(spec, checkpoint=checkpoint, seed=seed)
        chosen = resolve_layers(loaded, None if layers in (None, "auto") else layers)
        if len(chosen) > 1 and options.protocol == "brainscore":
            raise InputError(f"{spec} has {len(chosen)} layers; the brainscore protocol compares one layer per model",
                             hint="pass --layers-a/--layers-b LAYER, or use --protocol brainalign")
        source = FeatureSource(loaded, chosen, ExtractionOptions(batch_size=batch_size, device=device,
                                                                 progress=progress))
        features.append(source.features(bench.load_stimuli(), bench.needs()))
    result = bench.compare(*features, options=options, convention=convention)
    result["models"]["A"]["spec"], result["models"]["B"]["spec"] = model_a, model_b
    return result


def _assembly_benchmarks(path: Path, stratify: str | None) -> list[NeuralBenchmark]:
    """One predictivity benchmark per ``region`` of the assembly file (one for all without regions)."""
    assembly = read_assembly(path)
    if stratify is not None and stratify not in assembly.coords:
        raise DataError(f"assembly {path.name} has no coordinate {stratify!r} to stratify by")
    checksum = sha256_file(path)
    regions = sorted(set(assembly["region"].values.astype(str))) if "region" in assembly.coords else [None]
    benchmarks = []
    for region in regions:
        part = assembly if region is None else assembly.isel(neuroid=(assembly["region"].values.astype(str) == region))
        benchmarks.append(NeuralBenchmark(
            identifier=f"file:{path.name}" + (f":{region}" if region else ""), version=checksum[:12],
            region=region or "unknown", species=str(assembly.attrs.get("species", "unknown")),
            description=f"assembly file {path}", load_assembly=lambda part=part: part,
            protocol=protocol_for_stimuli(len(set(part["stimulus_id"].values.astype(str)))),
            load_stimuli=lambda: None, stratify_coord=stratify,
            dataset={"id": path.name, "path": str(path), "sha256": checksum}))
    return benchmarks


def score_files(activations: str | os.PathLike, assembly: str | os.PathLike, *, layers=None,
                stratify: str | None = None, results: str | os.PathLike = DEFAULT_RESULTS,
                objective: str | None = None, tag: str | None = None,
                convention: str = DEFAULT_CONVENTION, options: ScoreOptions | None = None,
                stimulus_ids: str | os.PathLike | None = None) -> list[dict]:
    """Score precomputed activations against an assembly file.

    ``activations`` is a ``brainalign extract`` file or any file
    :func:`brainalign.activations.foreign.read_foreign_activations` reads (plain NetCDF,
    ``.npy``/``.npz``, HDF5, a THINGSvision output folder); ``stimulus_ids`` names the rows of
    files without ids. Without recorded provenance the model is recorded as unknown (keyed by
    the file's sha256). Stimuli are matched by ``stimulus_id``; each ``region`` of the assembly
    is scored separately.
    """
    from .activations.foreign import activations_format, foreign_provenance
    from .activations.activation_files import open_activations

    features, provenance = open_activations(activations, stimulus_ids=stimulus_ids)
    auto = layers == "auto"
    if layers not in (None, "all", "auto"):
        wanted = layers.split(",") if isinstance(layers, str) else list(layers)
        unknown = [layer for layer in wanted if layer not in features]
        if unknown:
            raise InputError(f"layer {unknown[0]!r} is not in {Path(activations).name}",
                             hint=f"layers there: {', '.join(features)}")
        features = {layer: features[layer] for layer in wanted}
    if provenance is None:
        provenance = foreign_provenance(activations, fmt=activations_format(activations))
        metadata = model_metadata(provenance["spec"], None, objective=objective or "unknown", architecture="unknown")
    else:
        metadata = model_metadata(provenance["spec"], provenance.get("checkpoint"), objective=objective)
    model_record = {**provenance, "tag": tag, **metadata}
    scored, cache = [], {}
    for benchmark in _assembly_benchmarks(Path(assembly), stratify):
        scored += benchmark.score(features, options=options, convention=convention, cache=cache)
    return _stored(commit_layers(scored) if auto else scored, model_record, results)
