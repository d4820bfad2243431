"""facebookresearch/moco-v3: the base encoder; its head, the momentum encoder and the predictor dropped."""

from ..checkpoint_formats import register_format


@register_format(name="mocov3", codebase="facebookresearch/moco-v3", entries=(("state_dict",), ()),
                 backbones=("base_encoder.",),
                 drop=("base_encoder.fc.*", "base_encoder.head.*", "momentum_encoder.*", "predictor.*"), priority=80)
def detect(view) -> bool:
    return not view.lightning and "base_encoder" in view.heads
