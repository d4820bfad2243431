"""What a checkpoint says about its training, kept from the one read that loads its weights.

:func:`payload_metadata` keeps the entries that :mod:`brainalign.reports.metadata` turns into
leaderboard fields: a ``brainalign train`` checkpoint's ``brainalign_training`` entry and a PyTorch
Lightning checkpoint's ``epoch`` and ``hyper_parameters``. :func:`args_beside` reads the
``args.json`` that solo-learn writes beside its checkpoints. :func:`checkpoint_metadata` does
both; :func:`brainalign.models.checkpoint.read_checkpoint` keeps the result on its
:class:`~brainalign.models.checkpoint_formats.Backbone`, and
:func:`brainalign.models.checkpoint.read_checkpoint_metadata` reads it for a checkpoint that no
model was loaded from (a path recorded in an activation file).

Metadata never comes from unpickled objects: a file read with full unpickling
(``--trust-checkpoint``) contributes its ``args.json`` only.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

#: Top-level checkpoint entries kept for the metadata, with the types they must have.
ENTRIES = {"brainalign_training": Mapping, "hyper_parameters": Mapping, "epoch": int}


class MetadataWarning(UserWarning):
    """A file beside a checkpoint that should describe its training could not be read."""


def payload_metadata(obj, *, trusted: bool = False) -> dict:
    """The metadata entries of a ``torch.load`` result: ``{"payload": {...}}`` (dict copies).

    Entries of the wrong type are left out; so is everything of a file read with full unpickling
    (``trusted``), whose objects may be anything.

    Examples
    --------
    >>> payload_metadata({"epoch": 12, "hyper_parameters": {"method": "vicreg"}, "state_dict": {}})
    {'payload': {'hyper_parameters': {'method': 'vicreg'}, 'epoch': 12}}
    """
    if trusted or not isinstance(obj, Mapping):
        return {"payload": {}}
    found = {}
    for key, kind in ENTRIES.items():
        value = obj.get(key)
        if isinstance(value, kind) and not isinstance(value, bool):
            found[key] = dict(value) if isinstance(value, Mapping) else value
    return {"payload": found}


def args_beside(checkpoint: str | os.PathLike) -> dict | None:
    """The ``args.json`` mapping beside ``checkpoint`` (solo-learn's run arguments), or None.

    A file that exists but is not a JSON object is ignored with one :class:`MetadataWarning`
    naming it: the weights still load, but its training fields are not recorded.
    """
    path = Path(checkpoint).parent / "args.json"
    if not path.is_file():
        return None
    try:
        args = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings.warn(f"{path} could not be read ({type(exc).__name__}: {exc}); the training metadata it "
                      "holds is not recorded", MetadataWarning, stacklevel=2)
        return None
    if not isinstance(args, dict):
        warnings.warn(f"{path} holds a JSON {type(args).__name__}, not an object of run arguments; "
                      "the training metadata it holds is not recorded", MetadataWarning, stacklevel=2)
        return None
    return args


def checkpoint_metadata(checkpoint: str | os.PathLike, obj, *, trusted: bool = False) -> dict:
    """``{"payload": {...}, "args_json": dict or None}``: :func:`payload_metadata` of ``obj`` (the
    loaded ``checkpoint``) and :func:`args_beside` it."""
    return {**payload_metadata(obj, trusted=trusted), "args_json": args_beside(checkpoint)}
