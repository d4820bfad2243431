"""Models: spec parsing, loading (random init or any codebase's checkpoint), layers and preprocessing.

>>> from brainalign.models import load_model, layer_shapes
>>> m = load_model("alexnet_bn64", seed=0)
>>> layer_shapes(m, "features.3")
{'features.3': (64, 7, 7)}

Names are imported on first use: listing and checking model names (:mod:`.specs`), the option
values (:mod:`.options`) and the checkpoint format registry (:mod:`.checkpoint_formats`) never
import torch.
"""

from .._lazy import lazy_package

_LAZY = {"ExtractionOptions": "options", "LoadOptions": "options", "LoadedModel": "base", "Preprocessing": "base",
         "inspect_checkpoint": "inspection",
         "layer_inventory": "layers", "layer_shapes": "layers", "resolve_layers": "layers",
         "check_model_spec": "specs", "list_models": "specs", "load_model": "loading"}

__all__ = sorted(_LAZY)

lazy_package(__name__, _LAZY)
