"""Importing this module registers ``lab``: the lab trainer's checkpoints (weights under ``net``, backbone ``trunk.``)."""

from brainalign.models.checkpoint_formats import register_format


@register_format(name="lab", codebase="the lab's trainer", entries=(("net",),), backbones=("trunk.",),
                 drop=("trunk.head.*", "ema.*"))
def detect(view):
    return "lab_version" in view.obj
