"""Training objectives, registered by name with :func:`register_objective`.

Each family lives in its own module; importing this package registers all of them (one import
line per module below).
"""

from .base import Augmentations, Objective, Recipe, get_objective, list_objectives, register_objective
from . import contrastive  # noqa: F401,E402  simclr, moco, instance_recognition
from . import siamese  # noqa: F401,E402  simsiam, barlow_twins, vicreg
from . import pretext  # noqa: F401,E402  rotnet, sparse_autoencoder
from . import clapp  # noqa: F401  (layer-local rules)
from . import lcl  # noqa: F401
from . import tang_amit  # noqa: F401

__all__ = ["Augmentations", "Objective", "Recipe", "get_objective", "list_objectives", "register_objective"]
