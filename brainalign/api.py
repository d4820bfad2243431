"""The Python API that the CLI mirrors: extract, score, report, demo."""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr
from tqdm.auto import tqdm

from .activations.activation_files import save_activations
from .benchmarks.options import ScoreOptions
from .benchmarks.registry import resolve_benchmarks
from .errors import DataError, InputError
from .records import stamp
from .reports import ResultsStore, format_table, layer_table, leaderboard, summary, summary_long
from .safe_files import check_writable, write_text_atomic
from .scorer import DEFAULT_RESULTS, compare, score, score_files  # noqa: F401  (the API: scoring lives below plans)

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
    # act1 (802,816 units at 224 px) is left out to keep the demo within about a minute on 2 cores
    ("timm:resnet18", "layer1,layer2,layer3,layer4,global_pool", "ResNet-18 (timm), random init"),
)


# the default protocol with 200 bootstrap replicates (instead of 1000) keeps the demo within about a minute
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

def _psychometric_records(parts: list, model_record: dict, results, plot, title: str) -> list[dict]:
    """Stamp, store and (optionally) plot psychometric ScoreRecords (see ``psychometrics.records``)."""
    from .psychometrics.plot import plot_curves

    records = [stamp(part, model=model_record) for part in parts]
    store = ResultsStore(results)
    for record in records:
        store.write(record)
    drawable = [{**p.extra["curve"], "label": p.benchmark["identifier"]} for p in parts if "levels" in p.extra["curve"]]
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
    from .models.layer_names import LOGITS

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
    identifiers = resolve_benchmarks(list(benchmarks), None) if score_every else []  # unknown names fail now
    results_dir = Path(results) if results is not None else Path(out) / "results"

    def score_checkpoints(path: Path, epoch: int) -> None:
        """Score the run's checkpoints written so far (as a plan: those already scored are skipped)."""
        scored.append(score_run(out, benchmarks=identifiers, results=results_dir, every=score_every,
                                layers=layers, device=device, progress=False))

    summary = run_training(config, resume=resume, progress=progress,
                           on_checkpoint=score_checkpoints if score_every else None)
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
