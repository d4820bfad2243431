"""How a model is loaded and run: two frozen values that travel from the CLI or the API down.

:class:`LoadOptions` goes to :func:`.loading.load_model`; :class:`ExtractionOptions` to the
functions that run the model over images (:mod:`brainalign.activations.features`,
:mod:`brainalign.psychometrics.curves`), which check its values where they use them
(:func:`brainalign.activations.device.resolve_device`, ``check_precision``,
:func:`brainalign.activations.preflight.parse_size`). Torch-free, so the CLI and plans build them
without importing torch.

>>> LoadOptions(checkpoint="rn18-ep=9.ckpt", checkpoint_format="solo-learn").trust_checkpoint
False
>>> ExtractionOptions(batch_size=64, precision="bf16").record()
{'device': 'cpu', 'precision': 'bf16'}
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import InputError

#: What vision transformer token layers output (see :func:`brainalign.models.layers.record_outputs`).
TOKEN_MODES = ("patches", "cls", "all")

#: Forward-pass precisions: fp32, or autocast to float16 / bfloat16
#: (:func:`brainalign.activations.device.autocast`).
PRECISIONS = ("fp32", "fp16", "bf16")


@dataclass(frozen=True)
class LoadOptions:
    """Where a model's weights come from and how a checkpoint is read.

    Attributes
    ----------
    checkpoint : str or PathLike, optional
        A local checkpoint of any supported codebase (see
        :mod:`brainalign.models.checkpoint_formats`); None for a seeded random init.
    seed : int, default=0
        Seed of the random init (``torch.manual_seed`` right before building); not recorded when
        a checkpoint is given.
    checkpoint_format : str, optional
        A registered format name or alias (``brainalign models formats``); None or ``"auto"``
        detect it from the file.
    trust_checkpoint : bool, default=False
        Allow full unpickling of a checkpoint that ``torch.load(weights_only=True)`` refuses
        (``--trust-checkpoint``; runs code stored in the file).
    allow_partial : bool, default=False
        Load what matches when backbone keys are missing or unexpected, instead of failing.
    tokens : {"patches", "cls", "all"}, default="patches"
        For vision transformers: what token layers output; other models ignore it.

    Raises
    ------
    InputError
        A seed that is not an integer or an unknown token mode (checked on construction).
    """

    checkpoint: str | os.PathLike | None = None
    seed: int = 0
    checkpoint_format: str | None = None
    trust_checkpoint: bool = False
    allow_partial: bool = False
    tokens: str = "patches"

    def __post_init__(self):
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InputError(f"seed must be an integer, got {self.seed!r}", hint="pass e.g. --seed 0")
        if self.tokens not in TOKEN_MODES:
            raise InputError(f"unknown token mode {self.tokens!r}", hint=f"use one of {', '.join(TOKEN_MODES)}")


@dataclass(frozen=True)
class ExtractionOptions:
    """The forward passes' settings.

    Attributes
    ----------
    batch_size : int, default=32
        Images per forward pass (lowered by the memory preflight when streaming needs it).
    device : str, default="cpu"
        Torch device of the forward pass (``cpu``, ``cuda``, ``cuda:N``, ``mps``).
    precision : {"fp32", "fp16", "bf16"}, default="fp32"
        ``fp32``, or autocast to float16 / bfloat16 (cached under separate keys).
    max_memory : int or str, optional
        Bound on the estimated peak (bytes or e.g. ``"3GB"``); default 80% of available memory.
        Layers that do not fit are streamed to disk.
    progress : bool, default=True
        Progress bars on stderr.
    """

    batch_size: int = 32
    device: str = "cpu"
    precision: str = "fp32"
    max_memory: int | str | None = None
    progress: bool = True

    def record(self) -> dict:
        """What a score record keeps under ``model.extraction``: what changes the numbers' origin."""
        return {"device": self.device, "precision": self.precision}
