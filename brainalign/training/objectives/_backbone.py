"""Helpers the SSL objectives share: the backbone's output width, flattened features."""

from __future__ import annotations

import torch
from torch import nn


def feature_dim(backbone: nn.Module, input_size: int, channels: int) -> int:
    """Width of ``backbone``'s flattened output for one (channels, input_size, input_size) image.

    Runs one forward pass of a batch of 2 in eval mode without gradients; the backbone's
    training mode is restored afterwards.
    """
    mode = backbone.training
    backbone.eval()
    with torch.no_grad():
        out = backbone(torch.zeros(2, channels, input_size, input_size))
    backbone.train(mode)
    return int(torch.flatten(out, 1).shape[1])


def embed(backbone: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The backbone's output for ``x`` (batch, C, S, S), flattened to (batch, features)."""
    return torch.flatten(backbone(x), 1)
