"""Registry of brainalign's own architectures (the zoo), filled by a decorator.

A zoo factory is registered under its function name::

    @register_model
    def alexnet_bn64(seed: int = 0) -> ZooEntry: ...

It takes a keyword ``seed`` (its random init must depend on that alone; see
:func:`brainalign.models.base.seeded`) and returns a :class:`ZooEntry`: the module plus its
preprocessing and layer inventory.
"""

from __future__ import annotations

import fnmatch
import inspect
from dataclasses import dataclass
from typing import Callable

import torch

from ..errors import ModelError
from .base import Preprocessing


@dataclass
class ZooEntry:
    """What a zoo factory returns: module, preprocessing and the default layer inventory.

    ``head`` names the classifier modules (e.g. ``("classifier.8",)``): a self-supervised
    checkpoint may lack their weights, which then keep their initial values.
    """

    module: torch.nn.Module
    preprocessing: Preprocessing
    default_layers: tuple[str, ...]
    description: str = ""
    head: tuple[str, ...] = ()


_ZOO: dict[str, Callable[..., ZooEntry]] = {}


def register_model(fn: Callable[..., ZooEntry]) -> Callable[..., ZooEntry]:
    """Register a zoo factory under its function name; it must accept a keyword ``seed``."""
    params = inspect.signature(fn).parameters
    if "seed" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise TypeError(f"zoo factory {fn.__name__!r} must accept a keyword argument 'seed'")
    if fn.__name__ in _ZOO:
        raise RuntimeError(f"zoo model {fn.__name__!r} registered twice")
    _ZOO[fn.__name__] = fn
    return fn


def _ensure_zoo_imported() -> None:
    from . import zoo  # noqa: F401  (importing the package runs the decorators)
    from ..plugins import load_plugins
    load_plugins("brainalign.models")  # zoo models of installed plugin packages


def list_zoo(pattern: str | None = None) -> list[str]:
    """Sorted names of zoo models, optionally filtered by a shell-style ``pattern``."""
    _ensure_zoo_imported()
    names = sorted(_ZOO)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def zoo_factory(name: str) -> Callable[..., ZooEntry]:
    """The factory registered as ``name``; ModelError listing the known ones otherwise."""
    _ensure_zoo_imported()
    try:
        return _ZOO[name]
    except KeyError:
        raise ModelError(f"unknown zoo model {name!r}",
                         hint=f"known zoo models: {', '.join(sorted(_ZOO))}; "
                              "or use timm:NAME / torchvision:NAME") from None
