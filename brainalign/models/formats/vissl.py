"""facebookresearch/vissl: the trunk under ``classy_state_dict``, its heads beside it (dropped)."""

from collections.abc import Mapping

from ..checkpoint_formats import register_format

_TRUNK = ("classy_state_dict", "base_model", "model", "trunk")


def _heads(obj) -> list[str]:
    heads = obj["classy_state_dict"]["base_model"]["model"].get("heads", {})
    return [f"heads.{k}" for k in heads] if isinstance(heads, Mapping) else []


@register_format(name="vissl", codebase="facebookresearch/vissl", entries=(_TRUNK,),
                 backbones=("_feature_blocks.", ""), priority=130, also_dropped=_heads)
def detect(view) -> bool:
    return view.has_mapping("classy_state_dict")
