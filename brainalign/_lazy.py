"""Packages whose public names are imported from their submodules on first use.

`brainalign --help` and the listing commands must not import torch, xarray or pandas, yet
``from brainalign.models import load_model`` should keep working. :func:`lazy_package` turns a
package into one that imports a name's submodule when the name is first read (PEP 562).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType


class _LazyPackage(ModuleType):
    """A package module whose ``_lazy`` names ({name: submodule}) are imported when first read.

    A public name that is also the name of its submodule (``reports.leaderboard``,
    ``activations.preflight``) stays the function, as an eager ``from .leaderboard import
    leaderboard`` in ``__init__`` would leave it, even when the import system binds the loaded
    submodule on the package.
    """

    def __getattr__(self, name: str):
        lazy = ModuleType.__getattribute__(self, "_lazy")
        if name not in lazy:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        submodule = import_module(f".{lazy[name]}", self.__name__)
        for other, where in lazy.items():  # bind every name of that submodule at once
            if where == lazy[name]:
                ModuleType.__setattr__(self, other, getattr(submodule, other))
        return ModuleType.__getattribute__(self, name)

    def __setattr__(self, name: str, value) -> None:
        lazy = ModuleType.__getattribute__(self, "_lazy")
        if name in lazy and isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            value = getattr(value, name)
        ModuleType.__setattr__(self, name, value)

    def __dir__(self):
        return sorted(set(ModuleType.__dir__(self)) | set(ModuleType.__getattribute__(self, "_lazy")))


def lazy_package(name: str, names: dict[str, str]) -> None:
    """Make package ``name`` import each of ``names`` ({public name: submodule}) on first use."""
    module = sys.modules[name]
    ModuleType.__setattr__(module, "_lazy", dict(names))
    module.__class__ = _LazyPackage


def lazy_attributes(module: str, names: dict[str, str]):
    """A module-level ``__getattr__`` (PEP 562) for ``module``: each of ``names`` ({name: module that
    defines it}) is imported when first read, e.g. a scikit-learn estimator beside a kernel function
    that must not pay scikit-learn's import."""

    def __getattr__(name: str):
        if name in names:
            return getattr(import_module(names[name]), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
