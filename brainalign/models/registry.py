"""Registry of brainalign's own architectures (the zoo), filled by a decorator.

A zoo factory is registered under its function name::

    @register_model
    def alexnet_bn64(seed: int = 0) -> ZooEntry: ...

It takes a keyword ``seed`` (its random init must depend on that alone; see
:func:`brainalign.models.base.seeded`) and returns a :class:`ZooEntry`: the module plus its
preprocessing and layer inventory.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import ModelError
from .zoo import MODELS

if TYPE_CHECKING:  # listing and checking names stays free of torch
    import torch

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


def _plugin_models() -> list[str]:
    """Names registered by installed plugin packages (``brainalign.models`` entry points, loaded once)."""
    from ..plugins import load_plugins

    load_plugins("brainalign.models")
    return [name for name in _ZOO if name not in MODELS]


def _known() -> list[str]:
    return sorted(set(MODELS) | set(_plugin_models()))


def list_zoo(pattern: str | None = None) -> list[str]:
    """Sorted names of zoo and plugin models, optionally filtered by a shell-style ``pattern``.

    Imports no zoo model; installed plugin packages are imported (their decorators register).
    """
    return [n for n in _known() if pattern is None or fnmatch.fnmatch(n, pattern)]


def check_zoo_name(name: str) -> None:
    """ModelError with the closest names when ``name`` is neither a zoo nor a plugin model (imports no zoo model)."""
    if name not in MODELS and name not in _plugin_models():
        known = _known()
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.6)
        raise ModelError(f"unknown zoo model {name!r}",
                         hint=(f"did you mean {', '.join(close)}? " if close else "")
                              + f"known zoo models: {', '.join(known)}; for timm or torchvision "
                              f"write timm:{name} / torchvision:{name}")


def zoo_factory(name: str) -> Callable[..., ZooEntry]:
    """The factory registered as ``name`` (imports its module); ModelError listing the known ones otherwise."""
    check_zoo_name(name)
    if name in MODELS:
        importlib.import_module(f"{__package__}.zoo.{MODELS[name][0]}")  # runs its @register_model decorators
    return _ZOO[name]


def zoo_description(name: str) -> str:
    """The one-line description of zoo model ``name`` (imports no zoo model)."""
    check_zoo_name(name)
    if name in MODELS:
        return MODELS[name][1]
    return (_ZOO[name].__doc__ or "plugin model").strip().splitlines()[0]
