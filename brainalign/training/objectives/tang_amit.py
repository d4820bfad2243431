"""Tang, Yang & Amit 2022: contrastive hinge loss with layer-wise learning and random feedback.

Tang M., Yang Y., Amit Y. (2022) "Biologically plausible training mechanisms for self-supervised
learning in deep networks", Front. Comput. Neurosci. 16:789253. The loss follows the authors'
code (Yali Amit's repositories, ``losses.py``: ``L1_loss`` with its defaults ``thr=2``,
``delta=1``, ``nostd=True``, used with ``--embedd_type L1dist_hinge``).

Loss. Two augmented views of a batch give embeddings ``h0`` (view 1, computed without gradient:
the activity held in short-term memory, as the authors' ``torch.no_grad()`` forward of
``input[0]``) and ``h1`` (view 2). With the L1 distance ``d[b, b'] = |h0[b] - h1[b']|_1`` (no
normalisation, ratio or inner product), threshold ``tau`` and margin ``delta``::

    loss = (1 / B) * sum_{b, b'} max(0, delta - y[b, b'] * (tau - d[b, b']))

with y = +1 on the diagonal (same image) and -1 elsewhere. The authors sum over the B x B pairs;
the division by the batch size B (a per-image loss) is ours, so the learning rate does not
depend on B.

Layer-wise learning. The network ``tang_amit_cnn`` is split into five stages, stage l being
convolution l with its Hardtanh (and max-pool for l < 5). Stage l is trained as a network with
one hidden layer: its input is the output of stages 1..l-1 computed without gradient, the hidden
layer is stage l, and the output layer is a dense map of the flattened hidden activity to the
64-d embedding: the backbone's own ``embed`` layer for stage 5, an auxiliary linear head for
stages 1-4 (ours, since the heads' form is not given in the text; initialised like
``nn.Linear`` from the rule's seeded generator). Schedules: ``greedy`` (GLL; one stage after the
other, ``steps_per_stage`` optimiser steps each, the last stage then for good), ``random`` (RLL;
one stage drawn uniformly at random every step) or ``simultaneous`` (every stage every step,
each with its own loss).

Feedback. The error reaches the hidden layer through the output layer: with ``backprop`` through
its transposed weights W^T, with ``fixed_random`` (RF) through a fixed random matrix B of W's
shape, with ``updated_random`` (URF) through a matrix B that receives the same local update as W
(Amit 2019, Front. Comput. Neurosci. 13:18: each feedback weight changes by the product of the
activities it connects, exactly as its forward counterpart), so B - W stays constant under plain
SGD. B is drawn like ``nn.Linear``'s weights from the seeded generator. The output layer's own
weights get their usual local gradient (error x hidden activity).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ...models.zoo.tang_amit_cnn import CHANNELS, TangAmitCNN
from ._local import LocalRule
from .base import register_objective

#: The hinge's threshold on the L1 distance and its margin (the authors' ``thr`` and ``delta``).
TAU, DELTA = 2.0, 1.0
FEEDBACKS = ("backprop", "fixed_random", "updated_random")


def l1_contrastive_hinge(h0: torch.Tensor, h1: torch.Tensor, *, tau: float = TAU,
                         delta: float = DELTA) -> torch.Tensor:
    """Tang et al.'s contrastive hinge loss on L1 distances, per image of the batch.

    Parameters
    ----------
    h0, h1 : tensors of shape (batch, dim)
        Embeddings of the two views; row b of each comes from the same image.
    tau : threshold: same-image pairs are pushed below ``tau - delta``, others above ``tau + delta``.
    delta : margin.

    Returns
    -------
    scalar tensor: the sum of the B x B hinge terms divided by B.
    """
    distance = torch.cdist(h0, h1, p=1)
    sign = 2.0 * torch.eye(len(h0), device=h0.device, dtype=h0.dtype) - 1.0
    return F.relu(delta - sign * (tau - distance)).sum() / len(h0)


class RandomFeedbackLinear(torch.autograd.Function):
    """``x W^T + b`` whose input gradient goes through ``feedback`` instead of ``W``.

    Runs in float32 under CUDA autocast (the head is small; mixed dtypes would break the
    hand-written backward).

    The weight and bias gradients are the usual local ones. When ``feedback`` requires a
    gradient (updated random feedback) it receives the weight's gradient, so an optimiser gives
    it the same update as ``W``.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, x, weight, bias, feedback):
        ctx.save_for_backward(x, feedback)
        return F.linear(x, weight, bias)

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, grad_out):
        x, feedback = ctx.saved_tensors
        grad_x = grad_out @ feedback if ctx.needs_input_grad[0] else None
        grad_weight = grad_out.t() @ x
        grad_bias = grad_out.sum(0) if ctx.needs_input_grad[2] else None
        grad_feedback = grad_weight if ctx.needs_input_grad[3] else None
        return grad_x, grad_weight if ctx.needs_input_grad[1] else None, grad_bias, grad_feedback


@register_objective
class TangAmit(LocalRule):
    """Tang, Yang & Amit's contrastive hinge loss, trained layer-wise on ``tang_amit_cnn``.

    Parameters
    ----------
    backbone : TangAmitCNN
    input_size, channels : 32 and 3 (the network's flattened size is fixed by 32x32 input).
    seed : int
        Seed of the heads, the feedback matrices and the random schedule.
    schedule : ``greedy`` (GLL), ``random`` (RLL) or ``simultaneous``.
    feedback : ``backprop``, ``fixed_random`` (RF) or ``updated_random`` (URF).
    steps_per_stage : int
        Optimiser steps per stage of the greedy schedule.
    tau, delta : the hinge's threshold and margin.
    """

    name = "tang_amit"
    n_views = 2
    architectures = ("tang_amit_cnn",)

    def __init__(self, backbone: nn.Module, *, input_size: int = 32, channels: int = 3, seed: int = 0,
                 schedule: str = "greedy", feedback: str = "fixed_random", steps_per_stage: int = 1000,
                 tau: float = TAU, delta: float = DELTA):
        super().__init__(backbone, input_size=input_size, channels=channels, backbone_type=TangAmitCNN,
                         n_stages=len(CHANNELS), seed=seed, schedule=schedule, steps_per_stage=steps_per_stage)
        if feedback not in FEEDBACKS:
            raise InputError(f"unknown feedback {feedback!r} for objective 'tang_amit'",
                             hint=f"choose one of: {', '.join(FEEDBACKS)}")
        self.feedback, self.tau, self.delta = feedback, float(tau), float(delta)
        with torch.no_grad():
            x = torch.zeros(1, channels, input_size, input_size)
            widths = []
            for stage in range(self.n_stages):
                x = self.hidden(stage, x)
                widths.append(x[0].numel())
        embedding = backbone.embed.out_features
        self.heads = nn.ModuleList()
        for width in widths[:-1]:
            head = nn.Linear(width, embedding)
            with torch.no_grad():
                head.weight.copy_(self.uniform(tuple(head.weight.shape), width))
                head.bias.copy_(self.uniform(tuple(head.bias.shape), width))
            self.heads.append(head)
        if feedback != "backprop":
            matrices = [self.uniform((embedding, width), width) for width in widths]
            if feedback == "updated_random":
                self.feedbacks = nn.ParameterList(nn.Parameter(m) for m in matrices)
            else:
                for stage, matrix in enumerate(matrices):
                    self.register_buffer(f"feedback{stage + 1}", matrix)

    def hidden(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """Stage ``stage`` (0-based) of the backbone: conv, Hardtanh, and max-pool below the top."""
        k, net = stage + 1, self.backbone
        x = getattr(net, f"act{k}")(getattr(net, f"conv{k}")(x))
        return getattr(net, f"pool{k}")(x) if k < self.n_stages else x

    def head(self, stage: int) -> nn.Linear:
        """Output layer of stage ``stage``'s one-hidden-layer network (the backbone's embed on top)."""
        return self.backbone.embed if stage == self.n_stages - 1 else self.heads[stage]

    def feedback_matrix(self, stage: int) -> torch.Tensor | None:
        """The matrix carrying stage ``stage``'s error back to its hidden layer (None: W itself)."""
        if self.feedback == "backprop":
            return None
        if self.feedback == "updated_random":
            return self.feedbacks[stage]
        return getattr(self, f"feedback{stage + 1}")

    def stage_embedding(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """Embedding (batch, 64) of stage ``stage``'s network on its input ``x`` (detached)."""
        hidden = self.hidden(stage, x.detach()).flatten(1)
        head, feedback = self.head(stage), self.feedback_matrix(stage)
        if feedback is None:
            return head(hidden)
        return RandomFeedbackLinear.apply(hidden, head.weight, head.bias, feedback)

    def stage_inputs(self, x: torch.Tensor, upto: int) -> list[torch.Tensor]:
        """Inputs of stages 0..``upto``, computed without gradient: [x, stage1(x), ...]."""
        inputs = [x]
        with torch.no_grad():
            for stage in range(upto):
                inputs.append(self.hidden(stage, inputs[-1]))
        return inputs

    def loss(self, views: list[torch.Tensor], index: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Sum of the active stages' hinge losses. Parts: ``layer{l}`` per active stage, ``stage``."""
        if len(views[0]) < 2:
            raise InputError("the contrastive hinge loss needs batches of >= 2 images")
        stages = self.active_stages()
        first, second = (self.stage_inputs(view, max(stages)) for view in views[:2])
        total, parts = None, {}
        for stage in stages:
            with torch.no_grad():
                h0 = self.stage_embedding(stage, first[stage])
            h1 = self.stage_embedding(stage, second[stage])
            loss = l1_contrastive_hinge(h0, h1, tau=self.tau, delta=self.delta)
            total = loss if total is None else total + loss
            parts[f"layer{stage + 1}"] = float(loss.detach())
        if len(stages) == 1:
            parts["stage"] = float(stages[0] + 1)
        return total, parts
