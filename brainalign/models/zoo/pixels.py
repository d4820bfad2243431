"""The pixel baseline: the grayscale image itself, flattened, as the only layer."""

from __future__ import annotations

import torch
from torch import nn

from ..base import Preprocessing
from ..registry import ZooEntry, register_model

#: Grayscale at 64x64, values left in [0, 1] (mean 0, std 1).
PREPROCESSING = Preprocessing(input_size=64, mean=(0.0,), std=(1.0,), channels=1)


class Pixels(nn.Module):
    """Flatten the image: the one layer ``pixels`` outputs (batch, channels * height * width).

    Examples
    --------
    >>> Pixels()(torch.zeros(2, 1, 64, 64)).shape
    torch.Size([2, 4096])
    """

    def __init__(self):
        super().__init__()
        self.pixels = nn.Flatten(start_dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (batch, 1, 64, 64) to (batch, 4096)."""
        return self.pixels(x)


@register_model
def pixels(seed: int = 0) -> ZooEntry:
    """Pixel baseline: layer ``pixels``, the 64x64 grayscale image as 4096 units.

    ``seed`` is accepted like every zoo factory's; the module has no parameters.
    """
    return ZooEntry(module=Pixels(), preprocessing=PREPROCESSING, default_layers=("pixels",),
                    description="pixel baseline: 64x64 grayscale image, flattened")
