"""A plain state dict (torchvision and most code): the file itself, or its ``state_dict`` / ``model``.

The fallback: asked last, it accepts every file no other format claims.
"""

from ..checkpoint_formats import register_format


@register_format(name="plain", codebase="plain state dict / torchvision", entries=(("state_dict",), ("model",), ()),
                 backbones=("",), priority=0, aliases=("torchvision",))
def detect(view) -> bool:
    return True
