"""The Python API that the CLI mirrors: extract, score, report, demo."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import xarray as xr
from tqdm.auto import tqdm

from ._io import check_writable, sha256_file, write_text_atomic
from .activations.io import save_activations
from .benchmarks.base import NeuralBenchmark, protocol_for_stimuli
from .benchmarks.rsa import RSABenchmark, compare_rsa
from .benchmarks.registry import load_benchmark, resolve_benchmarks
from .benchmarks.scoring import LayerScore, ScoreOptions, score_layers
from .errors import DataError, InputError
from .metrics.conventions import DEFAULT_CONVENTION
from .neural.io import read_assembly
from .reports import ResultsStore, format_table, layer_table, leaderboard, summary, summary_long
from .reports.metadata import model_metadata
from .reports.store import new_record

DEFAULT_RESULTS = Path("brainalign-results")
# torch is imported inside the functions that run a model: scoring activation files needs none of it


def extract(model: str, *, stimuli: str, layers=None, checkpoint: str | None = None, seed: int = 0,
            output: str | os.PathLike | None = None, overwrite: bool = False, batch_size: int = 32,
            device: str = "cpu", progress: bool = True, checkpoint_format: str | None = None,
            trust_checkpoint: bool = False, allow_partial: bool = False,
            tokens: str = "patches") -> dict[str, xr.DataArray]:
    """Activations of ``model`` on ``stimuli`` ({layer: DataArray(stimulus, unit)}), optionally saved.

    ``stimuli`` is a registered set name, a folder of images or a zip of images. ``layers`` is
    None/"all" (the model's declared inventory), a comma-separated string or a list. With
    ``output``, a NetCDF4 file is written atomically (refused if it exists, unless ``overwrite``).
    ``checkpoint_format``, ``trust_checkpoint``, ``allow_partial`` and ``tokens`` go to
    :func:`brainalign.models.load_model`.
    """
    if output is not None:
        check_writable(output, overwrite=overwrite)
    from .activations import extract_activations, preflight
    from .models import load_model, resolve_layers
    from .models.options import LoadOptions
    from .stimuli import resolve_stimuli

    loaded = load_model(model, LoadOptions(checkpoint=checkpoint, seed=seed, checkpoint_format=checkpoint_format,
                                           trust_checkpoint=trust_checkpoint, allow_partial=allow_partial,
                                           tokens=tokens))
    chosen = resolve_layers(loaded, layers)
    stimulus_set = resolve_stimuli(stimuli)
    preflight(loaded, len(stimulus_set), chosen, batch_size=batch_size, stream=False)  # refuse now, not OOM later
    activations = extract_activations(loaded, stimulus_set, chosen, batch_size=batch_size, device=device,
                                      progress=progress)
    if output is not None:
        provenance = {"model": loaded.provenance(), "stimuli": {"source": str(stimuli),
                                                                "content_sha256": stimulus_set.content_hash}}
        save_activations(activations, output, provenance=provenance)
    return activations


def _metric_record(benchmark: NeuralBenchmark, options: ScoreOptions | None = None) -> dict:
    """The metric of a record: its name says the regression (and a non-default protocol)."""
    options = options or ScoreOptions()
    name = f"{options.regression}_predictivity"
    if options.protocol != "brainalign":  # the default protocol keeps the historical name
        name += f"@{options.protocol}"
    parameters = benchmark.protocol.to_dict()
    if options.protocol == "nayebi2023":
        from .benchmarks.base import NayebiProtocol
        protocol = benchmark.protocol
        if not isinstance(protocol, NayebiProtocol):
            protocol = NayebiProtocol(n_components=protocol.n_components)
        parameters = protocol.to_dict()
    return {"name": name, "protocol": options.protocol, "regression": options.regression,
            "parameters": parameters, "options": options.to_dict(), "stratify": benchmark.stratify_coord}


def _benchmark_record(benchmark: NeuralBenchmark) -> dict:
    return {"identifier": benchmark.identifier, "version": benchmark.version, "region": benchmark.region,
            "species": benchmark.species, "dataset": benchmark.dataset,
            "ranked": getattr(benchmark, "ranked", True)}


def _records(model_record: dict, benchmark: NeuralBenchmark, scores: list[LayerScore],
             options: ScoreOptions | None = None) -> list[dict]:
    records = []
    for s in scores:
        score = {k: getattr(s, k) for k in ("raw", "error", "per_split", "ceiling", "ceiling_per_split", "ceiled",
                                            "convention", "n_stimuli", "n_neuroids", "n_units", "notes", "ci",
                                            "ceiling_note", "details")}
        score["ci_low"], score["ci_high"] = (s.ci or {}).get("raw", (None, None))
        selection = {k: getattr(s, k) for k in ("selection_raw", "heldout_raw", "heldout_ceiling", "heldout_ceiled",
                                                "n_selection", "n_heldout", "heldout_ci")}
        selection.update(seed=benchmark.protocol.selection_seed, fraction=benchmark.protocol.selection_fraction,
                         mode="none" if s.protocol == "brainscore" else "selection/held-out")
        records.append(new_record(model=model_record, benchmark=_benchmark_record(benchmark), layer=s.layer,
                                  metric=_metric_record(benchmark, options), score=score, layer_selection=selection))
    return records


def commit_layers(records: list[dict]) -> dict[str, str]:
    """``--layers auto``: each region's layer, best mean ``selection_raw`` over its benchmarks' records.

    Marks every record with ``layer_selection.auto = {"region_layer_map", "committed"}`` (in place)
    and returns the map. The committed layer's held-out score (``heldout_*``) is then the
    reported one: the layer was chosen on the other half of the stimuli.
    """
    by_region: dict[str, dict[str, list]] = {}
    for record in records:
        value = record["layer_selection"].get("selection_raw")
        if value is None or value != value:
            raise InputError("--layers auto needs a selection/held-out split",
                             hint="use --protocol brainalign (the default) or nayebi2023")
        by_region.setdefault(record["benchmark"]["region"], {}).setdefault(record["layer"], []).append(value)
    mapping = {region: max(layers, key=lambda layer: sum(layers[layer]) / len(layers[layer]))
               for region, layers in by_region.items()}
    for record in records:
        record["layer_selection"]["auto"] = {
            "region_layer_map": mapping, "committed": mapping[record["benchmark"]["region"]] == record["layer"]}
    return mapping


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
    (:func:`commit_layers`; the map is stored in every record's ``layer_selection.auto``).

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
    from .activations.features import features_for_scoring, pca_features, projected_features, sampled_features
    from .activations.kernel import STREAMED_RDMS
    from .activations.reduction import parse_reduction
    from .models import load_model, resolve_layers
    from .models.options import ExtractionOptions, LoadOptions
    from .stimuli import resolve_stimuli

    identifiers = resolve_benchmarks(benchmarks, area)
    reduction = parse_reduction(reduce)
    if reduction is not None and (reduction[0] == "pca") != bool(reduce_fit):
        raise InputError(f"--reduce {reduce} " + ("needs images to fit the PCA on" if reduction[0] == "pca"
                                                   else "is not fitted, so it takes no --reduce-fit"),
                         hint="use --reduce pca:N --reduce-fit IMAGES, or --reduce srp:N alone")
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
    store = ResultsStore(results)
    records, grams, reduced = [], {}, {}   # reduced: {stimulus-set hash: activations}, shared by benchmarks
    for identifier in tqdm(identifiers, desc=f"score {loaded.spec}", unit="benchmark", disable=not progress,
                           leave=False):
        benchmark = load_benchmark(identifier)
        stimuli = benchmark.load_stimuli()
        if reduction is not None and stimuli.content_hash in reduced:
            activations = reduced[stimuli.content_hash]
        elif reduction is not None and reduction[0] == "srp":  # projected while streaming: bounded memory
            activations = reduced[stimuli.content_hash] = projected_features(
                loaded, stimuli, chosen, reduction[1], extraction, seed=reduce_seed)
        elif reduction is not None:  # exact PCA from unit blocks: bounded memory
            activations = reduced[stimuli.content_hash] = pca_features(
                loaded, stimuli, fit_stimuli, chosen, reduction[1], extraction)
        elif hasattr(benchmark, "unit_sample"):  # texture: a seeded sample of units, kept while streaming
            activations = sampled_features(loaded, stimuli, chosen, benchmark.unit_sample, extraction)
        else:  # layers over max_memory are streamed to kernels: PLS features, or RSA features with the same RDMs
            rdm = benchmark.protocol.rdm if isinstance(benchmark, RSABenchmark) else None
            rdm = rdm if rdm in STREAMED_RDMS else None
            in_memory = hasattr(benchmark, "score_layers") and rdm is None  # crossnobis RDMs
            activations, _ = features_for_scoring(
                loaded, stimuli, chosen, extraction, stream=False if in_memory else None, rdm=rdm)
        if hasattr(benchmark, "score_layers"):  # RSA / texture benchmarks score and describe themselves
            layer_records = benchmark.score_layers(activations, convention=convention)
            new = [new_record(model=model_record, benchmark=_benchmark_record(benchmark), layer=r.layer,
                              metric=r.metric, score=r.score, layer_selection=r.layer_selection)
                   for r in layer_records]
        else:
            scores = [dataclasses.replace(s, n_units=activations[s.layer].attrs["n_units"])  # kernel features: real width
                      for s in score_layers(benchmark, activations, convention=convention, gram_cache=grams,
                                            options=options)]
            new = _records(model_record, benchmark, scores, options)
        records.extend(new)
    if auto:
        commit_layers([r for r in records if r.get("layer_selection", {}).get("mode") == "selection/held-out"])
    for record in records:
        store.write(record)
    return records


def compare(model_a: str, model_b: str, *, benchmark: str, layers_a=None, layers_b=None,
            checkpoint_a: str | None = None, checkpoint_b: str | None = None, seed: int = 0,
            convention: str = DEFAULT_CONVENTION, options: ScoreOptions | None = None, batch_size: int = 32,
            device: str = "cpu", progress: bool = True) -> dict:
    """Paired comparison of two models on one benchmark (same splits, same bootstrap resamples).

    Returns the committed layer, raw score and CI of each model and the difference A - B with its
    CI and two-sided bootstrap p-value (:func:`brainalign.benchmarks.scoring.compare_layers`, or
    :func:`brainalign.benchmarks.rsa.compare_rsa` for RSA benchmarks).
    """
    from .activations.features import features_for_scoring
    from .activations.kernel import STREAMED_RDMS
    from .benchmarks.scoring import compare_layers
    from .models import load_model, resolve_layers
    from .models.options import ExtractionOptions

    bench = load_benchmark(benchmark)
    rsa = isinstance(bench, RSABenchmark)
    if hasattr(bench, "score_layers") and not rsa:
        raise InputError(f"compare works on neural predictivity and RSA benchmarks; {benchmark} is scored differently")
    options = options or ScoreOptions()
    if rsa and (options.protocol, options.regression) != ("brainalign", "pls"):
        raise InputError(f"--protocol and --metric choose how responses are regressed; {benchmark} compares RDMs "
                         "with its own protocol", hint="drop --protocol/--metric")
    rdm = bench.protocol.rdm if rsa and bench.protocol.rdm in STREAMED_RDMS else None
    activations = []
    for spec, layers, checkpoint in ((model_a, layers_a, checkpoint_a), (model_b, layers_b, checkpoint_b)):
        loaded = load_model(spec, checkpoint=checkpoint, seed=seed)
        chosen = resolve_layers(loaded, None if layers in (None, "auto") else layers)
        if len(chosen) > 1 and options.protocol == "brainscore":
            raise InputError(f"{spec} has {len(chosen)} layers; the brainscore protocol compares one layer per model",
                             hint="pass --layers-a/--layers-b LAYER, or use --protocol brainalign")
        features, _ = features_for_scoring(loaded, bench.load_stimuli(), chosen,
                                           ExtractionOptions(batch_size=batch_size, device=device, progress=progress),
                                           stream=False if rsa and rdm is None else None, rdm=rdm)
        activations.append(features)
    if rsa:
        result = compare_rsa(bench, *activations, n_boot=options.n_boot, seed=options.bootstrap_seed,
                             level=options.ci_level)
    else:
        result = compare_layers(bench, *activations, convention=convention, options=options)
    result["models"]["A"]["spec"], result["models"]["B"]["spec"] = model_a, model_b
    return result


def _assembly_benchmarks(path: Path, stratify: str | None) -> list[NeuralBenchmark]:
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
    from .activations.io import open_activations

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
    store, records, grams = ResultsStore(results), [], {}
    for benchmark in _assembly_benchmarks(Path(assembly), stratify):
        for record in _records(model_record, benchmark,
                               score_layers(benchmark, features, convention=convention, gram_cache=grams,
                                            options=options), options):
            records.append(record)
    if auto:
        commit_layers(records)
    for record in records:
        store.write(record)
    return records


def report(results: str | os.PathLike = DEFAULT_RESULTS, *, csv: str | os.PathLike | None = None,
           layers_csv: str | os.PathLike | None = None, summary_csv: str | os.PathLike | None = None,
           html: str | os.PathLike | None = None, markdown: str | os.PathLike | None = None,
           overwrite: bool = False, title: str = "brainalign leaderboard") -> dict:
    """Leaderboard tables from a results directory; optionally written (atomically) as files.

    ``csv``: one row per (model, benchmark, metric), the committed layer; ``layers_csv``: one row
    per (model, benchmark, metric, layer); ``summary_csv``: tidy per-benchmark, per-area and
    overall scores; ``html``: the self-contained report; ``markdown``: the summary tables.
    Unreadable or foreign files in the results directory are skipped with a warning each.

    Returns ``{"summary": wide table, "leaderboard": ..., "layers": ..., "summary_long": ...,
    "skipped": [(file, reason)], "superseded": int}``.
    """
    import warnings

    from .reports.escape import csv_text
    from .reports.html import render_html
    from .reports.markdown import render_markdown

    outputs = {"csv": csv, "layers_csv": layers_csv, "summary_csv": summary_csv, "html": html, "markdown": markdown}
    for path in outputs.values():
        if path is not None:
            check_writable(path, overwrite=overwrite)
    scan = ResultsStore(results).scan()
    for name, reason in scan.skipped:
        warnings.warn(f"skipping {name}: {reason}", stacklevel=2)
    records = scan.current
    if not records:
        raise InputError(f"no score records in {results}", hint="run `brainalign score` or `brainalign demo` first")
    layers = layer_table(records)
    board = leaderboard(layers)
    tables = {"summary": summary(board), "leaderboard": board, "layers": layers, "summary_long": summary_long(board),
              "skipped": scan.skipped, "superseded": len(scan.records) - len(records)}
    texts = {"csv": lambda: csv_text(board), "layers_csv": lambda: csv_text(layers),
             "summary_csv": lambda: csv_text(tables["summary_long"]),
             "html": lambda: render_html(layers=layers, board=board, records=records, superseded=tables["superseded"],
                                         skipped=scan.skipped, results=str(results), title=title),
             "markdown": lambda: render_markdown(board, title=title, n_records=len(records),
                                                 skipped=len(scan.skipped))}
    for name, path in outputs.items():
        if path is not None:
            write_text_atomic(path, texts[name]())
    return tables


DEMO_MODELS = (
    ("sim_oracle", "all", "positive control: the simulator's own noise-free rates"),
    ("pixels", "all", "baseline: raw pixels"),
    ("alexnet_bn64", "all", "Nayebi et al. 2023 AlexNet-BN, 64x64 input, random init"),
    # act1 (802,816 units at 224 px) is left out to keep the demo within about 3 minutes on 2 cores
    ("timm:resnet18", "layer1,layer2,layer3,layer4,global_pool", "ResNet-18 (timm), random init"),
)


# the default protocol with 200 bootstrap replicates (instead of 1000) keeps the demo within about 3 minutes
DEMO_OPTIONS = ScoreOptions(n_boot=200)


def demo(out: str | os.PathLike = "brainalign-demo", *, seed: int = 0, progress: bool = True) -> dict:
    """Score the demo models on every simulated area and write ``leaderboard.csv`` under ``out``.

    The demo owns ``out``: its records go to ``out/results`` and its tables replace
    ``out/leaderboard.csv`` and ``out/layers.csv``.
    """
    out = Path(out)
    results = out / "results"
    for spec, layers, _ in tqdm(DEMO_MODELS, desc="demo", unit="model", disable=not progress):
        score(spec, benchmarks=["sim.*"], layers=layers, seed=seed, results=results, progress=progress,
              options=DEMO_OPTIONS)
    tables = report(results, csv=out / "leaderboard.csv", layers_csv=out / "layers.csv", overwrite=True)
    return {**tables, "out": out, "table": format_table(tables["summary"])}


# --- psychometric curves and error consistency (brainalign.psychometrics) ------------------------

def _psychometric_records(parts: list[dict], model_record: dict, results, plot, title: str) -> list[dict]:
    """Stamp, store and (optionally) plot psychometric record parts (see ``psychometrics.records``)."""
    from .psychometrics.plot import plot_curves

    records = [new_record(model=model_record, kind="psychometric", **p) for p in parts]
    store = ResultsStore(results)
    for record in records:
        store.write(record)
    drawable = [{**p["curve"], "label": p["benchmark"]["identifier"]} for p in parts if "levels" in p["curve"]]
    if plot is not None and drawable:
        plot_curves(drawable, plot, title=title)
    return records


def psychometric(model: str, *, task: str, layer: str | None = None, logits: bool = False,
                 stimuli: str | None = None, levels=None, checkpoint: str | None = None, seed: int = 0,
                 results: str | os.PathLike = DEFAULT_RESULTS, plot: str | os.PathLike | None = None,
                 n_per_class: int = 32, max_features: int | None = 64, readout_noise: float = 0.0,
                 pixel_noise: float | None = None, batch_size: int = 32, device: str = "cpu",
                 overwrite: bool = False, progress: bool = True) -> list[dict]:
    """Psychometric curve(s) of ``model`` on ``task``; one ``kind: psychometric`` record per curve.

    ``task`` is an image condition (contrast, noise, low-pass, ...; needs ``stimuli`` whose
    images sit in folders named after their 16-class category, default the silhouette images)
    or a parametric task (grating-contrast, spatial-frequency, orientation, texture-naturalness).
    Decisions: ``logits`` (16-way ImageNet mapping) or a cross-validated readout of ``layer``.
    """
    from .psychometrics import curves as pc
    from .psychometrics.records import curve_parts
    from .psychometrics.responses import LOGITS

    from .psychometrics.plot import check_plot_path
    from .models import load_model
    from .models.options import ExtractionOptions
    from .stimuli import resolve_stimuli

    if plot is not None:
        check_plot_path(plot, overwrite=overwrite)
    if logits and layer:
        raise InputError("give --layer or --logits, not both")
    if task not in pc.task_names():
        raise InputError(f"unknown task {task!r}", hint=f"known tasks: {', '.join(pc.task_names())}")
    loaded = load_model(model, checkpoint=checkpoint, seed=seed)
    extraction = ExtractionOptions(batch_size=batch_size, device=device, progress=progress)
    if task in pc.TASKS:
        chosen = LOGITS if logits else (layer or loaded.default_layers[-1])
        found = pc.parametric_task_curves(loaded, task, layer=chosen, levels=levels, n_per_class=n_per_class,
                                          max_features=max_features, readout_noise=readout_noise,
                                          pixel_noise=pixel_noise, seed=seed, extraction=extraction)
    else:
        chosen = layer or LOGITS
        stimulus_set = resolve_stimuli(stimuli) if stimuli else pc.experiment_images("silhouette")
        found = [pc.condition_curve(loaded, task, stimulus_set, layer=chosen, levels=levels,
                                    max_features=max_features if chosen != LOGITS else None,
                                    readout_noise=readout_noise, seed=seed, extraction=extraction)]
    parts = [curve_parts(curve, layer=chosen, seed=seed) for curve in found]
    return _psychometric_records(parts, loaded.provenance(), results, plot, f"{loaded.spec} · {task} · {chosen}")


def psychometric_humans(experiment: str, *, results: str | os.PathLike = DEFAULT_RESULTS,
                        plot: str | os.PathLike | None = None, exclude: bool = True, raw_data=None,
                        overwrite: bool = False) -> dict:
    """The humans of a model-vs-human experiment: accuracy per condition, fitted curve, error consistency.

    ``raw_data`` is a folder of experiment folders of trial CSVs (default: the shared model-vs-human data).
    """
    from .psychometrics.curves import human_curve
    from .psychometrics.plot import check_plot_path
    from .psychometrics.records import HUMANS_MODEL, human_parts

    if plot is not None:
        check_plot_path(plot, overwrite=overwrite)
    parts = [human_parts(human_curve(experiment, root=raw_data, exclude=exclude))]
    return _psychometric_records(parts, dict(HUMANS_MODEL), results, plot, f"humans · {experiment}")[0]


def consistency(model: str, *, experiment: str, checkpoint: str | None = None, seed: int = 0,
                results: str | os.PathLike = DEFAULT_RESULTS, batch_size: int = 32, device: str = "cpu",
                progress: bool = True) -> dict:
    """16-way decisions of ``model`` on an experiment's images (edge, silhouette) and their error
    consistency with every human; one ``kind: psychometric`` record."""
    from .models import load_model
    from .models.options import ExtractionOptions
    from .psychometrics.curves import model_consistency
    from .psychometrics.records import consistency_parts

    loaded = load_model(model, checkpoint=checkpoint, seed=seed)
    result = model_consistency(loaded, experiment,
                               extraction=ExtractionOptions(batch_size=batch_size, device=device, progress=progress))
    return _psychometric_records([consistency_parts(result)], loaded.provenance(), results, None, "")[0]


# --- training (brainalign.training) ----------------------------------------------------------------

def train(objective: str, *, arch: str, data: str, epochs: int, out: str | os.PathLike, seed: int = 0,
          batch_size: int | None = None, lr: float | None = None, device: str = "cpu", precision: str = "auto",
          resume: bool = False, save_every: int = 1, score_every: int | None = None, benchmarks=None,
          results: str | os.PathLike | None = None, layers="all", workers: int | None = None,
          threads: int | None = None, options: dict | None = None, deterministic: bool = False,
          progress: bool = True) -> dict:
    """Train ``arch`` with ``objective`` on ``data`` for ``epochs``, writing the run folder ``out``.

    ``data`` is ``sim`` / ``sim:N`` (procedural images, offline), an image folder or a zip
    (class folders are ignored). ``batch_size``/``lr`` default to the objective's published recipe,
    scaled for a CPU by the linear scaling rule (both recipes are recorded in ``out/run.json``).
    Checkpoints go to ``out/checkpoints/epoch_EEEE.pt`` at initialisation and every ``save_every``
    epochs; ``resume`` continues an interrupted run. ``options`` are the objective's keyword
    arguments (e.g. ``{"temperature": 0.2}``). Under ``torchrun`` each process calls this and the
    objective is wrapped in DistributedDataParallel.

    With ``score_every`` K and ``benchmarks``, every checkpoint whose epoch is a multiple of K is
    scored on them as soon as it is written, through a run plan over the run's checkpoints
    (:mod:`brainalign.plans`), so checkpoints missed by an interrupted run are scored on resume.
    Records go to ``results`` (default ``out/results``).

    Returns ``{"run", "out", "epochs", "log": [per-epoch dicts], "recipe", "published", "scored"}``.
    """
    from .training.trainer import TrainConfig, check_config
    from .training.trainer import train as run_training

    config = TrainConfig(objective=objective, arch=arch, data=data, epochs=epochs, out=str(out), seed=seed,
                         batch_size=batch_size, lr=lr, device=device, precision=precision, save_every=save_every,
                         workers=workers, threads=threads, options=dict(options or {}), deterministic=deterministic)
    check_config(config)
    if score_every is not None and score_every < 1:
        raise InputError(f"--score-every {score_every}: must be at least 1", hint="1 scores every checkpoint")
    if bool(score_every) != bool(benchmarks):
        raise InputError("--score-every and --benchmarks go together",
                         hint="e.g. --score-every 1 --benchmarks 'sim.VIS*'")
    scored = []
    on_checkpoint = None
    if score_every:
        identifiers = resolve_benchmarks(list(benchmarks), None)  # unknown names fail before training
        results_dir = Path(results) if results is not None else Path(out) / "results"

        def on_checkpoint(path: Path, epoch: int) -> None:
            scored.append(score_run(out, benchmarks=identifiers, results=results_dir, every=score_every,
                                    layers=layers, device=device, progress=False))

    summary = run_training(config, resume=resume, progress=progress, on_checkpoint=on_checkpoint)
    return {**summary, "scored": scored}


def score_run(run: str | os.PathLike, *, benchmarks, results: str | os.PathLike | None = None, every: int = 1,
              layers="all", device: str = "cpu", scheduler: str | None = None, progress: bool = True) -> dict:
    """Score the checkpoints of a training run (epochs that are multiples of ``every``) that have
    no record yet in ``results`` (default ``RUN/results``): a run plan, resumable like any other.

    Returns :func:`brainalign.plans.run_plan`'s summary.
    """
    from .parallel import make_executor
    from .plans import expand_plan, run_plan
    from .reports.metadata import epoch_from_name
    from .training.checkpoints import list_checkpoints, read_run

    run_dir = Path(run)
    info = read_run(run_dir)
    if info is None:
        raise InputError(f"{run_dir} holds no run.json", hint="give the --out folder of `brainalign train`")
    chosen = [p for p in list_checkpoints(run_dir) if (epoch_from_name(p) or 0) % every == 0]
    if not chosen:
        return {"tasks": 0, "already_done": 0, "ran": 0, "written": 0, "failed": [], "seconds": 0.0}
    results = Path(results) if results is not None else run_dir / "results"
    plan = expand_plan({"results": str(results.resolve()), "device": device, "layers": layers,
                        "benchmarks": list(benchmarks),
                        "models": [{"spec": info["architecture"], "checkpoint": str(p.resolve())} for p in chosen]},
                       base=run_dir, path=run_dir / "run.json")
    with make_executor(scheduler) as executor:
        summary = run_plan(plan, executor, progress=progress)
    if summary["failed"]:
        task, error = summary["failed"][0]
        raise DataError(f"scoring {task} failed: {error}")
    return summary
