"""facebookresearch/barlowtwins and vicreg: the backbone under ``model``; projector and final BN dropped."""

from ..checkpoint_formats import register_format


@register_format(name="barlowtwins", codebase="facebookresearch/barlowtwins or vicreg", entries=(("model",), ()),
                 backbones=("backbone.",), drop=("projector.*", "bn.*"), priority=40, aliases=("vicreg",))
def detect(view) -> bool:
    return "backbone" in view.heads and ("bn" in view.heads or view.has_mapping("model"))
