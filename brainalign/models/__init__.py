"""Models: spec parsing, loading (random init or any codebase's checkpoint), layers and preprocessing.

>>> from brainalign.models import load_model, layer_shapes
>>> m = load_model("alexnet_bn64", seed=0)
>>> layer_shapes(m, "features.3")
{'features.3': (64, 7, 7)}
"""

from .base import LoadedModel, Preprocessing
from .inspection import inspect_checkpoint
from .layers import layer_inventory, layer_shapes, resolve_layers
from .loading import list_models, load_model

__all__ = ["LoadedModel", "Preprocessing", "inspect_checkpoint", "layer_inventory", "layer_shapes", "list_models",
           "load_model", "resolve_layers"]
