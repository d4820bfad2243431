"""The interface every training objective implements, and the objective registry.

An objective owns the backbone it trains and every head, predictor, queue or memory bank it
needs. The trainer only calls :meth:`Objective.loss` on a batch, steps one optimiser over
``objective.parameters()`` and calls :meth:`Objective.after_step`; it never asks which kind of
objective it holds. Layer-local rules keep gradients inside a layer themselves (``detach`` between
layers, or a custom autograd function for random feedback), so one optimiser serves them too.

Optional hooks (defaults in :class:`Objective`; an objective overrides only what it needs):

- ``recipe``: the published optimiser and schedule (:class:`Recipe`); the trainer scales its
  batch size and learning rate for the hardware (linear scaling rule) and records both.
- :meth:`Objective.augmentations`: the views' augmentations (:class:`Augmentations`); the
  default is the SSL set of Nayebi et al. 2023 (random resized crop to ``input_size``, colour
  jitter, grayscale, flip, plus Gaussian blur when the class sets ``blur = True``).
- :meth:`Objective.configure`: told the training-set size before the first step (memory banks,
  queues that cannot be larger than the data).
- ``forward(views, index)`` is :meth:`Objective.loss`, so ``DistributedDataParallel`` can wrap an
  objective and average its gradients.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ...errors import InputError

_OBJECTIVES: dict[str, type["Objective"]] = {}


@dataclass(frozen=True)
class Recipe:
    """An optimiser and learning-rate schedule, as published (per-GPU-cluster batch sizes).

    Attributes
    ----------
    optimizer : ``"sgd"``, ``"sgd_nesterov"`` or ``"lars"`` (lightly's LARS).
    lr : base learning rate at ``batch_size``.
    batch_size : the published (global) batch size.
    epochs : the published number of epochs.
    momentum, weight_decay : optimiser constants.
    schedule : ``"constant"``, ``"step"`` (divide by 10 at each of ``milestones``) or ``"cosine"``
        (to 0 at the last epoch), after ``warmup_epochs`` of linear warm-up.
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    batch_size: int = 256
    epochs: int = 100
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "constant"
    milestones: tuple[int, ...] = ()
    warmup_epochs: int = 0

    def to_dict(self) -> dict:
        return {**asdict(self), "milestones": list(self.milestones)}


@dataclass(frozen=True)
class Augmentations:
    """How each view is drawn from an image (every random choice from a seeded generator).

    ``crop_scale``: area range of the random resized crop (to the objective's ``input_size``);
    ``jitter``: colour jitter strengths (brightness, contrast, saturation, hue), applied with
    probability ``jitter_p``; ``grayscale_p``, ``flip_p``; ``blur_p`` with sigma in ``blur_sigma``
    (kernel about a tenth of the image side). ``crop_scale=None`` resizes the whole image instead.
    """

    crop_scale: tuple[float, float] | None = (0.2, 1.0)
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    flip_p: float = 0.5
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class Objective(nn.Module):
    """A training objective around a backbone.

    Parameters
    ----------
    backbone : nn.Module
        The network being trained; its ``state_dict`` is what the checkpoint stores as the model.
    input_size : int
        Side of the square images the backbone takes.
    channels : int
        Channels of those images (3 for RGB models, 1 for grayscale ones such as ``clapp_vgg6``).

    Class attributes
    ----------------
    name : str
        The registered name (``simclr``, ``clapp`` ...).
    n_views : int
        Augmented views per image that :meth:`loss` takes (2 for the two-view SSL losses).
    architectures : tuple of str
        Zoo architectures the objective supports; empty means any.
    recipe : Recipe
        The published optimiser and schedule (the trainer scales batch and learning rate).
    blur : bool
        Whether the default augmentations add Gaussian blur (MoCo v2, SimCLR, SimSiam).
    partial_updates : bool
        Whether a step may leave some parameters without a gradient (layer-wise schedules);
        DistributedDataParallel must then look for unused parameters.
    """

    name: str = ""
    n_views: int = 2
    architectures: tuple[str, ...] = ()
    recipe: Recipe = Recipe()
    blur: bool = False
    partial_updates: bool = False

    def __init__(self, backbone: nn.Module, *, input_size: int, channels: int = 3):
        super().__init__()
        self.backbone = backbone
        self.input_size, self.channels = input_size, channels

    def loss(self, views: list[torch.Tensor], index: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss of one batch, and named parts to log.

        Parameters
        ----------
        views : list of ``n_views`` tensors of shape (batch, channels, input_size, input_size)
            Augmented views of the same images, in the same order.
        index : tensor of shape (batch,)
            Each image's position in the training set (memory banks key on it).
        """
        raise NotImplementedError

    def forward(self, views: list[torch.Tensor], index: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Same as :meth:`loss` (so ``DistributedDataParallel`` can wrap the objective)."""
        return self.loss(views, index)

    def after_step(self) -> None:
        """Update what is not learned by gradient (momentum encoders, memory banks); default none."""

    @classmethod
    def augmentations(cls) -> Augmentations:
        """The augmentations that make each view; default: Nayebi et al. 2023's SSL set."""
        return Augmentations(blur_p=0.5 if cls.blur else 0.0)

    def configure(self, *, n_images: int) -> None:
        """Called once with the training-set size before the first step; default nothing."""


def register_objective(cls: type[Objective]) -> type[Objective]:
    """Class decorator: register an objective under its ``name``."""
    if not cls.name or cls.name in _OBJECTIVES:
        raise ValueError(f"objective name {cls.name!r} is empty or registered twice")
    _OBJECTIVES[cls.name] = cls
    return cls


def list_objectives(pattern: str = "*") -> list[str]:
    """Registered objective names matching a glob pattern, sorted."""
    return sorted(name for name in _OBJECTIVES if fnmatch.fnmatch(name, pattern))


def get_objective(name: str) -> type[Objective]:
    """The objective class registered as ``name``; an unknown name is one :class:`InputError`."""
    try:
        return _OBJECTIVES[name]
    except KeyError:
        raise InputError(f"unknown training objective {name!r}",
                         hint=f"choose one of: {', '.join(list_objectives()) or '(none registered)'}") from None

