"""lightly (Lightning benchmarks or plain examples): the backbone; heads and momentum copies dropped."""

from ..checkpoint_formats import register_format

_HEADS = {"projection_head", "prediction_head", "online_classifier"}


@register_format(name="lightly", codebase="lightly (Lightning benchmarks or examples)",
                 entries=(("state_dict",), ()), backbones=("backbone.",),
                 drop=("projection_head.*", "prediction_head.*", "online_classifier.*", "*_momentum.*"), priority=60)
def detect(view) -> bool:
    if view.lightning:
        return bool(_HEADS & view.heads) or any(h.endswith("_momentum") for h in view.heads)
    return {"backbone", "projection_head"} <= view.heads
