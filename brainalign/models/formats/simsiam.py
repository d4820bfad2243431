"""facebookresearch/simsiam: the encoder; its fc projector and the predictor dropped."""

from ..checkpoint_formats import register_format


@register_format(name="simsiam", codebase="facebookresearch/simsiam", entries=(("state_dict",), ()),
                 backbones=("encoder.",), drop=("encoder.fc.*", "predictor.*"), priority=70)
def detect(view) -> bool:
    return not view.lightning and {"encoder", "predictor"} <= view.heads
