"""Layer names, ``NAME[:CALL][@TOKENS]``: parsing them, and the error for one a model lacks.

Torch-free, so that a command can refuse a misspelt layer of a zoo model before building it
(:func:`brainalign.models.specs.check_model_spec`); :mod:`brainalign.models.layers` uses the same
two functions on built models.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Sequence

from ..errors import InputError, ModelError
from .options import TOKEN_MODES  # what token layers output: patch tokens as a grid, the CLS token, all tokens

#: the network's own output, which the psychometric commands read like a layer (``--layer logits``)
LOGITS = "logits"

_NAME = re.compile(r"^(?P<base>[^:@]+)(?::(?P<call>\d+))?(?:@(?P<tokens>[a-z]+))?$")
_RESIDUAL = re.compile(r"(^|\.)add(_\d+)?$")


@dataclass(frozen=True)
class LayerName:
    """A parsed layer name: ``base`` (module or graph node), ``call`` index and ``tokens`` mode."""

    base: str
    call: int = 0
    tokens: str = "patches"


def parse_layer(name: str) -> LayerName:
    """Split ``NAME[:CALL][@TOKENS]``; InputError for malformed names or unknown token modes.

    Examples
    --------
    >>> parse_layer("blocks.3:1@cls")
    LayerName(base='blocks.3', call=1, tokens='cls')
    """
    match = _NAME.match(name)
    if not match:
        raise InputError(f"malformed layer name {name!r}",
                         hint="use NAME, NAME:CALL (a repeated call) or NAME@TOKENS (patches, cls, all)")
    tokens = match["tokens"] or "patches"
    if tokens not in TOKEN_MODES:
        raise InputError(f"unknown token mode {tokens!r} in layer {name!r}", hint=f"use one of {', '.join(TOKEN_MODES)}")
    return LayerName(match["base"], int(match["call"] or 0), tokens)


def is_residual(base: str) -> bool:
    """Whether ``base`` names a residual addition of a torch.fx graph (``layer1.0.add``, ``add_3``)."""
    return bool(_RESIDUAL.search(base))


def unknown_layer(name: str, spec: str, modules: Sequence[str], *, alternative: str | None = None) -> ModelError:
    """The error for layer ``name`` that model ``spec`` (whose module names are ``modules``) lacks,
    with up to five close matches, and ``alternative`` (e.g. "use --logits"), as the hint."""
    close = difflib.get_close_matches(parse_layer(name).base, modules, n=5, cutoff=0.6)
    hint = f"list them with `brainalign models layers {spec} --all`"
    if alternative:
        hint += f", or {alternative}"
    if close:
        hint = f"did you mean {', '.join(close)}? {hint}"
    return ModelError(f"unknown layer {name!r} for {spec}", hint=hint)
