"""Training objectives, registered by name with :func:`register_objective`.

Each family lives in its own module; importing this package registers all of them.
"""

from .base import Objective, get_objective, list_objectives, register_objective

__all__ = ["Objective", "get_objective", "list_objectives", "register_objective"]
