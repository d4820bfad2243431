"""What a checkpoint holds, without building a model: its format and a guess of its architecture."""

from __future__ import annotations

import os
from pathlib import Path

from .architecture_guess import guess_family
from .checkpoint import read_checkpoint
from .checkpoint_formats import get_format


def inspect_checkpoint(path: str | os.PathLike, *, checkpoint_format: str | None = None,
                       trust_checkpoint: bool = False) -> dict:
    """Summarise a checkpoint: format, entry, stripped prefix, key counts and an architecture guess.

    Returns
    -------
    dict
        ``path``, ``format``, ``codebase``, ``entry``, ``prefix_stripped``, ``keys`` (backbone
        tensors), ``parameters`` (their total number of elements), ``dropped`` / ``other`` (counts),
        ``dropped_examples``, ``ignored_entries``, ``trusted``, ``family`` (a guess or None) and
        ``first_keys`` (up to 8 backbone keys with shapes).
    """
    backbone = read_checkpoint(path, checkpoint_format=checkpoint_format, trust_checkpoint=trust_checkpoint)
    sd = backbone.state_dict
    return {
        "path": str(Path(path)), "format": backbone.format, "codebase": get_format(backbone.format).codebase,
        "entry": backbone.entry, "prefix_stripped": backbone.prefix, "keys": len(sd),
        "parameters": int(sum(t.numel() for t in sd.values())), "dropped": len(backbone.dropped),
        "dropped_examples": backbone.dropped[:5], "other": len(backbone.other),
        "ignored_entries": backbone.ignored_entries, "trusted": backbone.trusted,
        "family": guess_family(sd), "first_keys": {k: list(v.shape) for k, v in list(sd.items())[:8]},
    }
