"""CLAPP: contrastive, local and predictive plasticity (Illing, Ventura, Bellec & Gerstner 2021).

Illing B., Ventura J., Bellec G., Gerstner W. (2021) "Local plasticity rules can learn deep
representations using self-supervised contrastive predictions", NeurIPS 34. The details below
follow the authors' code, github.com/EPFL-LCN/pub-illing2021-neurips (``vision/CLAPPVision``:
``models/ContrastiveLoss.py``, ``models/VGG_like_Encoder.py``, ``scripts/vision_traineval_CLAPP.sh``).

The rule, per module l of ``clapp_vgg6`` (six modules, all trained at the same time):

- A 64x64 grayscale image is cut into 16x16 patches at stride 8 (a 7x7 grid); module l's
  representation of patch t is its output averaged over the patch, ``c_t`` (channels C_l).
- Context ``c_t`` at grid row y predicts the patch ``k + 1`` rows below, ``z = c_{t'}`` at row
  ``y + k + 1``, same column, for k = 1 .. K (K = 5, the authors' ``--prediction_step``; fewer on
  smaller grids). The skipped row is the half-overlapping neighbour (CPC's convention,
  ``skip_step = 1``). The score is ``u = c_t . (W_k z)`` with one bias-free C_l x C_l matrix W_k
  per step (the authors' 1x1 convolution, default init U(+-1/sqrt(C_l))).
- Hinge loss: ``max(0, 1 - y u)`` with y = +1 for the true patch and y = -1 for a negative: the
  patch at the same grid position in another image of the batch, one image per anchor image
  shared by all positions (``--negative_samples 1 --sample_negs_locally
  --sample_negs_locally_same_everywhere``), drawn afresh for every k. Unlike the authors' draw,
  the negative image is never the anchor image itself.
- Weight transport is avoided by two prediction matrices (``--asymmetric_W_pred``): the loss is
  ``L(z, detach(c); W1_k) + L(detach(z), c; W2_k)``.
- CLAPP proper (``either_pos_or_neg=True``, the authors' ``--either_pos_or_neg_update``): each
  image of the batch contributes either its positive or its negative term (probability 1/2 each,
  drawn per module and per half); with ``either_pos_or_neg=False`` the rule is "hinge-loss CPC".
- A module's loss is the mean over k of (mean positive term + mean negative term), the terms
  averaged over grid positions; the objective's loss is the sum over the six modules.

Gradient isolation: module l+1 reads module l's output ``detach()``ed (the authors'
``model_input = z.clone().detach()``), so module l's weights receive only the gradient of module
l's own loss. Training constants of the paper (not set here; they are the trainer's): Adam,
learning rate 2e-4, batch 32, STL-10 crops of 64x64 converted to grayscale.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ...models.zoo.clapp_vgg6 import ClappVGG6
from ._local import LocalRule
from .base import register_objective

#: Prediction steps of the authors' default (``--prediction_step 5``).
PREDICTION_STEPS = 5
#: Grid rows skipped between context and the first predicted patch (half-overlapping neighbour).
SKIP = 1


def clapp_hinge(scores: torch.Tensor, sign: float) -> torch.Tensor:
    """Per-image hinge losses ``max(0, 1 - sign * u)`` averaged over grid positions.

    Parameters
    ----------
    scores : tensor of shape (batch, rows, cols)
        Scores ``u = c . (W z)``.
    sign : +1 for true patches, -1 for negatives.

    Returns
    -------
    tensor of shape (batch,)
    """
    return F.relu(1.0 - sign * scores).mean(dim=(1, 2))


def prediction_scores(context: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``u[b, y, x] = sum_ij context[b, i, y, x] * weight[i, j] * target[b, j, y, x]``.

    Parameters
    ----------
    context : tensor of shape (batch, C, rows, cols)
    target : tensor of shape (batch, C, rows, cols)
    weight : tensor of shape (C, C)
        Maps a target vector into context space (the authors' 1x1 convolution W_k).
    """
    return torch.einsum("biyx,ij,bjyx->byx", context, weight, target)


@register_objective
class CLAPP(LocalRule):
    """CLAPP's layer-local contrastive predictive hinge rule on ``clapp_vgg6``.

    Parameters
    ----------
    backbone : ClappVGG6
    input_size, channels : image side (64) and channels (1).
    seed : int
        Seed of the negative samples, the positive/negative choice and the prediction weights.
    either_pos_or_neg : bool
        CLAPP's one-term-per-image update (True) or hinge-loss CPC with both terms (False).
    prediction_steps : int
        K, the farthest prediction (k + 1 rows below); capped at ``grid - 2``.
    """

    name = "clapp"
    n_views = 1
    architectures = ("clapp_vgg6",)

    def __init__(self, backbone: nn.Module, *, input_size: int = 64, channels: int = 1, seed: int = 0,
                 either_pos_or_neg: bool = True, prediction_steps: int = PREDICTION_STEPS):
        super().__init__(backbone, input_size=input_size, channels=channels, backbone_type=ClappVGG6,
                         n_stages=len(backbone.encoder) if isinstance(backbone, ClappVGG6) else 0,
                         seed=seed, schedule="simultaneous", steps_per_stage=1)
        grid = (input_size - backbone.patch) // backbone.stride + 1
        self.prediction_steps = min(int(prediction_steps), grid - 1 - SKIP)
        if self.prediction_steps < 1:
            raise InputError(f"CLAPP needs a patch grid of at least {SKIP + 2} rows, got {grid}",
                             hint="use 64x64 images (a 7x7 grid of 16x16 patches)")
        self.either_pos_or_neg = bool(either_pos_or_neg)
        widths = [block[0].out_channels for block in backbone.encoder]
        # predictors[l][h][k]: module l, half h (0: gradient to z, 1: gradient to c), step k + 1
        self.predictors = nn.ModuleList(
            nn.ModuleList(nn.ParameterList(nn.Parameter(self.uniform((c, c), c))
                                           for _ in range(self.prediction_steps)) for _ in range(2))
            for c in widths)

    def module_outputs(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Each module's patch grid, (batch, C_l, rows, cols); module l reads module l-1 detached."""
        net = self.backbone
        patches = F.unfold(images, kernel_size=net.patch, stride=net.stride)
        h = patches.transpose(1, 2).reshape(-1, images.shape[1], net.patch, net.patch)
        grids = []
        for k, block in enumerate(net.encoder, start=1):
            h = block(h.detach())
            grids.append(getattr(net, f"module{k}")(h))
        return grids

    def module_loss(self, grid: torch.Tensor, predictors: nn.ModuleList) -> tuple[torch.Tensor, torch.Tensor]:
        """CLAPP loss of one module and its full hinge-CPC value (both terms for every image).

        Parameters
        ----------
        grid : tensor of shape (batch, C, rows, cols)
        predictors : the module's two lists of K prediction matrices (C, C).
        """
        batch, rows = grid.shape[0], grid.shape[2]
        if batch < 2:
            raise InputError("CLAPP draws negatives from other images: batches need >= 2 images")
        loss = grid.new_zeros(())
        full = grid.new_zeros(())
        for k in range(1, self.prediction_steps + 1):
            offset = k + SKIP
            context, target = grid[:, :, :rows - offset], grid[:, :, offset:]
            shift = torch.randint(1, batch, (batch,), generator=self.generator)
            negative = (torch.arange(batch) + shift) % batch
            for half, (ctx, tgt) in enumerate(((context.detach(), target), (context, target.detach()))):
                weight = predictors[half][k - 1]
                pos = clapp_hinge(prediction_scores(ctx, tgt, weight), +1.0)
                neg = clapp_hinge(prediction_scores(ctx, tgt[negative.to(grid.device)], weight), -1.0)
                full = full + (pos.mean() + neg.mean()).detach()
                if self.either_pos_or_neg:
                    take_pos = (torch.rand(batch, generator=self.generator) < 0.5).to(grid.device)
                    loss = loss + _masked_mean(pos, take_pos) + _masked_mean(neg, ~take_pos)
                else:
                    loss = loss + pos.mean() + neg.mean()
        return loss / self.prediction_steps, full / self.prediction_steps

    def loss(self, views: list[torch.Tensor], index: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Sum over the six modules of each module's own CLAPP loss.

        Parts: ``module{l}`` (the loss module l descends) and ``hinge_cpc`` (the summed full
        hinge loss, both terms for every image: comparable across steps, unlike CLAPP's sampled one).
        """
        total, full_total, parts = None, 0.0, {}
        for level, (grid, predictors) in enumerate(zip(self.module_outputs(views[0]), self.predictors), start=1):
            loss, full = self.module_loss(grid, predictors)
            total = loss if total is None else total + loss
            full_total += float(full)
            parts[f"module{level}"] = float(loss.detach())
        parts["hinge_cpc"] = full_total
        return total, parts


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values[mask]``; zero (and no gradient) when the mask is empty."""
    count = mask.sum()
    return (values * mask).sum() / count.clamp(min=1)
