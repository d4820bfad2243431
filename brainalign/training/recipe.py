"""From a published recipe to the one a run uses: scaled batch and learning rate, the schedule.

The published batch sizes assume many GPUs. :func:`scaled_recipe` keeps the recipe's shape
(optimiser, momentum, weight decay, schedule) and applies the linear scaling rule
(lr = published lr x batch / published batch, Goyal et al. 2017); milestones and warm-up are
rescaled from the published number of epochs to the run's. Both recipes go into the run's
metadata.
"""

from __future__ import annotations

import math

import torch

from ..errors import InputError
from .objectives.base import Recipe

#: Batch size used when none is given on a CPU (the published ones are for GPU clusters).
CPU_BATCH = 64


def scaled_recipe(published: Recipe, *, epochs: int, batch_size: int | None, lr: float | None,
                  device: str) -> Recipe:
    """The recipe of a run of ``epochs`` with ``batch_size`` (default: published on CUDA, at most
    :data:`CPU_BATCH` on a CPU) and ``lr`` (default: the linear scaling rule)."""
    if batch_size is None:
        batch_size = published.batch_size if device.startswith("cuda") else min(published.batch_size, CPU_BATCH)
    if batch_size < 2:
        raise InputError(f"--batch-size {batch_size}: the objectives need at least 2 images per batch",
                         hint="e.g. --batch-size 64")
    if lr is None:
        lr = published.lr * batch_size / published.batch_size
    if lr <= 0 or not math.isfinite(lr):
        raise InputError(f"--lr {lr}: must be a positive number", hint="leave it out to scale the published rate")
    ratio = epochs / published.epochs
    milestones = tuple(sorted({max(1, round(m * ratio)) for m in published.milestones if round(m * ratio) < epochs}))
    warmup = int(round(published.warmup_epochs * ratio))
    return Recipe(optimizer=published.optimizer, lr=float(lr), batch_size=int(batch_size), epochs=epochs,
                  momentum=published.momentum, weight_decay=published.weight_decay, schedule=published.schedule,
                  milestones=milestones, warmup_epochs=warmup)


def make_optimizer(recipe: Recipe, parameters) -> torch.optim.Optimizer:
    """SGD (optionally Nesterov) or lightly's LARS, with the recipe's constants."""
    params = [p for p in parameters if p.requires_grad]
    if recipe.optimizer in ("sgd", "sgd_nesterov"):
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay,
                               nesterov=recipe.optimizer == "sgd_nesterov")
    if recipe.optimizer == "lars":
        from lightly.utils.lars import LARS
        return LARS(params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    raise InputError(f"unknown optimizer {recipe.optimizer!r} in the recipe", hint="sgd, sgd_nesterov or lars")


def lr_factor(recipe: Recipe, step: int, steps_per_epoch: int) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` (0-based)."""
    epoch = step / steps_per_epoch
    warmup = recipe.warmup_epochs
    if warmup and epoch < warmup:
        return (step + 1) / (warmup * steps_per_epoch)
    if recipe.schedule == "cosine":
        span = max(recipe.epochs - warmup, 1e-9)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (epoch - warmup) / span)))
    if recipe.schedule == "step":
        return 0.1 ** sum(int(epoch) >= m for m in recipe.milestones)
    return 1.0


def make_scheduler(optimizer, recipe: Recipe, steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step ``LambdaLR`` following :func:`lr_factor`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(recipe, step, steps_per_epoch))
