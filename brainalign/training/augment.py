"""Seeded augmentations: every random choice of a view comes from its own ``torch.Generator``.

A view's generator is seeded from (run seed, epoch, image index, view number) alone
(:func:`view_seed`), so the views of an image do not depend on the number of data-loader
workers, the order in which workers run, the number of DDP processes, or on whether the run was
interrupted and resumed.

The operations are torchvision's (``transforms.v2.functional``) on float tensors in [0, 1]:
random resized crop to the model's input size (area ``crop_scale``, aspect ratio 3/4 to 4/3,
torchvision's 10 attempts then a centre crop), colour jitter (brightness, contrast, saturation,
hue, in that order, with probability ``jitter_p``), grayscale, horizontal flip, Gaussian blur
(kernel the odd number nearest a tenth of the side). The model's own normalisation
(:class:`brainalign.models.Preprocessing` mean/std, channel count) is applied last.
"""

from __future__ import annotations

import hashlib
import math

import torch
from torchvision.transforms.v2 import functional as TF

from .objectives.base import Augmentations


def view_seed(seed: int, epoch: int, index: int, view: int) -> int:
    """A 63-bit seed for one view of one image in one epoch of a run seeded ``seed``."""
    digest = hashlib.sha256(f"brainalign-view:{seed}:{epoch}:{index}:{view}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _chance(generator: torch.Generator, p: float) -> bool:
    return p > 0 and float(torch.rand((), generator=generator)) < p


def crop_box(height: int, width: int, scale: tuple[float, float], generator: torch.Generator) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a random resized crop, as ``torchvision.transforms.RandomResizedCrop``."""
    area = height * width
    log_ratio = (math.log(3 / 4), math.log(4 / 3))
    for _ in range(10):
        target = area * _uniform(generator, *scale)
        ratio = math.exp(_uniform(generator, *log_ratio))
        w, h = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (), generator=generator))
            left = int(torch.randint(0, width - w + 1, (), generator=generator))
            return top, left, h, w
    side = min(height, width)
    return (height - side) // 2, (width - side) // 2, side, side


def augment(image: torch.Tensor, spec: Augmentations, size: int, generator: torch.Generator) -> torch.Tensor:
    """One augmented view of ``image`` (3, H, W) in [0, 1]; returns (3, size, size) in [0, 1]."""
    if spec.crop_scale is None:
        x = TF.resize(image, [size, size], antialias=True)
    else:
        top, left, h, w = crop_box(image.shape[-2], image.shape[-1], spec.crop_scale, generator)
        x = TF.resized_crop(image, top, left, h, w, [size, size], antialias=True)
    if _chance(generator, spec.jitter_p):
        b, c, s, h = spec.jitter
        x = TF.adjust_brightness(x, _uniform(generator, max(0.0, 1 - b), 1 + b))
        x = TF.adjust_contrast(x, _uniform(generator, max(0.0, 1 - c), 1 + c))
        x = TF.adjust_saturation(x, _uniform(generator, max(0.0, 1 - s), 1 + s))
        x = TF.adjust_hue(x, _uniform(generator, -h, h))
    if _chance(generator, spec.grayscale_p):
        x = TF.rgb_to_grayscale(x, num_output_channels=3)
    if _chance(generator, spec.flip_p):
        x = TF.horizontal_flip(x)
    if _chance(generator, spec.blur_p):
        kernel = max(3, int(round(size / 10)) | 1)
        x = TF.gaussian_blur(x, [kernel, kernel], [_uniform(generator, *spec.blur_sigma)] * 2)
    return x.clamp(0.0, 1.0)


def normalise(x: torch.Tensor, mean, std, channels: int) -> torch.Tensor:
    """(3, S, S) in [0, 1] -> the model's input: luminance when ``channels == 1``, then (x - mean) / std."""
    if channels == 1:
        x = 0.299 * x[0:1] + 0.587 * x[1:2] + 0.114 * x[2:3]
    mean = torch.tensor(mean, dtype=x.dtype).view(-1, 1, 1)
    std = torch.tensor(std, dtype=x.dtype).view(-1, 1, 1)
    return (x - mean) / std
