"""The Python API that the CLI mirrors: extract, score, report, demo."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from ._io import check_writable, sha256_file, write_text_atomic
from .activations import extract_activations, load_activations, save_activations
from .benchmarks.base import NeuralBenchmark
from .benchmarks.registry import benchmarks_for_area, list_benchmarks, load_benchmark
from .benchmarks.scoring import LayerScore, score_layers
from .errors import DataError, InputError
from .metrics.conventions import DEFAULT_CONVENTION
from .models import load_model, resolve_layers
from .models.base import LoadedModel
from .neural.io import read_assembly
from .reports import ResultsStore, format_table, layer_table, leaderboard, summary
from .reports.store import new_record
from .stimuli import resolve_stimuli

DEFAULT_RESULTS = Path("brainalign-results")


def extract(model: str, *, stimuli: str, layers=None, checkpoint: str | None = None, seed: int = 0,
            output: str | os.PathLike | None = None, overwrite: bool = False, batch_size: int = 32,
            device: str = "cpu", progress: bool = True) -> dict[str, xr.DataArray]:
    """Activations of ``model`` on ``stimuli`` ({layer: DataArray(stimulus, unit)}), optionally saved.

    ``stimuli`` is a registered set name, a folder of images or a zip of images. ``layers`` is
    None/"all" (the model's declared inventory), a comma-separated string or a list. With
    ``output``, a NetCDF4 file is written atomically (refused if it exists, unless ``overwrite``).
    """
    if output is not None:
        check_writable(output, overwrite=overwrite)
    loaded = load_model(model, checkpoint=checkpoint, seed=seed)
    chosen = resolve_layers(loaded, layers)
    stimulus_set = resolve_stimuli(stimuli)
    activations = extract_activations(loaded, stimulus_set, chosen, batch_size=batch_size, device=device,
                                      progress=progress)
    if output is not None:
        provenance = {"model": loaded.provenance(), "stimuli": {"source": str(stimuli),
                                                                "content_sha256": stimulus_set.content_hash}}
        save_activations(activations, output, provenance=provenance)
    return activations


def _benchmark_ids(benchmarks, area) -> list[str]:
    if benchmarks and area:
        raise InputError("give --benchmark or --area, not both")
    if area:
        return benchmarks_for_area(area)
    if not benchmarks:
        raise InputError("nothing to score", hint="pass --benchmark NAME or --area AREA "
                                                  "(`brainalign benchmarks list` shows them)")
    return [b for name in benchmarks for b in _expand(name)]


def _expand(name: str) -> list[str]:
    matches = list_benchmarks(name) if any(c in name for c in "*?[") else [name]
    if not matches:
        raise InputError(f"no benchmark matches {name!r}", hint=f"known: {', '.join(list_benchmarks())}")
    return matches


def _metric_record(benchmark: NeuralBenchmark) -> dict:
    return {"name": "pls_predictivity", "protocol": benchmark.protocol.name,
            "parameters": benchmark.protocol.to_dict(), "stratify": benchmark.stratify_coord}


def _benchmark_record(benchmark: NeuralBenchmark) -> dict:
    return {"identifier": benchmark.identifier, "version": benchmark.version, "region": benchmark.region,
            "species": benchmark.species, "dataset": benchmark.dataset}


def _records(model_record: dict, benchmark: NeuralBenchmark, scores: list[LayerScore]) -> list[dict]:
    records = []
    for s in scores:
        score = {k: getattr(s, k) for k in ("raw", "error", "per_split", "ceiling", "ceiling_per_split", "ceiled",
                                            "convention", "n_stimuli", "n_neuroids", "n_units", "notes")}
        selection = {k: getattr(s, k) for k in ("selection_raw", "heldout_raw", "heldout_ceiling", "heldout_ceiled",
                                                "n_selection", "n_heldout")}
        selection.update(seed=benchmark.protocol.selection_seed, fraction=benchmark.protocol.selection_fraction)
        records.append(new_record(model=model_record, benchmark=_benchmark_record(benchmark), layer=s.layer,
                                  metric=_metric_record(benchmark), score=score, layer_selection=selection))
    return records


def score(model: str, *, benchmarks=None, area: str | None = None, layers=None, checkpoint: str | None = None,
          seed: int = 0, results: str | os.PathLike = DEFAULT_RESULTS, objective: str | None = None,
          tag: str | None = None, convention: str = DEFAULT_CONVENTION, batch_size: int = 32,
          device: str = "cpu", progress: bool = True) -> list[dict]:
    """Score every chosen layer of ``model`` on each benchmark; write and return one record per layer.

    ``benchmarks`` is a list of identifiers or shell patterns (``sim.*``); ``area`` picks every
    benchmark of that area instead.
    """
    identifiers = _benchmark_ids(benchmarks, area)
    loaded = load_model(model, checkpoint=checkpoint, seed=seed)
    chosen = resolve_layers(loaded, layers)
    model_record = {**loaded.provenance(), "objective": objective, "tag": tag}
    store = ResultsStore(results)
    records, grams = [], {}
    for identifier in tqdm(identifiers, desc=f"score {loaded.spec}", unit="benchmark", disable=not progress,
                           leave=False):
        benchmark = load_benchmark(identifier)
        activations = extract_activations(loaded, benchmark.load_stimuli(), chosen, batch_size=batch_size,
                                          device=device, progress=progress)
        scores = score_layers(benchmark, activations, convention=convention, gram_cache=grams)
        for record in _records(model_record, benchmark, scores):
            store.write(record)
            records.append(record)
    return records


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
            load_stimuli=lambda: None, stratify_coord=stratify,
            dataset={"id": path.name, "path": str(path), "sha256": checksum}))
    return benchmarks


def score_files(activations: str | os.PathLike, assembly: str | os.PathLike, *, layers=None,
                stratify: str | None = None, results: str | os.PathLike = DEFAULT_RESULTS,
                objective: str | None = None, tag: str | None = None,
                convention: str = DEFAULT_CONVENTION) -> list[dict]:
    """Score precomputed activations (``brainalign extract`` output) against an assembly file.

    Stimuli are matched by ``stimulus_id``; each ``region`` of the assembly is scored separately.
    """
    features = load_activations(activations)
    if layers not in (None, "all"):
        wanted = layers.split(",") if isinstance(layers, str) else list(layers)
        unknown = [layer for layer in wanted if layer not in features]
        if unknown:
            raise InputError(f"layer {unknown[0]!r} is not in {Path(activations).name}",
                             hint=f"layers there: {', '.join(features)}")
        features = {layer: features[layer] for layer in wanted}
    provenance = next(iter(features.values())).attrs["provenance"]["model"]
    model_record = {**provenance, "objective": objective, "tag": tag}
    store, records, grams = ResultsStore(results), [], {}
    for benchmark in _assembly_benchmarks(Path(assembly), stratify):
        for record in _records(model_record, benchmark,
                               score_layers(benchmark, features, convention=convention, gram_cache=grams)):
            store.write(record)
            records.append(record)
    return records


def report(results: str | os.PathLike = DEFAULT_RESULTS, *, csv: str | os.PathLike | None = None,
           layers_csv: str | os.PathLike | None = None, overwrite: bool = False) -> dict[str, pd.DataFrame]:
    """Leaderboard tables from a results directory; optionally written as CSV (atomically).

    Returns ``{"summary": wide table, "leaderboard": model x benchmark rows, "layers": per-layer rows}``.
    """
    for path in (csv, layers_csv):
        if path is not None:
            check_writable(path, overwrite=overwrite)
    records = ResultsStore(results).latest()
    if not records:
        raise InputError(f"no score records in {results}", hint="run `brainalign score` or `brainalign demo` first")
    layers = layer_table(records)
    board = leaderboard(layers)
    if csv is not None:
        write_text_atomic(csv, board.to_csv(index=False))
    if layers_csv is not None:
        write_text_atomic(layers_csv, layers.to_csv(index=False))
    return {"summary": summary(board), "leaderboard": board, "layers": layers}


DEMO_MODELS = (
    ("sim_oracle", "all", "positive control: the simulator's own noise-free rates"),
    ("pixels", "all", "baseline: raw pixels"),
    ("alexnet_bn64", "all", "Nayebi et al. 2023 AlexNet-BN, 64x64 input, random init"),
    # act1 (802,816 units at 224 px) is left out to keep the demo within a few minutes on 2 cores
    ("timm:resnet18", "layer1,layer2,layer3,layer4,global_pool", "ResNet-18 (timm), random init"),
)


def demo(out: str | os.PathLike = "brainalign-demo", *, seed: int = 0, progress: bool = True) -> dict:
    """Score the demo models on every simulated area and write ``leaderboard.csv`` under ``out``.

    The demo owns ``out``: its records go to ``out/results`` and its tables replace
    ``out/leaderboard.csv`` and ``out/layers.csv``.
    """
    out = Path(out)
    results = out / "results"
    for spec, layers, _ in tqdm(DEMO_MODELS, desc="demo", unit="model", disable=not progress):
        score(spec, benchmarks=["sim.*"], layers=layers, seed=seed, results=results, progress=progress)
    tables = report(results, csv=out / "leaderboard.csv", layers_csv=out / "layers.csv", overwrite=True)
    return {**tables, "out": out, "table": format_table(tables["summary"])}
