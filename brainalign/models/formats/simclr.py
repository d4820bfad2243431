"""SimCLR ports (sthalles, Spijkervet): the backbone or encoder; its fc and the projector dropped."""

from ..checkpoint_formats import register_format


@register_format(name="simclr", codebase="SimCLR ports (sthalles, Spijkervet)", entries=(("state_dict",), ()),
                 backbones=("backbone.", "encoder."), drop=("backbone.fc.*", "encoder.fc.*", "projector.*"),
                 priority=30)
def detect(view) -> bool:
    heads = view.heads
    return "backbone" in heads or ("encoder" in heads and ("projector" in heads or heads == {"encoder"}))
