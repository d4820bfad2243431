"""solo-learn (PyTorch Lightning ``.ckpt``): the backbone; projector, predictor, classifier and momentum parts dropped.

Every Lightning file that lightly's detector (asked first) does not claim is read as solo-learn's.
"""

from ..checkpoint_formats import register_format


@register_format(name="solo-learn", codebase="solo-learn (PyTorch Lightning .ckpt)", entries=(("state_dict",),),
                 backbones=("backbone.", "encoder."),
                 drop=("projector.*", "predictor.*", "classifier.*", "momentum_*"), priority=50,
                 aliases=("lightning",))
def detect(view) -> bool:
    return view.lightning
