"""Models: spec parsing, loading (random init or local checkpoint), layer inventory and shapes.

>>> from brainalign.models import load_model, layer_shapes
>>> m = load_model("alexnet_bn64", seed=0)
>>> layer_shapes(m, "features.3")
{'features.3': (64, 7, 7)}
"""

from .base import LoadedModel, Preprocessing
from .layers import layer_shapes, resolve_layers
from .loading import list_models, load_model

__all__ = ["LoadedModel", "Preprocessing", "layer_shapes", "list_models", "load_model", "resolve_layers"]
