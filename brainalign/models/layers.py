"""Choosing layers by name and reading their output shapes with forward hooks."""

from __future__ import annotations

import contextlib
import difflib
from typing import Iterator, Sequence

import torch

from ..errors import InputError, ModelError
from .base import LoadedModel


def resolve_layers(loaded: LoadedModel, layers: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The layer names to use, checked against the model's inventory.

    Parameters
    ----------
    loaded : LoadedModel
    layers : str, sequence of str or None
        None or ``"all"``: ``loaded.default_layers``. A comma-separated string or a sequence:
        those names, in that order, duplicates dropped.

    Returns
    -------
    tuple of str

    Raises
    ------
    InputError
        No layer names given (e.g. ``""``).
    ModelError
        A name that is not in ``loaded.layers``; the hint lists close matches.

    Examples
    --------
    >>> from brainalign.models import load_model
    >>> resolve_layers(load_model("alexnet_bn64"), "features.3, classifier.7")
    ('features.3', 'classifier.7')
    """
    if layers is None or layers == "all":
        return loaded.default_layers
    names = layers.split(",") if isinstance(layers, str) else list(layers)
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not names:
        raise InputError(f"no layer names given for {loaded.spec}",
                         hint=f"pass 'all' or names from `brainalign models layers {loaded.spec}`")
    known = set(loaded.layers)
    for name in names:
        if name not in known:
            raise ModelError(f"unknown layer {name!r} for {loaded.spec}", hint=_layer_hint(name, loaded))
    return tuple(names)


def layer_shapes(loaded: LoadedModel,
                 layers: str | Sequence[str] | None = None) -> dict[str, tuple[int, ...]]:
    """Output shape of each layer, without the batch dimension, from one forward pass.

    The pass runs on a zero batch of shape (1, channels, input_size, input_size) taken from
    ``loaded.preprocessing``.

    Parameters
    ----------
    loaded : LoadedModel
    layers : str, sequence of str or None
        As in :func:`resolve_layers`; None gives the default layers.

    Returns
    -------
    dict of str to tuple of int
        In the order of the resolved layer names, e.g. ``{"features.3": (64, 7, 7)}``.

    Raises
    ------
    ModelError
        An unknown layer, a layer that does not run in the forward pass, or one whose output is
        not a tensor.

    Examples
    --------
    >>> from brainalign.models import load_model
    >>> layer_shapes(load_model("pixels"))
    {'pixels': (4096,)}
    """
    names = resolve_layers(loaded, layers)
    pre = loaded.preprocessing
    param = next(loaded.module.parameters(), None)
    batch = torch.zeros(1, pre.channels, pre.input_size, pre.input_size,
                        device=None if param is None else param.device,
                        dtype=None if param is None else param.dtype)
    with record_outputs(loaded.module, names) as outputs, torch.no_grad():
        loaded.module(batch)
    shapes = {}
    for name in names:
        if name not in outputs:
            raise ModelError(f"layer {name!r} of {loaded.spec} does not run in a forward pass",
                             hint=f"pick another layer from `brainalign models layers {loaded.spec}`")
        if not isinstance(outputs[name], torch.Tensor):
            raise ModelError(f"layer {name!r} of {loaded.spec} outputs a {type(outputs[name]).__name__}, "
                             "not a tensor",
                             hint=f"pick one of its submodules, e.g. {_children(loaded, name)}")
        shapes[name] = tuple(outputs[name].shape[1:])
    return shapes


@contextlib.contextmanager
def record_outputs(module: torch.nn.Module, names: Sequence[str]) -> Iterator[dict[str, object]]:
    """Record the outputs of the named submodules during the forward passes run in the body.

    Parameters
    ----------
    module : torch.nn.Module
    names : sequence of str
        Names from ``module.named_modules()``.

    Yields
    ------
    dict of str to object
        Filled during forward passes: for each name that ran, its output from the first call
        (a submodule called twice keeps the first output; clear the dict between passes).
        Hooks are removed on exit.

    Notes
    -----
    A tensor output is copied (detached) when its module returns, so a later in-place op, e.g.
    torchvision AlexNet's ``ReLU(inplace=True)`` after ``features.0``, does not change what is
    recorded. A tuple or list output whose first element is a tensor records that element;
    other outputs (dicts) are stored as returned.
    """
    modules = dict(module.named_modules())
    outputs: dict[str, object] = {}
    handles = [modules[name].register_forward_hook(_store(outputs, name)) for name in names]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def _store(outputs: dict[str, object], name: str):
    def hook(_module, _inputs, output):
        if name in outputs:
            return
        if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
            output = output[0]
        outputs[name] = output.detach().clone() if isinstance(output, torch.Tensor) else output
    return hook


def _layer_hint(name: str, loaded: LoadedModel) -> str:
    close = difflib.get_close_matches(name, loaded.layers, n=5, cutoff=0.6)
    listing = f"list them with `brainalign models layers {loaded.spec}`"
    return f"did you mean {', '.join(close)}? {listing}" if close else listing


def _children(loaded: LoadedModel, name: str) -> str:
    children = [n for n in loaded.layers if n.startswith(name + ".")][:3]
    return ", ".join(children) or f"see `brainalign models layers {loaded.spec}`"
