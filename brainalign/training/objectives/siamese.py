"""Non-contrastive two-view objectives of Nayebi et al. 2023: SimSiam, Barlow Twins, VICReg.

Heads and losses are lightly's (``SimSiamProjectionHead`` / ``SimSiamPredictionHead`` with
``NegativeCosineSimilarity``, ``BarlowTwinsProjectionHead`` with ``BarlowTwinsLoss``,
``VICRegProjectionHead`` with ``VICRegLoss``).

=============  ============================================  ======================================
objective      head, constants                               published optimiser
=============  ============================================  ======================================
simsiam        projector 3 x 2048, predictor 2048-512-2048,   SGD, lr 0.1 @ 512, wd 1e-4, cosine
               stop-gradient, negative cosine
barlow_twins   projector 3 x 8192, off-diagonal weight        LARS, wd 1e-6, batch 2048, 10 warm-up,
               lambda 0.0051                                  cosine
vicreg         projector 3 x 8192; invariance 25, variance    LARS, wd 1e-6, batch 2048, 10 warm-up,
               25 (hinge at std 1), covariance 1              cosine
=============  ============================================  ======================================

The LARS learning rates of Barlow Twins (0.2) and VICReg (0.2 x batch / 256 = 1.6 at 2048) are
those of the methods' own papers; Nayebi et al. give the batch and schedule, not the rate.
"""

from __future__ import annotations

from .base import Objective, Recipe, register_objective
from ._backbone import embed, feature_dim


@register_objective
class SimSiam(Objective):
    """SimSiam (Chen & He 2021): predictor on one view, stop-gradient on the other, negative cosine.

    Options: ``proj_dim`` (2048), ``pred_hidden`` (512).
    """

    name = "simsiam"
    blur = True
    recipe = Recipe(optimizer="sgd", lr=0.1, batch_size=512, epochs=100, momentum=0.9, weight_decay=1e-4,
                    schedule="cosine")

    def __init__(self, backbone, *, input_size, channels=3, proj_dim=2048, pred_hidden=512):
        super().__init__(backbone, input_size=input_size, channels=channels)
        from lightly.loss import NegativeCosineSimilarity
        from lightly.models.modules.heads import SimSiamPredictionHead, SimSiamProjectionHead

        self.projector = SimSiamProjectionHead(feature_dim(backbone, input_size, channels), proj_dim, proj_dim)
        self.predictor = SimSiamPredictionHead(proj_dim, pred_hidden, proj_dim)
        self.criterion = NegativeCosineSimilarity()

    def loss(self, views, index):
        z0, z1 = (self.projector(embed(self.backbone, v)) for v in views)
        p0, p1 = self.predictor(z0), self.predictor(z1)
        loss = 0.5 * (self.criterion(p0, z1.detach()) + self.criterion(p1, z0.detach()))
        return loss, {"neg_cosine": float(loss.detach())}


@register_objective
class BarlowTwins(Objective):
    """Barlow Twins (Zbontar et al. 2021): cross-correlation of the two views' embeddings to identity.

    Options: ``proj_dim`` (8192), ``lambda_param`` (0.0051).
    """

    name = "barlow_twins"
    recipe = Recipe(optimizer="lars", lr=0.2, batch_size=2048, epochs=58, momentum=0.9, weight_decay=1e-6,
                    schedule="cosine", warmup_epochs=10)

    def __init__(self, backbone, *, input_size, channels=3, proj_dim=8192, lambda_param=0.0051):
        super().__init__(backbone, input_size=input_size, channels=channels)
        from lightly.loss import BarlowTwinsLoss
        from lightly.models.modules.heads import BarlowTwinsProjectionHead

        self.projector = BarlowTwinsProjectionHead(feature_dim(backbone, input_size, channels), proj_dim, proj_dim)
        self.criterion = BarlowTwinsLoss(lambda_param=lambda_param, gather_distributed=True)

    def loss(self, views, index):
        z0, z1 = (self.projector(embed(self.backbone, v)) for v in views)
        loss = self.criterion(z0, z1)
        return loss, {"barlow": float(loss.detach())}


@register_objective
class VICReg(Objective):
    """VICReg (Bardes et al. 2022): invariance, variance and covariance terms on the embeddings.

    Options: ``proj_dim`` (8192), ``lambda_param`` (25), ``mu_param`` (25), ``nu_param`` (1).
    """

    name = "vicreg"
    recipe = Recipe(optimizer="lars", lr=1.6, batch_size=2048, epochs=1000, momentum=0.9, weight_decay=1e-6,
                    schedule="cosine", warmup_epochs=10)

    def __init__(self, backbone, *, input_size, channels=3, proj_dim=8192, lambda_param=25.0, mu_param=25.0,
                 nu_param=1.0):
        super().__init__(backbone, input_size=input_size, channels=channels)
        from lightly.loss import VICRegLoss
        from lightly.models.modules.heads import VICRegProjectionHead

        self.projector = VICRegProjectionHead(feature_dim(backbone, input_size, channels), proj_dim, proj_dim)
        self.criterion = VICRegLoss(lambda_param=lambda_param, mu_param=mu_param, nu_param=nu_param,
                                    gather_distributed=True)

    def loss(self, views, index):
        z0, z1 = (self.projector(embed(self.backbone, v)) for v in views)
        loss = self.criterion(z0, z1)
        return loss, {"vicreg": float(loss.detach())}
