"""The interface every training objective implements, and the objective registry.

An objective owns the backbone it trains and every head, predictor, queue or memory bank it
needs. The trainer only calls :meth:`Objective.loss` on a batch, steps one optimiser over
``objective.parameters()`` and calls :meth:`Objective.after_step`; it never asks which kind of
objective it holds. Layer-local rules keep gradients inside a layer themselves (``detach`` between
layers, or a custom autograd function for random feedback), so one optimiser serves them too.
"""

from __future__ import annotations

import fnmatch
import torch
from torch import nn

from ...errors import InputError

_OBJECTIVES: dict[str, type["Objective"]] = {}


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
    """

    name: str = ""
    n_views: int = 2
    architectures: tuple[str, ...] = ()

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

    def after_step(self) -> None:
        """Update what is not learned by gradient (momentum encoders, memory banks); default none."""


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

