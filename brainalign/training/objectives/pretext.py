"""Pretext objectives of Nayebi et al. 2023: RotNet and the sparse autoencoder.

=====================  ==============================================  ===================================
objective              head, constants                                  published optimiser
=====================  ==============================================  ===================================
rotnet                 linear 4-way classifier of the rotation          SGD Nesterov, lr 0.01 @ 192 (x4
                       (0, 90, 180, 270 degrees), cross-entropy         rotations), /10 at 15, 30, 45
sparse_autoencoder     linear embedding 128, L1 coefficient 5e-4,       SGD, lr 0.01 @ 256, /10 at 30,
                       decoder back to the image, MSE                   60, 90
=====================  ==============================================  ===================================

The paper mirrors StreamNet in the decoder; here the decoder is architecture-independent (a
linear map of the 128-d code to a 4x4 map, then transposed convolutions that double the side
up to the input size), an assumption that keeps the objective usable with any backbone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import Augmentations, Objective, Recipe, register_objective
from ._backbone import embed, feature_dim


@register_objective
class RotNet(Objective):
    """RotNet (Gidaris et al. 2018): predict which of four rotations was applied to each image.

    One view per image; the batch is the four rotations of every image (4 x batch inputs).
    """

    name = "rotnet"
    n_views = 1
    recipe = Recipe(optimizer="sgd_nesterov", lr=0.01, batch_size=192, epochs=50, momentum=0.9, weight_decay=5e-4,
                    schedule="step", milestones=(15, 30, 45))

    def __init__(self, backbone, *, input_size, channels=3):
        super().__init__(backbone, input_size=input_size, channels=channels)
        self.classifier = nn.Linear(feature_dim(backbone, input_size, channels), 4)

    def loss(self, views, index):
        x = views[0]
        rotated = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
        target = torch.arange(4, device=x.device).repeat_interleave(x.shape[0])
        logits = self.classifier(embed(self.backbone, rotated))
        loss = F.cross_entropy(logits, target)
        accuracy = float((logits.argmax(1) == target).float().mean())
        return loss, {"cross_entropy": float(loss.detach()), "accuracy": accuracy}

    @classmethod
    def augmentations(cls):
        return Augmentations(jitter_p=0.0, grayscale_p=0.0)


class _Decoder(nn.Sequential):
    """128-d code -> (channels, size, size): Linear to (256, 4, 4), then stride-2 transposed convs."""

    def __init__(self, code_dim: int, channels: int, size: int):
        steps = max(0, math.ceil(math.log2(size / 4)))
        widths = [max(256 >> i, 16) for i in range(steps + 1)]
        layers: list[nn.Module] = [nn.Linear(code_dim, 256 * 16), nn.Unflatten(1, (256, 4, 4))]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers += [nn.Conv2d(widths[-1], channels, 3, padding=1), nn.Upsample(size=(size, size), mode="bilinear")]
        super().__init__(*layers)


@register_objective
class SparseAutoencoder(Objective):
    """Sparse autoencoder: reconstruct the (augmented) image from a 128-d code with an L1 penalty.

    loss = MSE(decoder(code), image) + ``l1`` * mean |code|. Options: ``code_dim`` (128), ``l1`` (5e-4).
    """

    name = "sparse_autoencoder"
    n_views = 1
    recipe = Recipe(optimizer="sgd", lr=0.01, batch_size=256, epochs=100, momentum=0.9, weight_decay=5e-4,
                    schedule="step", milestones=(30, 60, 90))

    def __init__(self, backbone, *, input_size, channels=3, code_dim=128, l1=5e-4):
        super().__init__(backbone, input_size=input_size, channels=channels)
        self.encode = nn.Linear(feature_dim(backbone, input_size, channels), code_dim)
        self.decoder = _Decoder(code_dim, channels, input_size)
        self.l1 = l1

    def loss(self, views, index):
        x = views[0]
        code = self.encode(embed(self.backbone, x))
        mse = F.mse_loss(self.decoder(code), x)
        sparsity = code.abs().mean()
        loss = mse + self.l1 * sparsity
        return loss, {"mse": float(mse.detach()), "l1": float(sparsity.detach())}

    @classmethod
    def augmentations(cls):
        return Augmentations(jitter_p=0.0, grayscale_p=0.0)
