"""neuroailab/mouse-vision (Nayebi et al. 2023): the weights under ``model_state_dict``."""

from ..checkpoint_formats import register_format


@register_format(name="mouse_vision", codebase="neuroailab/mouse-vision (Nayebi et al.)",
                 entries=(("model_state_dict",),), backbones=("",), priority=110, aliases=("nayebi",))
def detect(view) -> bool:
    return view.has_mapping("model_state_dict")
