"""facebookresearch/dino: the teacher's backbone (else the student's); the DINO head dropped."""

from ..checkpoint_formats import register_format


@register_format(name="dino", codebase="facebookresearch/dino", entries=(("teacher",), ("student",)),
                 backbones=("backbone.",), drop=("head.*",), priority=120)
def detect(view) -> bool:
    return view.has_mapping("teacher") or view.has_mapping("student")
