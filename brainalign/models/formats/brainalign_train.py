"""``brainalign train`` checkpoints (``RUN_DIR/checkpoints/epoch_*.pt``): the model under ``model``."""

from ..checkpoint_formats import register_format


@register_format(name="brainalign", codebase="brainalign train (RUN_DIR/checkpoints/epoch_*.pt)",
                 entries=(("model",),), backbones=("",), priority=100)
def detect(view) -> bool:
    return view.has_mapping("brainalign_training") and view.has_mapping("model")
