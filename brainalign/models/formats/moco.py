"""facebookresearch/moco (v1/v2): the query encoder; its fc head, the key encoder and the queue dropped."""

from ..checkpoint_formats import register_format


@register_format(name="moco", codebase="facebookresearch/moco (v1/v2)", entries=(("state_dict",), ()),
                 backbones=("encoder_q.",), drop=("encoder_q.fc.*", "encoder_k.*", "queue", "queue_ptr"),
                 priority=90)
def detect(view) -> bool:
    return not view.lightning and "encoder_q" in view.heads
