"""timm train checkpoints: the EMA weights when saved, else ``state_dict``, keys as they are."""

from ..checkpoint_formats import register_format


@register_format(name="timm", codebase="timm train checkpoints", entries=(("state_dict_ema",), ("state_dict",)),
                 backbones=("",), priority=20)
def detect(view) -> bool:
    return view.has_mapping("state_dict_ema") or (view.has_mapping("state_dict") and "args" in view.obj)
