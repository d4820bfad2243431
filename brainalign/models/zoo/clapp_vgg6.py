"""CLAPP's VGG-6 encoder (Illing, Ventura, Bellec & Gerstner 2021, NeurIPS), on image patches.

From the paper: six modules of 3x3 convolutions with ReLU, channels [128], [256, M], [256],
[512, M], [1024, M], [1024, M] (M: 2x2 max-pool), trained layer-wise with the CLAPP rule on
grayscale STL-10 crops of 64x64 that are cut into 16x16 patches at stride 8 (a 7x7 grid); each
module's representation is its output average-pooled within each patch.

Assumptions (not fixed by the paper's text): convolutions have padding 1 and biases, there is no
batch normalization, and pixels are normalised as (x - 0.5) / 0.5 after conversion to luminance.
State-dict keys are ``encoder.K.0.weight`` / ``encoder.K.0.bias`` (K = 0..5), not those of the
authors' code, so their checkpoints need renaming.

Layers ``module1`` ... ``module6`` are parameter-free taps returning the per-patch average as a
grid of shape (channels, 7, 7); ``encoder.K`` are the convolution stacks on the patches (batch
dimension: images x 49 patches).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Preprocessing, seeded
from ..registry import ZooEntry, register_model

#: (output channels, max-pool after the convolution) of the six modules.
MODULES = ((128, False), (256, True), (256, False), (512, True), (1024, True), (1024, True))

PREPROCESSING = Preprocessing(input_size=64, mean=(0.5,), std=(0.5,), channels=1)


class PatchGrid(nn.Module):
    """Average each patch's feature map and arrange the patches back on their grid.

    Maps (batch * rows * cols, channels, h, w) to (batch, channels, rows, cols).
    """

    def __init__(self, grid: int):
        super().__init__()
        self.grid = grid

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        pooled = patches.mean(dim=(2, 3))
        batch = pooled.shape[0] // (self.grid * self.grid)
        return pooled.reshape(batch, self.grid, self.grid, -1).permute(0, 3, 1, 2)


class ClappVGG6(nn.Module):
    """Six VGG modules applied to 16x16 patches of a 64x64 grayscale image (stride 8: 7x7 patches).

    Examples
    --------
    >>> ClappVGG6().eval()(torch.zeros(2, 1, 64, 64)).shape
    torch.Size([2, 1024, 7, 7])
    """

    def __init__(self, patch: int = 16, stride: int = 8, image: int = 64):
        super().__init__()
        self.patch, self.stride = patch, stride
        grid = (image - patch) // stride + 1
        blocks, c_in = [], 1
        for c_out, pool in MODULES:
            layers = [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU()]
            blocks.append(nn.Sequential(*layers, *([nn.MaxPool2d(2)] if pool else [])))
            c_in = c_out
        self.encoder = nn.ModuleList(blocks)
        for k in range(1, len(MODULES) + 1):
            self.add_module(f"module{k}", PatchGrid(grid))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (batch, 1, 64, 64) to module6's patch grid, (batch, 1024, 7, 7)."""
        patches = F.unfold(x, kernel_size=self.patch, stride=self.stride)  # (batch, patch*patch, 49)
        h = patches.transpose(1, 2).reshape(-1, 1, self.patch, self.patch)
        out = h
        for k, block in enumerate(self.encoder, start=1):
            h = block(h)
            out = getattr(self, f"module{k}")(h)
        return out


@register_model
def clapp_vgg6(seed: int = 0) -> ZooEntry:
    """CLAPP VGG-6 on 16x16 patches of 64x64 grayscale images (Illing et al. 2021).

    Default layers: module1 ... module6, each (channels, 7, 7).
    """
    with seeded(seed):
        module = ClappVGG6()
    return ZooEntry(module=module, preprocessing=PREPROCESSING,
                    default_layers=tuple(f"module{k}" for k in range(1, 7)),
                    description="CLAPP VGG-6, 16x16 patches of 64x64 grayscale (Illing et al. 2021)")
