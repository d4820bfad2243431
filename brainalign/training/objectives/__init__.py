"""Training objectives, registered by name with :func:`register_objective`.

Each family lives in its own module; importing this package registers all of them.
"""

from .base import Objective, get_objective, list_objectives, register_objective
from . import clapp  # noqa: F401  (layer-local rules)
from . import lcl  # noqa: F401
from . import tang_amit  # noqa: F401

__all__ = ["Objective", "get_objective", "list_objectives", "register_objective"]
