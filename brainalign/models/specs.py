"""Model specs (``timm:NAME``, ``torchvision:NAME``, zoo names): parsing, listing and a quick check.

Nothing here imports torch, so `brainalign models list` and the "unknown model" usage error answer
at once; only a timm or torchvision pattern imports that library.
"""

from __future__ import annotations

import difflib
import fnmatch

from ..errors import InputError, ModelError
from .remembered_names import remember, remembered
from .registry import check_zoo_name, list_zoo

SOURCES = ("timm", "torchvision", "zoo")


def parse_spec(spec: str) -> tuple[str, str]:
    """Split a model spec into its source and name.

    Parameters
    ----------
    spec : str
        ``timm:NAME``, ``torchvision:NAME``, ``zoo:NAME`` or a bare zoo ``NAME``.

    Returns
    -------
    source : {"timm", "torchvision", "zoo"}
    name : str

    Raises
    ------
    InputError
        Empty, containing whitespace, an unknown prefix or an empty name.

    Examples
    --------
    >>> parse_spec("timm:resnet18"), parse_spec("alexnet_bn64")
    (('timm', 'resnet18'), ('zoo', 'alexnet_bn64'))
    """
    if not isinstance(spec, str) or not spec:
        raise InputError("empty model spec",
                         hint="give e.g. alexnet_bn64, timm:resnet18 or torchvision:alexnet")
    if any(ch.isspace() for ch in spec):
        raise InputError(f"model spec {spec!r} contains whitespace", hint="remove the spaces")
    source, sep, name = spec.partition(":")
    if not sep:
        return "zoo", spec
    if source not in SOURCES:
        raise InputError(f"unknown model source {source!r} in {spec!r}",
                         hint=f"use one of {', '.join(s + ':NAME' for s in SOURCES)}, or a bare zoo name")
    if not name:
        raise InputError(f"model spec {spec!r} has no name after {source}:",
                         hint=f"list names with `brainalign models list '{source}:*'`")
    return source, name


def check_model_spec(spec: str, layers=None, *, alternative: str | None = None) -> None:
    """Raise the usage error for a malformed spec, an unknown model or a layer the zoo model lacks,
    without importing torch.

    ``layers`` is what ``--layers`` takes (None, ``"all"``, ``"auto"``, or names, comma-separated
    or a sequence). A zoo model's layers are checked against
    :data:`brainalign.models.zoo.layer_index.LAYERS` (a checkpoint loads weights into the same
    modules); a residual-addition name missing there is left to the build, as torch.fx's names
    may differ between library versions. timm and torchvision names are checked against the
    names remembered for the installed library version (:mod:`brainalign.models.remembered_names`)
    when there are any; otherwise, and for their layers, when the model is built. ``alternative``
    ends the hint of an unknown layer (see :func:`brainalign.models.layer_names.unknown_layer`).
    """
    source, name = parse_spec(spec)
    if source != "zoo":
        known = remembered(source)
        if known is not None and name.partition(".")[0] not in known:   # a timm tag is checked when built
            raise ModelError(f"unknown {source} model {name!r}", hint=suggest(name, known, source))
        return
    check_zoo_name(name)
    if layers in (None, "all", "auto"):
        return
    from .layer_names import is_residual, parse_layer, unknown_layer
    from .zoo.layer_index import LAYERS

    if name not in LAYERS:   # a plugin's model: its layers are checked when it is built
        return
    modules, nodes = LAYERS[name]
    known = {*modules, *nodes}
    for layer in filter(None, (n.strip() for n in (layers.split(",") if isinstance(layers, str) else layers))):
        base = parse_layer(layer).base
        if base not in known and not is_residual(base):
            raise unknown_layer(layer, name, modules, alternative=alternative)   # named as built


def list_models(pattern: str | None = None) -> list[str]:
    """Model specs, optionally filtered by a shell-style ``pattern``.

    Parameters
    ----------
    pattern : str, optional
        None lists the zoo names followed by ``"timm:*"`` and ``"torchvision:*"`` (standing for
        the whole timm and torchvision catalogues). ``"timm:resnet*"`` / ``"torchvision:vgg*"``
        filter those catalogues; ``"zoo:alex*"`` or a bare ``"alex*"`` filter the zoo.

    Returns
    -------
    list of str
        Specs as :func:`load_model` accepts them, sorted within each source.

    Examples
    --------
    >>> "timm:resnet18" in list_models("timm:resnet1*")
    True
    >>> list_models("alexnet*")
    ['alexnet_bn64', 'alexnet_bn64_headless']
    """
    if pattern is None:
        return list_zoo() + ["timm:*", "torchvision:*"]
    source, sep, rest = pattern.partition(":")
    if not sep:
        return list_zoo(pattern)
    if source == "zoo":
        return list_zoo(rest)
    if source == "timm":
        return [f"timm:{n}" for n in timm_names(rest)]
    if source == "torchvision":
        return [f"torchvision:{n}" for n in torchvision_names() if fnmatch.fnmatch(n, rest)]
    raise InputError(f"unknown model source {source!r} in pattern {pattern!r}",
                     hint=f"use one of {', '.join(s + ':PATTERN' for s in SOURCES)}")


def timm_names(pattern: str = "") -> list[str]:
    """timm's model names matching the shell-style ``pattern`` (all when empty); imports timm."""
    import timm

    return timm.list_models(pattern or "")


def torchvision_names() -> list[str]:
    """torchvision's classification model names, sorted; imports torchvision."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def library_names(source: str) -> list[str]:
    """Every name the ``source`` library ("timm" or "torchvision") builds, sorted; imports it and
    remembers them (:mod:`brainalign.models.remembered_names`) for the next command's usage errors."""
    if source == "timm":
        from timm.models import get_deprecated_models

        names = sorted([*timm_names(), *get_deprecated_models()])   # every name timm.is_model accepts
    else:
        names = torchvision_names()
    remember(source, names)
    return names


def suggest(name: str, known, source: str) -> str:
    """The hint for an unknown ``source`` model ``name``: up to five close names, and where to list them."""
    close = difflib.get_close_matches(name, list(known), n=5, cutoff=0.6)
    listing = f"list them with `brainalign models list '{source}:*'`"
    return f"did you mean {', '.join(close)}? {listing}" if close else listing
