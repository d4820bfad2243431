"""What the layer-local learning rules share: the architecture check, a seeded generator carried
in the state dict, a step counter and the stage schedules.

A layer-local rule splits its backbone into stages (a layer or a module) and gives each stage a
loss of its own. Gradient isolation comes from the forward pass alone: a stage's input is the
previous stage's output computed under ``torch.no_grad()`` or ``detach()``ed, so ``backward`` on
the summed losses leaves in every stage's weights exactly the gradient of that stage's own loss.

Every random choice of a rule (negative samples, the stage of the random schedule, deformation
fields, initial heads and feedback matrices) is drawn from one ``torch.Generator`` seeded by the
``seed`` argument. Its state travels in the objective's ``state_dict`` (``_extra_state``), and so
does the step counter, so a run resumed from a checkpoint of the objective draws the same numbers
as an uninterrupted one.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...errors import InputError
from .base import Objective

#: Stage schedules: all stages every step; one stage at a time, bottom-up (``steps_per_stage``
#: steps each, then the last stage for good); one stage drawn uniformly at random every step.
SCHEDULES = ("simultaneous", "greedy", "random")


class LocalRule(Objective):
    """Base of the layer-local rules: arch check, seeded generator, step counter, schedules.

    A greedy or random schedule trains some stages only in a step, hence ``partial_updates``.

    Parameters
    ----------
    backbone, input_size, channels : as :class:`~brainalign.training.objectives.base.Objective`.
    backbone_type : type
        The zoo class the rule is defined on; another backbone is one :class:`InputError`.
    n_stages : int
        Number of separately trained stages.
    seed : int
        Seed of the generator behind every random choice of the rule.
    schedule : one of :data:`SCHEDULES`
    steps_per_stage : int
        Optimiser steps per stage of the ``greedy`` schedule.
    """

    partial_updates = True

    def __init__(self, backbone: nn.Module, *, input_size: int, channels: int, backbone_type: type,
                 n_stages: int, seed: int, schedule: str, steps_per_stage: int):
        if not isinstance(backbone, backbone_type):
            raise InputError(
                f"objective {self.name!r} trains {', '.join(self.architectures)}, "
                f"not a {type(backbone).__name__}",
                hint=f"use --arch {self.architectures[0]}")
        if schedule not in SCHEDULES:
            raise InputError(f"unknown schedule {schedule!r} for objective {self.name!r}",
                             hint=f"choose one of: {', '.join(SCHEDULES)}")
        if int(steps_per_stage) < 1:
            raise InputError(f"steps_per_stage must be >= 1, got {steps_per_stage}")
        super().__init__(backbone, input_size=input_size, channels=channels)
        self.n_stages, self.seed = n_stages, int(seed)
        self.schedule, self.steps_per_stage = schedule, int(steps_per_stage)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def active_stages(self) -> list[int]:
        """Stages (0-based) whose loss this step computes; the random schedule draws one."""
        if self.schedule == "simultaneous":
            return list(range(self.n_stages))
        if self.schedule == "greedy":
            return [min(int(self.step) // self.steps_per_stage, self.n_stages - 1)]
        return [int(torch.randint(self.n_stages, (1,), generator=self.generator))]

    def after_step(self) -> None:
        """Count optimiser steps (the greedy schedule moves on every ``steps_per_stage``)."""
        self.step.add_(1)

    def uniform(self, shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from the rule's generator: torch's default init of
        ``nn.Linear`` and ``nn.Conv2d`` weights, drawn reproducibly."""
        bound = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=self.generator) * 2 - 1) * bound

    def get_extra_state(self) -> dict:
        return {"generator": self.generator.get_state()}

    def set_extra_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
