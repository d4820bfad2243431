"""Contrastive objectives of Nayebi et al. 2023: SimCLR, MoCo v2 and instance recognition.

Heads and losses come from lightly (``SimCLRProjectionHead``, ``MoCoProjectionHead``,
``NTXentLoss``, whose memory bank is MoCo's queue); instance recognition's memory bank is
written here (lightly has none with per-image slots).

=====================  ===========================================  ===============================
objective              head, constants                              published optimiser
=====================  ===========================================  ===============================
simclr                 MLP 2048-128 (BN), NT-Xent, temperature 0.1  LARS, lr 4.8 @ 4096, 10 warm-up, cosine
moco                   MLP 2048-128, queue K = 65,536, key encoder  SGD, lr 0.06 @ 512, cosine
                       momentum 0.999, temperature 0.2
instance_recognition   linear 128 on the unit sphere, memory bank   SGD, lr 0.03 @ 256, /10 at 120, 160
                       of every image, 4,096 negatives, bank
                       momentum 0.5, temperature 0.07
=====================  ===========================================  ===============================
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .base import Augmentations, Objective, Recipe, register_objective
from ._backbone import embed, feature_dim


@register_objective
class SimCLR(Objective):
    """SimCLR (Chen et al. 2020): two views, a 2048-128 MLP head, NT-Xent over the batch.

    Options: ``temperature`` (0.1), ``hidden_dim`` (2048), ``out_dim`` (128).
    """

    name = "simclr"
    blur = True
    recipe = Recipe(optimizer="lars", lr=4.8, batch_size=4096, epochs=200, momentum=0.9, weight_decay=1e-6,
                    schedule="cosine", warmup_epochs=10)

    def __init__(self, backbone, *, input_size, channels=3, temperature=0.1, hidden_dim=2048, out_dim=128):
        super().__init__(backbone, input_size=input_size, channels=channels)
        from lightly.loss import NTXentLoss
        from lightly.models.modules.heads import SimCLRProjectionHead

        self.head = SimCLRProjectionHead(feature_dim(backbone, input_size, channels), hidden_dim, out_dim)
        self.criterion = NTXentLoss(temperature=temperature, gather_distributed=True)

    def loss(self, views, index):
        z0, z1 = (self.head(embed(self.backbone, v)) for v in views)
        loss = self.criterion(z0, z1)
        return loss, {"nt_xent": float(loss.detach())}


@register_objective
class MoCoV2(Objective):
    """MoCo v2 (Chen et al. 2020): query encoder + momentum key encoder, queue of negatives.

    The queue is lightly's ``NTXentLoss`` memory bank (``memory_bank_size=(K, out_dim)``); its
    size K is capped at the training-set size (:meth:`configure`), so that the queue never holds
    the same image twice. Options: ``temperature`` (0.2), ``queue_size`` (65,536),
    ``momentum`` (0.999), ``hidden_dim`` (2048), ``out_dim`` (128).
    """

    name = "moco"
    blur = True
    recipe = Recipe(optimizer="sgd", lr=0.06, batch_size=512, epochs=200, momentum=0.9, weight_decay=5e-4,
                    schedule="cosine")

    def __init__(self, backbone, *, input_size, channels=3, temperature=0.2, queue_size=65536, momentum=0.999,
                 hidden_dim=2048, out_dim=128):
        super().__init__(backbone, input_size=input_size, channels=channels)
        from lightly.models.modules.heads import MoCoProjectionHead

        self.head = MoCoProjectionHead(feature_dim(backbone, input_size, channels), hidden_dim, out_dim)
        self.key_backbone = copy.deepcopy(backbone).requires_grad_(False)
        self.key_head = copy.deepcopy(self.head).requires_grad_(False)
        self.temperature, self.queue_size, self.momentum, self.out_dim = temperature, queue_size, momentum, out_dim
        self.criterion = None

    def configure(self, *, n_images):
        from lightly.loss import NTXentLoss

        self.queue_size = int(min(self.queue_size, n_images))
        self.criterion = NTXentLoss(temperature=self.temperature, memory_bank_size=(self.queue_size, self.out_dim),
                                    gather_distributed=True)

    def loss(self, views, index):
        query = self.head(embed(self.backbone, views[0]))
        with torch.no_grad():
            key = self.key_head(embed(self.key_backbone, views[1]))
        loss = self.criterion(query, key)
        return loss, {"info_nce": float(loss.detach())}

    def get_extra_state(self):
        """The queue (lightly keeps it out of ``state_dict``), so that ``--resume`` restores it."""
        bank = self.criterion.memory_bank
        return {"queue": bank.bank.detach().cpu().clone(), "pointer": bank.bank_ptr.detach().cpu().clone()}

    def set_extra_state(self, state):
        bank = self.criterion.memory_bank
        bank.bank.copy_(state["queue"])
        bank.bank_ptr.copy_(state["pointer"])

    def after_step(self):
        from lightly.models.utils import update_momentum

        update_momentum(self.backbone, self.key_backbone, m=self.momentum)
        update_momentum(self.head, self.key_head, m=self.momentum)


@register_objective
class InstanceRecognition(Objective):
    """Instance recognition (Wu et al. 2018): each image is its own class, with a memory bank.

    One view per image; the embedding is a linear 128-d projection on the unit sphere. The loss
    is the softmax over the image's own bank entry (positive) and ``negatives`` bank entries drawn
    uniformly (with torch's seeded global generator), at temperature ``temperature``: the sampled
    form of Wu et al.'s non-parametric softmax (their NCE normalisation is not used). After each
    step the bank entries of the batch become ``normalise(m * bank + (1 - m) * embedding)``.
    Options: ``negatives`` (4,096, capped at the training-set size - 1), ``temperature`` (0.07),
    ``bank_momentum`` (0.5), ``out_dim`` (128).
    """

    name = "instance_recognition"
    n_views = 1
    recipe = Recipe(optimizer="sgd", lr=0.03, batch_size=256, epochs=200, momentum=0.9, weight_decay=5e-4,
                    schedule="step", milestones=(120, 160))

    def __init__(self, backbone, *, input_size, channels=3, negatives=4096, temperature=0.07, bank_momentum=0.5,
                 out_dim=128):
        super().__init__(backbone, input_size=input_size, channels=channels)
        self.head = nn.Linear(feature_dim(backbone, input_size, channels), out_dim)
        self.negatives, self.temperature, self.bank_momentum, self.out_dim = negatives, temperature, bank_momentum, out_dim
        self._pending = None

    def configure(self, *, n_images):
        generator = torch.Generator().manual_seed(0)
        bank = F.normalize(torch.randn(n_images, self.out_dim, generator=generator), dim=1)
        self.register_buffer("bank", bank)
        self.negatives = int(min(self.negatives, n_images - 1))

    def loss(self, views, index):
        z = F.normalize(self.head(embed(self.backbone, views[0])), dim=1)
        index = index.to(self.bank.device)
        positives = self.bank[index]
        drawn = torch.randint(0, self.bank.shape[0], (z.shape[0], self.negatives), device=self.bank.device)
        logits = torch.cat([(z * positives).sum(1, keepdim=True),
                            torch.einsum("bd,bkd->bk", z, self.bank[drawn])], dim=1) / self.temperature
        loss = F.cross_entropy(logits, torch.zeros(z.shape[0], dtype=torch.long, device=z.device))
        self._pending = (index, z.detach())
        return loss, {"softmax": float(loss.detach())}

    def after_step(self):
        if self._pending is None:
            return
        index, z = self._pending
        m = self.bank_momentum
        self.bank[index] = F.normalize(m * self.bank[index] + (1 - m) * z.to(self.bank.dtype), dim=1)
        self._pending = None

    @classmethod
    def augmentations(cls):
        return Augmentations()
