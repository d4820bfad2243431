"""The values that describe a model ready for extraction."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Iterator

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """How images become model input; carried by each model, never a global default.

    Images arrive as float tensors of shape (batch, 3, height, width) in [0, 1]. They are resized
    so the shorter side is ``resize`` (skipped when None), centre-cropped to ``crop`` (skipped when
    None), resized to ``input_size``, converted to one channel when ``channels == 1``, then
    normalised with ``mean``/``std``.
    """

    input_size: int
    resize: int | None = None
    crop: int | None = None
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    channels: int = 3

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Apply to ``images`` of shape (batch, 3, H, W) in [0, 1]; return (batch, channels, s, s).

        Gray images (three equal channels, e.g. from :func:`..stimuli.stimulus_set.as_rgb_float`)
        are resized as one channel: the same values, bit for bit, at a third of the cost.
        """
        x = images
        gray = x.shape[1] == 3 and torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 1], x[:, 2])
        if gray:
            x = x[:, :1]
        if self.resize is not None:
            x = _resize_shorter(x, self.resize, self.interpolation)
        if self.crop is not None:
            x = _center_crop(x, self.crop)
        if x.shape[-2:] != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode=self.interpolation,
                              align_corners=False, antialias=self.interpolation in ("bilinear", "bicubic"))
        if gray:
            x = x.expand(-1, 3, -1, -1)
        if self.channels == 1:
            x = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std


def _resize_shorter(x: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    h, w = x.shape[-2:]
    scale = size / min(h, w)
    new = (max(1, round(h * scale)), max(1, round(w * scale)))
    if new == (h, w):
        return x
    return F.interpolate(x, size=new, mode=mode, align_corners=False,
                         antialias=mode in ("bilinear", "bicubic"))


def _center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return x[..., top:top + size, left:left + size]


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's CPU generator for the body, restoring the caller's generator state after.

    Build a model inside it so that its random init depends on ``seed`` alone::

        with seeded(0):
            module = torch.nn.Linear(3, 2)
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@dataclass
class LoadedModel:
    """A model in eval mode with its preprocessing and its layer inventory.

    Attributes
    ----------
    spec : canonical model spec, e.g. ``"timm:resnet18"`` or ``"alexnet_bn64"``.
    module : the ``torch.nn.Module``, in eval mode.
    preprocessing : how images become input for ``module``.
    layers : every addressable layer name (each named submodule), in registration order.
    default_layers : the declared inventory scored with ``--layers all``.
    weights_sha256 : sha256 of the checkpoint file, or of the parameters for a random init.
    checkpoint : path of the checkpoint, or None for a random init.
    seed : the seed used for a random init (None when a checkpoint was loaded).
    tokens : for vision transformers, what token layers output: ``"patches"`` (a grid),
        ``"cls"`` or ``"all"``; see :func:`brainalign.models.layers.record_outputs`.
    info : source, description and, with a checkpoint, the load summary.
    checkpoint_metadata : what the checkpoint says about its training, kept from the one read
        that loaded it (``{"payload": ..., "args_json": ...}``, see
        :mod:`brainalign.models.checkpoint_metadata`); empty for a random init.
    """

    spec: str
    module: torch.nn.Module
    preprocessing: Preprocessing
    layers: tuple[str, ...]
    default_layers: tuple[str, ...]
    weights_sha256: str
    checkpoint: str | None = None
    seed: int | None = None
    tokens: str = "patches"
    info: dict = field(default_factory=dict)
    checkpoint_metadata: dict = field(default_factory=dict)

    def provenance(self) -> dict:
        """What identifies this model in a result record."""
        return {
            "spec": self.spec,
            "checkpoint": self.checkpoint,
            "weights_sha256": self.weights_sha256,
            "seed": self.seed,
            "preprocessing": self.preprocessing.to_dict(),
            **({"checkpoint_load": self.info["checkpoint"]} if "checkpoint" in self.info else {}),
        }
