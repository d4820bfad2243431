"""LCL-V2: the two-stage model of Parthasarathy, Hénaff & Simoncelli (arXiv 2312.11436, TMLR 2024).

From the paper: two convolutional stages, each a model of one cortical area (stage 1 ~ V1,
stage 2 ~ V2), trained one after the other with layerwise complexity-matched learning; each
stage is a convolution followed by half-wave rectification, anti-aliased ("blur-pool")
downsampling by 2 and a local normalization; the model takes RGB natural images (ImageNet) and
its second stage is the front end of LCL-V2Net.

Assumptions (details not taken from the paper): stage 1 has 64 filters of 7x7, stage 2 has 256
filters of 3x3 (so the output, 256 channels at stride 4, matches what a ResNet-50's first
residual stage would receive); convolutions have biases; the blur kernel is the binomial
[1, 2, 1]^T [1, 2, 1] / 16; the normalization divides each response by the square root of
(1 + the local mean of the squared responses over all channels in a 5x5 window); input is 224x224
with ImageNet mean/std. State-dict keys are ``stage1.conv.*`` and ``stage2.conv.*``, not those of
the authors' release, so their checkpoints need renaming.

Layers: ``stage1`` and ``stage2`` (normalized outputs; shapes (64, 112, 112) and (256, 56, 56)),
and inside each stage ``conv``, ``relu``, ``pool`` and ``norm``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import IMAGENET_MEAN, IMAGENET_STD, Preprocessing, seeded
from ..registry import ZooEntry, register_model

PREPROCESSING = Preprocessing(input_size=224, resize=256, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)


class BlurPool(nn.Module):
    """Depthwise binomial blur, then keep every second pixel: (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2))."""

    def __init__(self):
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (taps[:, None] * taps[None, :] / 16)[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel.to(x.dtype).expand(x.shape[1], 1, 3, 3)
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, stride=2, groups=x.shape[1])


class LocalNorm(nn.Module):
    """Divide by sqrt(1 + mean of x^2 over channels and a ``window`` x ``window`` neighbourhood)."""

    def __init__(self, window: int = 5):
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        energy = F.avg_pool2d(x.pow(2).mean(dim=1, keepdim=True), self.window, stride=1,
                              padding=self.window // 2, count_include_pad=False)
        return x / torch.sqrt(1.0 + energy)


class Stage(nn.Module):
    """Convolution, ReLU, blur-pool by 2, local normalization."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=kernel, padding=kernel // 2)
        self.relu = nn.ReLU()
        self.pool = BlurPool()
        self.norm = LocalNorm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.pool(self.relu(self.conv(x))))


class LCLV2(nn.Module):
    """Two stages: (B, 3, 224, 224) -> stage1 (B, 64, 112, 112) -> stage2 (B, 256, 56, 56).

    Examples
    --------
    >>> LCLV2()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 256, 16, 16])
    """

    def __init__(self):
        super().__init__()
        self.stage1 = Stage(3, 64, 7)
        self.stage2 = Stage(64, 256, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage2(self.stage1(x))


@register_model
def lcl_v2(seed: int = 0) -> ZooEntry:
    """LCL-V2 two-stage model (Parthasarathy et al. 2024; widths and normalization assumed).

    Default layers: stage1 (V1-like), stage2 (V2-like).
    """
    with seeded(seed):
        module = LCLV2()
    return ZooEntry(module=module, preprocessing=PREPROCESSING, default_layers=("stage1", "stage2"),
                    description="LCL-V2 two-stage model (Parthasarathy et al. 2024); some details assumed")
