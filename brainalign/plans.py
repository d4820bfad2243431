"""Run plans: a YAML file expanded into independent, resumable scoring tasks.

A plan names models (spec, seed or checkpoint globs such as every epoch of a run), benchmarks
or areas, the metric protocol and the layers; :func:`expand_plan` turns it into tasks of one
model x one benchmark x one group of at most ``layers_per_task`` layers. Each task runs
:func:`brainalign.scorer.score` (``brainalign.score``) for its layers and writes its records itself through the results
store, so any executor (:mod:`brainalign.parallel`) can run tasks anywhere the results folder is
reachable. A layer is *done* when the store holds a record with its identity (model spec,
weights sha256, seed, benchmark, benchmark version, protocol, precision, reduction, layer): done
layers are skipped when the plan is expanded and again by the worker just before it scores, so a
re-run after a crash, a Ctrl-C or a lost worker completes the plan without duplicating or losing
a record.

Example ``PLAN.yaml``::

    results: results              # relative to the plan file
    models:
      - spec: alexnet_bn64
        checkpoints: runs/simclr/epoch_*.pth   # one model per matching file (sorted)
        objective: simclr
      - spec: timm:resnet18
        seed: 0                     # random init
        layers: [layer1, layer2, layer3, layer4]
      - run: runs/vicreg-64         # every checkpoint of a `brainalign train` run (spec from its run.json)
    benchmarks: ["sim.V*"]          # identifiers or patterns; and/or
    areas: [VISp]
    metrics: [pls_predictivity]     # and/or ridge_predictivity
    backend: numpy                  # or torch: the PLS and ridge fits on the GPU when there is one
    protocols: [brainalign]         # and/or brainscore, nayebi2023
    layers: all                     # default for models without their own list
    layers_per_task: 4
    convention: r2/c
    batch_size: 32
    device: cpu                     # or cuda
    precision: fp32                 # fp16 / bf16 autocast
    max_memory: 8GB                 # per task; larger layers stream to disk
    reduce: pca:1000                # optional: srp:N, or pca:N fit on reduce_fit (as `score --reduce`)
    reduce_fit: imagenet_val_1000/  # relative to the plan file
    reduce_seed: 0
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tqdm.auto import tqdm

from .benchmarks.base import OWN_SCORING as OWN  # benchmarks that score by their own protocol: one task per layer
from .errors import BrainalignError, DataError, FileFormatError, InputError
from .metrics.regressions import regression_names
from .models.options import ExtractionOptions
from .reports.store import ResultsStore
from .safe_files import check_output_path, sha256_bytes, sha256_file

#: Top-level keys of a plan, with their defaults (None: required or derived).
PLAN_KEYS = {"results": "brainalign-results", "models": None, "benchmarks": [], "areas": [],
             "metrics": ["pls_predictivity"], "protocols": ["brainalign"], "layers": "all", "layers_per_task": 4,
             "convention": "r2/c", "batch_size": 32, "device": "cpu", "precision": "fp32", "max_memory": None,
             "backend": "numpy", "reduce": None, "reduce_fit": None, "reduce_seed": 0}
MODEL_KEYS = ("spec", "checkpoint", "checkpoints", "run", "seed", "objective", "tag", "epoch", "layers")
#: Metrics a plan can ask for, and the regression each maps with (``ScoreOptions.regression``).
METRICS = {f"{name}_predictivity": name for name in regression_names()}  # pls, ridge and plugins


@dataclass(frozen=True)
class Task:
    """One unit of work: ``layers`` of one model scored on one benchmark with one protocol and
    regression (``scoring``: ``"protocol/regression"``, or ``"own"`` for self-scoring benchmarks);
    records written by the runner. ``identities`` holds, per layer, the identity of its record
    (see :func:`record_identity`). ``extraction`` sets the forward passes (no progress bars: tasks
    share one bar); ``options`` holds the plan's ``convention``, ``backend`` and ``reduce*`` keys.
    """

    id: str
    spec: str
    checkpoint: str | None
    seed: int
    benchmark: str
    scoring: str
    layers: tuple[str, ...]
    identities: tuple[tuple, ...]
    results: str
    extraction: ExtractionOptions = ExtractionOptions(progress=False)
    options: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def describe(self) -> str:
        model = self.spec + (f" @ {Path(self.checkpoint).name}" if self.checkpoint else f" seed {self.seed}")
        scoring = "" if self.scoring == OWN else f" ({self.scoring})"
        return f"{model} x {self.benchmark}{scoring} x {','.join(self.layers)}"


@dataclass
class Plan:
    """A validated plan: its tasks and where results go."""

    path: Path
    results: Path
    tasks: list[Task]


def record_identity(record: dict) -> tuple:
    """What makes two score records measure the same thing, read from a stored record."""
    model, benchmark, metric = record["model"], record["benchmark"], record.get("metric") or {}
    scoring = OWN
    if re.match(r"(pls|ridge)_predictivity\b", str(metric.get("name", "pls_predictivity"))):
        scoring = f"{metric.get('protocol')}/{metric.get('regression', 'pls')}"
    extraction = model.get("extraction") or {}
    return (model["spec"], model["weights_sha256"], str(model.get("seed")), benchmark["identifier"],
            str(benchmark.get("version")), scoring, extraction.get("precision", "fp32"),
            reduction_identity(extraction.get("reduction")), str(record.get("layer")))


def reduction_identity(reduction: dict | None) -> str:
    """``"none"``, or the reduction's spec, seed and fit images' content hash (not their path)."""
    if not reduction:
        return "none"
    fit = reduction.get("fit_stimuli") or {}
    return f"{reduction['spec']} seed={reduction.get('seed', 0)} fit={fit.get('content_sha256', '-')}"


def done_identities(results: str | os.PathLike) -> set[tuple]:
    """Identities of every record in the results folder (current or superseded)."""
    return {record_identity(r) for r in ResultsStore(results).scan().records}


def load_plan(path: str | os.PathLike, *, results: str | os.PathLike | None = None) -> Plan:
    """Read and expand ``PLAN.yaml``; ``results`` overrides the plan's results folder."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"plan file not found: {path}", hint="see `brainalign run --help` for an example")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path} is not valid YAML ({type(exc).__name__})",
                              hint="check indentation and quoting (patterns with * need quotes)") from None
    return expand_plan(raw, base=path.parent, path=path, results=results)


def expand_plan(raw, *, base: str | os.PathLike = ".", path: str | os.PathLike = "PLAN.yaml",
                results: str | os.PathLike | None = None) -> Plan:
    """Validate a parsed plan and expand it into tasks (models are built once each to hash weights)."""
    plan = _validated(raw)
    base = Path(base)
    results_dir = Path(results) if results is not None else base / plan["results"]
    results_dir = check_output_path(results_dir.resolve(), folder=True)
    benchmarks = _benchmarks(plan)
    extraction = ExtractionOptions(batch_size=plan["batch_size"], device=plan["device"], precision=plan["precision"],
                                   max_memory=plan["max_memory"], progress=False)
    options = {k: plan[k] for k in ("convention", "backend", "reduce", "reduce_seed")}
    options["reduce_fit"], reduction = _reduction(plan, base)
    tasks: list[Task] = []
    seen: set[tuple] = set()
    for entry in plan["models"]:
        for model in _models(entry, base):
            layers = _layers(model["spec"], entry.get("layers", plan["layers"]))
            weights = _weights_sha256(model["spec"], model["checkpoint"], model["seed"])
            seed = None if model["checkpoint"] else model["seed"]
            for identifier, version, scorings in benchmarks:
                for scoring in scorings:
                    identity = (model["spec"], weights, str(seed), identifier, version, scoring,
                                extraction.precision, reduction)
                    fresh = [layer for layer in layers if identity + (layer,) not in seen]
                    seen.update(identity + (layer,) for layer in fresh)
                    for start in range(0, len(fresh), plan["layers_per_task"]):
                        group = tuple(fresh[start:start + plan["layers_per_task"]])
                        identities = tuple(identity + (layer,) for layer in group)
                        tasks.append(Task(id=sha256_bytes(repr(identities).encode())[:16], spec=model["spec"],
                                          checkpoint=model["checkpoint"], seed=model["seed"], benchmark=identifier,
                                          scoring=scoring, layers=group, identities=identities,
                                          results=str(results_dir), extraction=extraction, options=options,
                                          metadata=model["metadata"]))
    return Plan(path=Path(path), results=results_dir, tasks=tasks)


def pending_tasks(plan: Plan) -> list[Task]:
    """Tasks with at least one layer whose record is not yet in the results folder."""
    done = done_identities(plan.results)
    return [task for task in plan.tasks if not set(task.identities) <= done]


def run_task(task: Task) -> dict:
    """Score the layers of ``task`` that have no record yet; the records are written here.

    Returns ``{"task", "written", "skipped"}``, or ``{"task", "error"}`` for a user-facing error
    (so it crosses process boundaries with its hint intact).
    """
    from .benchmarks.options import ScoreOptions
    from .scorer import score

    done = done_identities(task.results)
    todo = [layer for layer, identity in zip(task.layers, task.identities) if identity not in done]
    if not todo:
        return {"task": task.id, "written": 0, "skipped": len(task.layers)}
    options, extraction = task.options, task.extraction
    try:
        scoring = None
        if task.scoring != OWN:
            protocol, regression = task.scoring.split("/")
            scoring = ScoreOptions(protocol=protocol, regression=regression,
                                   backend=options["backend"])
        records = score(task.spec, benchmarks=[task.benchmark], layers=todo, checkpoint=task.checkpoint,
                            seed=task.seed, results=task.results, convention=options["convention"],
                            batch_size=extraction.batch_size, device=extraction.device,
                            precision=extraction.precision, max_memory=extraction.max_memory,
                            progress=extraction.progress,
                            options=scoring, reduce=options["reduce"], reduce_fit=options["reduce_fit"],
                            reduce_seed=options["reduce_seed"], **task.metadata)
        written = {record_identity(r) for r in records}
        expected = {identity for identity in task.identities if identity[-1] in todo}
        if not expected <= written:
            raise DataError(f"{task.describe()}: the weights or benchmark changed since the plan was expanded",
                            hint="run the plan again to re-expand it")
    except BrainalignError as error:
        return {"task": task.id, "error": str(error)}
    return {"task": task.id, "written": len(records), "skipped": len(task.layers) - len(todo)}


def run_plan(plan: Plan, executor, *, progress: bool = True) -> dict:
    """Run every pending task of ``plan`` on ``executor`` with one progress bar over all tasks.

    Returns ``{"tasks", "already_done", "ran", "written", "failed": [(task, error)], "seconds"}``.
    On Ctrl-C the executor is shut down and KeyboardInterrupt re-raised; finished records stay.
    """
    started = time.perf_counter()
    pending = pending_tasks(plan)
    by_id = {task.id: task for task in pending}
    summary = {"tasks": len(plan.tasks), "already_done": len(plan.tasks) - len(pending), "ran": 0, "written": 0,
               "failed": []}
    with tqdm(total=len(plan.tasks), initial=summary["already_done"], desc=f"run {plan.path.name}", unit="task",
              disable=not progress) as bar:
        for result in executor.map_unordered(run_task, pending):
            summary["ran"] += 1
            if "error" in result:
                summary["failed"].append((by_id[result["task"]].describe(), result["error"]))
            else:
                summary["written"] += result["written"]
            bar.update(1)
    summary["seconds"] = time.perf_counter() - started
    return summary


# --- validation ----------------------------------------------------------------------------------

def _validated(raw) -> dict:
    if not isinstance(raw, dict):
        raise InputError("a plan must be a YAML mapping with at least `models` and `benchmarks` or `areas`")
    unknown = sorted(set(raw) - set(PLAN_KEYS))
    if unknown:
        raise InputError(f"unknown plan key {unknown[0]!r}", hint=f"known keys: {', '.join(PLAN_KEYS)}")
    plan = {key: raw.get(key, default) for key, default in PLAN_KEYS.items()}
    if not isinstance(plan["models"], list) or not plan["models"]:
        raise InputError("the plan lists no models", hint="add `models: [{spec: alexnet_bn64}]`")
    for key in ("benchmarks", "areas", "metrics", "protocols"):
        if isinstance(plan[key], str):
            plan[key] = [plan[key]]
    if not plan["benchmarks"] and not plan["areas"]:
        raise InputError("the plan names no benchmarks", hint="add `benchmarks: ['sim.*']` or `areas: [V1]`")
    bad = [m for m in plan["metrics"] if m not in METRICS]
    if bad:
        raise InputError(f"unknown metric {bad[0]!r} in the plan", hint=f"known: {', '.join(METRICS)}")
    from .benchmarks.options import PROTOCOLS
    bad = [p for p in plan["protocols"] if p not in PROTOCOLS]
    if bad:
        raise InputError(f"unknown protocol {bad[0]!r} in the plan", hint=f"known: {', '.join(PROTOCOLS)}")
    if "nayebi2023" in plan["protocols"] and "ridge_predictivity" in plan["metrics"]:
        raise InputError("the nayebi2023 protocol maps with PLS only", hint="drop ridge_predictivity or nayebi2023")
    if plan["backend"] not in ("numpy", "torch"):
        raise InputError(f"unknown backend {plan['backend']!r} in the plan", hint="use numpy or torch")
    size = plan["layers_per_task"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"layers_per_task must be a positive integer, got {size!r}")
    from .activations.device import check_precision
    from .activations.preflight import parse_size
    check_precision(plan["precision"])
    if plan["max_memory"] is not None:
        parse_size(plan["max_memory"])
    from .activations.reduction import parse_reduction
    reduction = parse_reduction(plan["reduce"])
    pca = reduction is not None and reduction[0] == "pca"
    if pca != (plan["reduce_fit"] is not None):
        raise InputError(f"plan reduce {plan['reduce']}: " + ("pca:N needs `reduce_fit` images to fit on" if pca
                                                             else "only pca:N takes `reduce_fit`"),
                         hint="write `reduce: pca:N` with `reduce_fit: FOLDER`, or `reduce: srp:N` alone")
    if isinstance(plan["reduce_seed"], bool) or not isinstance(plan["reduce_seed"], int):
        raise InputError(f"reduce_seed must be an integer, got {plan['reduce_seed']!r}")
    for i, entry in enumerate(plan["models"]):
        if isinstance(entry, str):
            plan["models"][i] = entry = {"spec": entry}
        if not isinstance(entry, dict) or not ("spec" in entry or "run" in entry):
            raise InputError(f"model entry {i + 1} of the plan has no `spec` (or `run`)",
                             hint="write `- spec: alexnet_bn64` or `- run: RUN_DIR`")
        extra = sorted(set(entry) - set(MODEL_KEYS))
        if extra:
            raise InputError(f"unknown key {extra[0]!r} in model entry {entry.get('spec', entry.get('run'))!r}",
                             hint=f"model keys: {', '.join(MODEL_KEYS)}")
    return plan


def _reduction(plan: dict, base: Path) -> tuple[str | None, str]:
    """``(reduce_fit as an absolute path or None, reduction identity)`` as the records will carry it."""
    if plan["reduce"] in (None, "", "none"):
        return None, "none"
    fit, content = plan["reduce_fit"], None
    if fit is not None:
        from .stimuli import resolve_stimuli
        fit = str(Path(fit) if os.path.isabs(str(fit)) else (base / str(fit)).resolve())
        content = resolve_stimuli(fit).content_hash
    return fit, reduction_identity({"spec": plan["reduce"], "seed": plan["reduce_seed"],
                                    "fit_stimuli": content and {"content_sha256": content}})


def _benchmarks(plan: dict) -> list[tuple[str, str, list[str]]]:
    """(identifier, version, scorings) of every benchmark the plan names, in order, without repeats.

    ``scorings``: :meth:`brainalign.benchmarks.base.Benchmark.scorings` of the plan's protocols and
    metrics (``"protocol/regression"`` each, or ``["own"]`` for a benchmark that scores by its own protocol).
    """
    from .benchmarks.registry import benchmarks_for_area, load_benchmark, resolve_benchmarks

    identifiers = resolve_benchmarks(plan["benchmarks"], None) if plan["benchmarks"] else []
    identifiers += [b for area in plan["areas"] for b in benchmarks_for_area(area)]
    regressions = [METRICS[metric] for metric in plan["metrics"]]
    chosen = []
    for identifier in dict.fromkeys(identifiers):
        benchmark = load_benchmark(identifier)
        chosen.append((identifier, str(benchmark.version), benchmark.scorings(plan["protocols"], regressions)))
    return chosen


def _run_entry(entry: dict, base: Path) -> dict:
    """A ``run: RUN_DIR`` entry as ``spec`` + ``checkpoints``: every epoch checkpoint of the run."""
    from .training.checkpoints import list_checkpoints, read_run

    folder = Path(str(entry["run"]))
    folder = folder if folder.is_absolute() else base / folder
    run = read_run(folder)
    if run is None:
        raise InputError(f"plan model `run: {entry['run']}`: {folder} holds no run.json",
                         hint="give the --out folder of `brainalign train`")
    if not list_checkpoints(folder):
        raise InputError(f"run {folder} has no checkpoints yet", hint="train at least one epoch first")
    spec = entry.get("spec", run["architecture"])
    return {**{k: v for k, v in entry.items() if k != "run"}, "spec": spec,
            "checkpoints": str((folder / "checkpoints" / "epoch_*.pt").resolve())}


def _models(entry: dict, base: Path) -> list[dict]:
    """One dict per model of a plan entry: spec, checkpoint (absolute path or None), seed, metadata."""
    if entry.get("run") is not None:
        if "checkpoint" in entry or "checkpoints" in entry:
            raise InputError(f"model `run: {entry['run']}`: give `run` or `checkpoint(s)`, not both")
        entry = _run_entry(entry, base)
    seed = entry.get("seed", 0)
    metadata = {k: entry[k] for k in ("objective", "tag", "epoch") if entry.get(k) is not None}
    if "checkpoint" in entry and "checkpoints" in entry:
        raise InputError(f"model {entry['spec']!r}: give `checkpoint` or `checkpoints`, not both")
    if entry.get("checkpoints"):
        pattern = str(entry["checkpoints"])
        pattern = pattern if os.path.isabs(pattern) else str(base / pattern)
        files = sorted(glob.glob(pattern, recursive=True))
        if not files:
            raise InputError(f"no checkpoint matches {pattern}", hint="check the glob (quote it in YAML)")
        return [{"spec": entry["spec"], "checkpoint": str(Path(f).resolve()), "seed": seed, "metadata": metadata}
                for f in files]
    checkpoint = entry.get("checkpoint")
    if checkpoint is not None:
        checkpoint = str((Path(checkpoint) if os.path.isabs(checkpoint) else base / checkpoint).resolve())
    return [{"spec": entry["spec"], "checkpoint": checkpoint, "seed": seed, "metadata": metadata}]


_ARCHITECTURES: dict = {}


def _architecture(spec: str, seed: int = 0):
    key = (spec, seed)
    if key not in _ARCHITECTURES:
        from .models import load_model
        _ARCHITECTURES.clear()  # keep one model alive at a time
        _ARCHITECTURES[key] = load_model(spec, seed=seed)
    return _ARCHITECTURES[key]


def _layers(spec: str, layers) -> list[str]:
    from .models import resolve_layers
    return list(resolve_layers(_architecture(spec), layers))


def _weights_sha256(spec: str, checkpoint: str | None, seed: int) -> str:
    """The ``weights_sha256`` that :func:`brainalign.models.load_model` will record."""
    if checkpoint is not None:
        if not Path(checkpoint).is_file():
            raise FileFormatError(f"checkpoint not found: {checkpoint}")
        return sha256_file(checkpoint)
    return _architecture(spec, seed).weights_sha256
