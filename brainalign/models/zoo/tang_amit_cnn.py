"""The CIFAR-scale CNN of Tang, Yang & Amit 2022 (Front. Comput. Neurosci. 16:789253).

From the paper: a feed-forward convolutional network on 32x32 CIFAR-10 images, trained
self-supervised with a contrastive hinge loss by layer-wise learning or difference target
propagation, read out from an embedding layer by a linear classifier.

Assumptions (the layer widths and nonlinearities here are not copied from the paper's table):
five 3x3 convolutions (padding 1) with 32, 64, 128, 256 and 512 channels, each followed by
Hardtanh, 2x2 max-pools after the first four, and a linear 64-d embedding of the flattened
512x2x2 map; no batch normalization; CIFAR-10 mean/std normalization. Keys: ``convK.weight``,
``convK.bias``, ``embed.weight``, ``embed.bias``.

Layer shapes at 32x32: pool1 (32, 16, 16), pool2 (64, 8, 8), pool3 (128, 4, 4), pool4
(256, 2, 2), act5 (512, 2, 2), embed (64,).
"""

from __future__ import annotations

import torch
from torch import nn

from ..base import Preprocessing, seeded
from ..registry import ZooEntry, register_model

CHANNELS = (32, 64, 128, 256, 512)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
PREPROCESSING = Preprocessing(input_size=32, mean=CIFAR10_MEAN, std=CIFAR10_STD)


class TangAmitCNN(nn.Module):
    """Five conv layers with Hardtanh and max-pooling, then a 64-d linear embedding.

    Examples
    --------
    >>> TangAmitCNN()(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 64])
    """

    def __init__(self, embedding: int = 64):
        super().__init__()
        c_in = 3
        for k, c_out in enumerate(CHANNELS, start=1):
            self.add_module(f"conv{k}", nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
            self.add_module(f"act{k}", nn.Hardtanh())
            if k < len(CHANNELS):
                self.add_module(f"pool{k}", nn.MaxPool2d(2))
            c_in = c_out
        self.flatten = nn.Flatten(start_dim=1)
        self.embed = nn.Linear(CHANNELS[-1] * 2 * 2, embedding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (batch, 3, 32, 32) to the embedding, (batch, 64)."""
        for k in range(1, len(CHANNELS) + 1):
            x = getattr(self, f"act{k}")(getattr(self, f"conv{k}")(x))
            if k < len(CHANNELS):
                x = getattr(self, f"pool{k}")(x)
        return self.embed(self.flatten(x))


@register_model
def tang_amit_cnn(seed: int = 0) -> ZooEntry:
    """Tang, Yang & Amit 2022 CIFAR CNN (widths assumed; see the module docstring).

    Default layers: pool1, pool2, pool3, pool4, act5, embed.
    """
    with seeded(seed):
        module = TangAmitCNN()
    return ZooEntry(module=module, preprocessing=PREPROCESSING,
                    default_layers=("pool1", "pool2", "pool3", "pool4", "act5", "embed"),
                    description="CIFAR CNN of Tang, Yang & Amit 2022 (layer widths assumed)")
