"""The training loop: one objective, one optimiser, seeded data, checkpoints, resume, AMP, DDP.

:func:`train` runs in one process, or in each process that ``torchrun`` starts (it reads
``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` and wraps the objective in
``torch.nn.parallel.DistributedDataParallel``: gloo on CPUs, NCCL on GPUs). Every random choice
derives from ``seed``: the backbone's init, the heads' init, each epoch's image order, each
view's augmentation (:mod:`.augment`) and torch's global generator, reseeded at the start of
every epoch (dropout, sampled negatives). Hence a run killed at any point and resumed with
``resume=True`` redoes the unfinished epoch exactly; with ``deterministic=True`` on a CPU (and
the same number of threads) it ends with bit-identical weights to an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from ..errors import InputError
from .augment import view_seed
from .checkpoints import (append_log, checkpoint_path, code_version, read_run, save_checkpoint, save_torch,
                          truncate_log, write_run)
from .data import EpochSampler, ViewDataset, make_loader, training_images
from .objectives import get_objective, list_objectives
from .options import PRECISIONS
from .recipe import make_optimizer, make_scheduler, scaled_recipe


@dataclass
class TrainConfig:
    """What a run is. ``batch_size``/``lr`` None: scaled from the objective's published recipe.

    ``options`` are keyword arguments of the objective (e.g. ``{"temperature": 0.2}``);
    ``workers`` data-loader processes (None: one less than the CPUs, at most 4); ``threads``
    torch's intra-op threads in the training process (None: torch's default);
    ``precision`` ``auto`` is bf16 (fp16 where bf16 is unsupported) on CUDA and fp32 on a CPU.
    """

    objective: str
    arch: str
    data: str
    epochs: int
    out: str
    seed: int = 0
    batch_size: int | None = None
    lr: float | None = None
    device: str = "cpu"
    precision: str = "auto"
    save_every: int = 1
    workers: int | None = None
    options: dict = field(default_factory=dict)
    deterministic: bool = False
    threads: int | None = None


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) without it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def _device(name: str, local_rank: int) -> torch.device:
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda: CUDA is not available on this machine", hint="use --device cpu")
        return torch.device("cuda", local_rank if name == "cuda" else torch.device(name).index or 0)
    if name != "cpu":
        raise InputError(f"unknown --device {name!r}", hint="cpu or cuda")
    return torch.device("cpu")


def _precision(name: str, device: torch.device) -> str:
    if name not in PRECISIONS:
        raise InputError(f"unknown --precision {name!r}", hint=", ".join(PRECISIONS))
    if name != "auto":
        if name == "fp16" and device.type == "cpu":
            raise InputError("--precision fp16 needs --device cuda", hint="use bf16 or fp32 on a CPU")
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def _autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def objective_options(cls) -> dict:
    """The keyword options of an objective class and their defaults (``--option NAME=VALUE``)."""
    params = inspect.signature(cls.__init__).parameters
    return {name: p.default for name, p in params.items()
            if p.kind is p.KEYWORD_ONLY and name not in ("input_size", "channels")}


def _check_option_type(objective: str, name: str, value, default) -> None:
    """InputError when ``value`` is not of the kind of the option's default (an int passes for a float)."""
    if default is None or default is inspect.Parameter.empty:
        return
    kinds = (int, float) if type(default) is float else (type(default),)
    if not isinstance(value, kinds) or (isinstance(value, bool) and type(default) is not bool):
        raise InputError(f"objective {objective}: option {name}={value!r} must be a {type(default).__name__}",
                         hint=f"e.g. -o {name}={default}")


def check_config(config: TrainConfig) -> type:
    """Validate a config before any work; returns the objective class."""
    try:
        import lightly  # noqa: F401  (heads, losses and LARS of the SSL objectives)
    except ImportError:
        raise InputError("brainalign train needs lightly", hint="pip install 'brainalign[train]'") from None
    if config.objective not in list_objectives():
        get_objective(config.objective)  # raises with the list of names
    cls = get_objective(config.objective)
    if cls.architectures and config.arch not in cls.architectures:
        raise InputError(f"objective {config.objective} trains {', '.join(cls.architectures)}, not {config.arch!r}",
                         hint=f"use --arch {cls.architectures[0]}")
    allowed = objective_options(cls)
    unknown = sorted(set(config.options) - set(allowed))
    if unknown:
        raise InputError(f"objective {config.objective} has no option {unknown[0]!r}",
                         hint=f"its options: {', '.join(allowed) or '(none)'}")
    for name, value in config.options.items():
        _check_option_type(config.objective, name, value, allowed[name])
    if config.epochs < 1:
        raise InputError(f"--epochs {config.epochs}: must be at least 1", hint="e.g. --epochs 5")
    if config.save_every < 1:
        raise InputError(f"--save-every {config.save_every}: must be at least 1", hint="1 saves every epoch")
    if config.workers is not None and config.workers < 0:
        raise InputError(f"--workers {config.workers}: must be 0 or more", hint="0 loads in the training process")
    if config.threads is not None and config.threads < 1:
        raise InputError(f"--threads {config.threads}: must be at least 1", hint="leave it out for torch's default")
    return cls


def _fresh_run(config: TrainConfig, cls, images, recipe, published, aug, precision, world) -> dict:
    stamp = _dt.datetime.now(_dt.timezone.utc)
    return {"run": f"{config.objective}-{config.arch.replace(':', '_')}-s{config.seed}-{uuid.uuid4().hex[:8]}",
            "created": stamp.isoformat(timespec="seconds"), "objective": config.objective,
            "architecture": config.arch, "seed": config.seed, "data": images.describe(),
            "epochs": config.epochs, "recipe": {"published": published.to_dict(), "used": recipe.to_dict(),
                                                "scaling": "linear: lr = published lr x batch / published batch"},
            "options": dict(config.options), "augmentations": aug.to_dict(), "n_views": cls.n_views,
            "device": config.device, "precision": precision, "processes": world,
            "deterministic": config.deterministic, "code_version": code_version()}


def _check_resumable(run: dict, config: TrainConfig, images, recipe) -> None:
    wanted = {"objective": config.objective, "architecture": config.arch, "seed": config.seed,
              "epochs": config.epochs, "options": dict(config.options)}
    for key, value in wanted.items():
        if run.get(key) != value:
            raise InputError(f"--resume: the run in this folder has {key} {run.get(key)!r}, not {value!r}",
                             hint="resume with the run's own settings (see its run.json), or train into a new --out")
    if run["data"]["content_sha256"] != images.content_sha256:
        raise InputError("--resume: the training images changed since the run started",
                         hint=f"the run used {run['data']['source']} with content sha256 {run['data']['content_sha256'][:12]}")
    used = run["recipe"]["used"]
    if (used["batch_size"], used["lr"]) != (recipe.batch_size, recipe.lr):
        raise InputError(f"--resume: the run used batch {used['batch_size']} and lr {used['lr']:g}, not "
                         f"{recipe.batch_size} and {recipe.lr:g}", hint="resume without --batch-size/--lr, or with the run's")


def train(config: TrainConfig, *, resume: bool = False, progress: bool = True,
          on_checkpoint: Callable[[Path, int], None] | None = None) -> dict:
    """Train ``config.arch`` with ``config.objective``; returns ``{"run", "out", "epochs", "log"}``.

    ``on_checkpoint(path, epoch)`` is called (on rank 0) after each epoch checkpoint is written,
    e.g. to score it. ``resume`` continues the run in ``config.out`` from its ``state.pt``.
    The caller's torch threads, deterministic-algorithms switch and CPU random state are restored
    afterwards.
    """
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        with torch.random.fork_rng(devices=[]):
            return _train(config, resume=resume, progress=progress, on_checkpoint=on_checkpoint)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(config: TrainConfig, *, resume: bool, progress: bool,
           on_checkpoint: Callable[[Path, int], None] | None) -> dict:
    from ..models import load_model

    cls = check_config(config)
    rank, world, local_rank = _distributed()
    device = _device(config.device, local_rank)
    precision = _precision(config.precision, device)
    out = Path(config.out)
    existing = read_run(out)
    if existing is not None and not resume:
        raise InputError(f"{out} already holds run {existing['run']}",
                         hint="pass --resume to continue it, or choose another --out")
    if world > 1:
        import torch.distributed as dist
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    if config.deterministic:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    loaded = load_model(config.arch, seed=config.seed)
    images = training_images(config.data, progress=progress and rank == 0)
    preprocessing = loaded.preprocessing
    backbone = loaded.module.train().requires_grad_(True)
    torch.manual_seed(config.seed)  # the heads' init (lightly's heads draw from the global generator)
    objective = cls(backbone, input_size=preprocessing.input_size, channels=preprocessing.channels,
                    **config.options)
    objective.configure(n_images=images.n)
    objective.to(device)

    published = cls.recipe
    recipe = scaled_recipe(published, epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                           device=config.device)
    if recipe.batch_size > images.n:
        raise InputError(f"--batch-size {recipe.batch_size} is larger than the {images.n} training images",
                         hint="lower --batch-size or use more images")
    aug = cls.augmentations()
    sampler = EpochSampler(images.n, global_batch=recipe.batch_size, seed=config.seed, rank=rank, world=world)
    dataset = ViewDataset(images, aug, n_views=cls.n_views, size=preprocessing.input_size,
                          channels=preprocessing.channels, mean=preprocessing.mean, std=preprocessing.std,
                          seed=config.seed)
    workers = config.workers if config.workers is not None else min(4, max(0, (os.cpu_count() or 1) - 1))
    optimizer = make_optimizer(recipe, objective.parameters())
    scheduler = make_scheduler(optimizer, recipe, sampler.steps())
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    model = objective
    if world > 1:
        import warnings

        from torch.nn.parallel import DistributedDataParallel
        with warnings.catch_warnings():  # rank-local buffers (queues, banks) must not be synced: keep this switch
            warnings.simplefilter("ignore", FutureWarning)
            model = DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None,
                                            broadcast_buffers=False, find_unused_parameters=cls.partial_updates)

    run = existing if existing is not None else _fresh_run(config, cls, images, recipe, published, aug, precision, world)
    if existing is not None:
        _check_resumable(existing, config, images, recipe)
    start, step = 0, 0
    state_path = out / "state.pt"
    if resume and state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=False)
        objective.load_state_dict(state["objective"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["torch"])
        start, step = state["epoch"], state["step"]
    meta = {"run": run["run"], "objective": config.objective, "architecture": config.arch,
            "training_data": images.source, "data_sha256": images.content_sha256, "seed": config.seed,
            "code_version": code_version()}
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if existing is None:
            write_run(out, run)
        truncate_log(out, start)
        if start == 0 and not checkpoint_path(out, 0).is_file():
            path = save_checkpoint(out, 0, backbone, {**meta, "step": 0})
            if on_checkpoint is not None:
                on_checkpoint(path, 0)

    log = []
    loader = make_loader(dataset, sampler, workers=workers, pin_memory=device.type == "cuda")
    for epoch in range(start + 1, config.epochs + 1):
        sampler.epoch = epoch
        torch.manual_seed(view_seed(config.seed, epoch, -2, -2))
        if device.type == "cuda":
            torch.cuda.manual_seed_all(view_seed(config.seed, epoch, -3, rank))
        totals, n_steps, started = {}, 0, time.perf_counter()
        for views, index in tqdm(loader, total=sampler.steps(), desc=f"epoch {epoch}/{config.epochs}",
                                 unit="step", leave=False, disable=not progress or rank != 0):
            views = views.to(device, non_blocking=True)
            with _autocast(device, precision):
                loss, parts = model([views[:, v] for v in range(views.shape[1])], index.to(device))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            objective.after_step()
            step += 1
            n_steps += 1
            value = float(loss.detach())
            if not math.isfinite(value):
                raise InputError(f"the loss became {value} at epoch {epoch}, step {step}",
                                 hint="lower --lr (or use --precision fp32)")
            for name, part in {"loss": value, **parts}.items():
                totals[name] = totals.get(name, 0.0) + part
        seconds = time.perf_counter() - started
        means = {name: total / max(n_steps, 1) for name, total in totals.items()}
        if world > 1:
            import torch.distributed as dist
            packed = torch.tensor([means[k] for k in sorted(means)], dtype=torch.float64, device=device)
            dist.all_reduce(packed)
            means = dict(zip(sorted(means), (packed / world).tolist()))
        line = {"epoch": epoch, "step": step, **means, "lr": scheduler.get_last_lr()[0], "seconds": seconds,  # no I/O
                "images_per_s": n_steps * recipe.batch_size / seconds if seconds > 0 else None}
        log.append(line)
        if rank == 0:
            append_log(out, line)
            saved = None
            if epoch % config.save_every == 0 or epoch == config.epochs:
                saved = save_checkpoint(out, epoch, backbone, {**meta, "step": step})
            save_torch({"objective": objective.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                        "rng": {"torch": torch.get_rng_state()}, "epoch": epoch, "step": step}, state_path)
            if saved is not None and on_checkpoint is not None:
                on_checkpoint(saved, epoch)
        if world > 1:
            import torch.distributed as dist
            dist.barrier()
    return {"run": run["run"], "out": str(out), "epochs": config.epochs, "log": log, "recipe": recipe.to_dict(),
            "published": published.to_dict(), "rank": rank, "world": world}
