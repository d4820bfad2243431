"""LCL: layerwise complexity-matched learning (Parthasarathy, Hénaff & Simoncelli 2024).

Parthasarathy N., Hénaff O. J., Simoncelli E. P. (2024) "Layerwise complexity-matched learning
yields an improved model of cortical area V2", TMLR; arXiv 2312.11436. From the abstract: each
stage is trained on its own, bottom-up, to "maximize feature similarity between pairs of
locally-deformed natural image patches, while decorrelating features across patches sampled from
other images", with "deformation amplitudes adjusted proportionally to receptive field sizes in
each layer".

Implemented on ``lcl_v2`` (two stages) as follows; the paper's exact loss, patch sampling and
proportionality constant were not available to us, so these are our assumptions:

- Receptive fields are computed from the architecture (:func:`receptive_fields`: kernel extents
  and strides of each stage's convolution, blur-pool and normalisation window): 17 and 41 input
  pixels for the zoo's ``lcl_v2``.
- A view of the batch is deformed twice, independently, for each stage l: a smooth random
  displacement field (Gaussian values on a grid with spacing RF_l, bicubically interpolated)
  scaled so its per-pixel standard deviation before interpolation is ``amplitude * RF_l`` pixels
  (``amplitude = 0.25``), applied with bilinear sampling and reflected borders.
- Stage l maps both deformed images (through stages 1..l-1 without gradient) to feature maps;
  each of ``locations`` distinct spatial positions (64, or all when fewer; drawn per step,
  shared by the batch) is a patch whose feature vector is L2-normalised over channels. With
  ``s[b, b']`` the cosine similarity of image b's patch in the first deformation and image
  b''s patch at the same position in the second, the stage's loss is ``mean_b (1 - s[b, b]) + decorrelation * mean_{b != b'} s[b, b']^2``
  (``decorrelation = 1``), averaged over positions: similar features for the two deformations
  of a patch, uncorrelated features for patches of other images.
- Schedule ``greedy`` (the paper's: stage 1 for ``steps_per_stage`` optimiser steps, then stage
  2 on the frozen stage 1 for good) or ``simultaneous`` / ``random``.

Gradient isolation: stage l's input is computed under ``torch.no_grad()``, so a stage's weights
receive only the gradient of its own loss.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ...models.zoo.lcl_v2 import LCLV2, BlurPool, LocalNorm
from ._local import LocalRule
from .base import register_objective

AMPLITUDE = 0.25  # deformation standard deviation, in receptive fields
DECORRELATION = 1.0  # weight of the decorrelation term
LOCATIONS = 64  # patches (spatial positions) per stage and step


def _footprint(module: nn.Module) -> tuple[int, int]:
    """(extent in input samples, stride) of one module of a stage."""
    if isinstance(module, nn.Conv2d):
        return module.dilation[0] * (module.kernel_size[0] - 1) + 1, module.stride[0]
    if isinstance(module, BlurPool):
        return module.kernel.shape[-1], 2  # BlurPool keeps every second sample by definition
    if isinstance(module, LocalNorm):
        return module.window, 1
    if isinstance(module, (nn.ReLU, nn.Identity)):
        return 1, 1
    raise TypeError(f"no receptive-field rule for {type(module).__name__}")


def receptive_fields(stages: list[nn.Module]) -> list[int]:
    """Receptive-field side, in input pixels, of a unit at the output of each stage.

    Walks each stage's modules in order: ``rf += (extent - 1) * jump; jump *= stride``.

    Examples
    --------
    >>> receptive_fields([LCLV2().stage1, LCLV2().stage2])
    [17, 41]
    """
    rf, jump, out = 1, 1, []
    for stage in stages:
        for module in stage.children():
            extent, stride = _footprint(module)
            rf += (extent - 1) * jump
            jump *= stride
        out.append(rf)
    return out


def deformation_field(batch: int, size: tuple[int, int], *, amplitude: float, scale: float,
                      generator: torch.Generator) -> torch.Tensor:
    """Smooth random displacements, in pixels, of shape (batch, height, width, 2) as (dx, dy).

    Standard normal values on a grid of spacing ``scale`` pixels, bicubically interpolated to the
    image and multiplied by ``amplitude`` (pixels).
    """
    height, width = size
    coarse = torch.randn(batch, 2, math.ceil(height / scale) + 1, math.ceil(width / scale) + 1,
                         generator=generator)
    field = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
    return (field * amplitude).permute(0, 2, 3, 1)


def deform(images: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
    """Resample ``images`` (batch, channels, H, W) at pixel positions shifted by ``field`` (pixels)."""
    height, width = images.shape[-2:]
    ys = torch.linspace(-1 + 1 / height, 1 - 1 / height, height, device=images.device, dtype=images.dtype)
    xs = torch.linspace(-1 + 1 / width, 1 - 1 / width, width, device=images.device, dtype=images.dtype)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # (H, W, 2) as (x, y)
    scale = torch.tensor([2.0 / width, 2.0 / height], device=images.device, dtype=images.dtype)
    return F.grid_sample(images, grid + field.to(images) * scale, mode="bilinear",
                         padding_mode="reflection", align_corners=False)


def lcl_loss(first: torch.Tensor, second: torch.Tensor, *, decorrelation: float = DECORRELATION
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Similarity of same-image patches and decorrelation across images, averaged over patches.

    Parameters
    ----------
    first, second : tensors of shape (patches, batch, channels)
        Features of each patch position for the two deformations; row b is image b.
    decorrelation : weight of the decorrelation term.

    Returns
    -------
    loss, similarity (mean cosine of same-image pairs), cross (mean squared cosine of
    other-image pairs): scalar tensors, ``loss = 1 - similarity + decorrelation * cross``.
    """
    a, b = F.normalize(first, dim=-1), F.normalize(second, dim=-1)
    cosine = a @ b.transpose(1, 2)  # (patches, batch, batch)
    batch = cosine.shape[-1]
    eye = torch.eye(batch, dtype=torch.bool, device=cosine.device)
    similarity = cosine[:, eye].mean()
    cross = cosine[:, ~eye].pow(2).mean()
    return 1.0 - similarity + decorrelation * cross, similarity, cross


@register_objective
class LCL(LocalRule):
    """Layerwise complexity-matched learning on ``lcl_v2`` (assumptions: the module docstring).

    Parameters
    ----------
    backbone : LCLV2
    input_size, channels : image side and channels (3).
    seed : int
        Seed of the deformations, the patch positions and the random schedule.
    schedule : ``greedy`` (the paper's bottom-up order), ``simultaneous`` or ``random``.
    steps_per_stage : optimiser steps per stage of the greedy schedule.
    amplitude : deformation standard deviation in receptive fields of the stage being trained.
    decorrelation : weight of the decorrelation term.
    locations : distinct patch positions per stage and step (all positions when fewer).
    """

    name = "lcl"
    n_views = 1
    architectures = ("lcl_v2",)

    def __init__(self, backbone: nn.Module, *, input_size: int = 224, channels: int = 3, seed: int = 0,
                 schedule: str = "greedy", steps_per_stage: int = 1000, amplitude: float = AMPLITUDE,
                 decorrelation: float = DECORRELATION, locations: int = LOCATIONS):
        super().__init__(backbone, input_size=input_size, channels=channels, backbone_type=LCLV2,
                         n_stages=2, seed=seed, schedule=schedule, steps_per_stage=steps_per_stage)
        if amplitude < 0 or decorrelation < 0 or locations < 1:
            raise InputError("LCL needs amplitude >= 0, decorrelation >= 0 and locations >= 1")
        self.stages = [backbone.stage1, backbone.stage2]
        self.receptive_fields = receptive_fields(self.stages)
        self.amplitude, self.decorrelation, self.locations = float(amplitude), float(decorrelation), int(locations)

    def stage_features(self, stage: int, images: torch.Tensor) -> torch.Tensor:
        """Stage ``stage``'s (0-based) output on ``images``; earlier stages run without gradient."""
        x = images
        with torch.no_grad():
            for lower in self.stages[:stage]:
                x = lower(x)
        return self.stages[stage](x)

    def stage_loss(self, stage: int, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """One stage's loss on two deformations of ``images`` scaled to its receptive field."""
        rf = self.receptive_fields[stage]
        pair = [deform(images, deformation_field(len(images), tuple(images.shape[-2:]),
                                                 amplitude=self.amplitude * rf, scale=rf,
                                                 generator=self.generator))
                for _ in range(2)]
        first, second = (self.stage_features(stage, x) for x in pair)
        n_positions = first.shape[-2] * first.shape[-1]
        positions = torch.randperm(n_positions, generator=self.generator)[:self.locations].to(first.device)
        patches = [f.flatten(2)[:, :, positions].permute(2, 0, 1) for f in (first, second)]
        loss, similarity, cross = lcl_loss(*patches, decorrelation=self.decorrelation)
        k = stage + 1
        return loss, {f"stage{k}": float(loss.detach()), f"stage{k}_similarity": float(similarity.detach()),
                      f"stage{k}_cross": float(cross.detach())}

    def loss(self, views: list[torch.Tensor], index: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Sum of the active stages' losses; parts per stage: loss, similarity, cross term."""
        if len(views[0]) < 2:
            raise InputError("LCL decorrelates patches of other images: batches need >= 2 images")
        total, parts = None, {}
        for stage in self.active_stages():
            loss, stage_parts = self.stage_loss(stage, views[0])
            total = loss if total is None else total + loss
            parts.update(stage_parts)
        return total, parts
