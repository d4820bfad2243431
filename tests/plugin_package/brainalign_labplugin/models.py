"""Importing this module registers ``lab_pixels``: the pixel baseline under the lab's own name."""

from torch import nn

from brainalign.models.base import Preprocessing
from brainalign.models.registry import ZooEntry, register_model


@register_model
def lab_pixels(seed: int = 0) -> ZooEntry:
    """The 64x64 grayscale image, flattened (the same numbers as the zoo's ``pixels``)."""
    module = nn.Sequential()
    module.add_module("pixels", nn.Flatten(start_dim=1))
    return ZooEntry(module=module, preprocessing=Preprocessing(input_size=64, mean=(0.0,), std=(1.0,), channels=1),
                    default_layers=("pixels",), description="the lab's pixel baseline (plugin)")
