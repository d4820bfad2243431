"""timm's and torchvision's model names, remembered per library version, so that a misspelt
``timm:``/``torchvision:`` name is refused without importing the library (3-7 s, mostly torch).

The names are written to ``<cache>/model-names/LIBRARY-VERSION.json`` the first time brainalign
imports the library to find a name unknown (nothing is read or written when a model is built). The version comes from the installed
package's metadata, so an upgraded library is never checked against the old one's names. A
missing, unreadable or foreign file is not used: the name is then checked when the model is built.
"""

from __future__ import annotations

import contextlib
import json
from importlib import metadata
from pathlib import Path
from typing import Iterable

from ..config import cache_dir
from ..errors import StorageError


def _path(library: str) -> Path | None:
    try:
        version = metadata.version(library)
    except metadata.PackageNotFoundError:
        return None
    return cache_dir() / "model-names" / f"{library}-{version}.json"


def remembered(library: str) -> frozenset[str] | None:
    """The names remembered for the installed version of ``library``, or None."""
    path = _path(library)
    if path is None:
        return None
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return frozenset(names)


def remember(library: str, names: Iterable[str]) -> None:
    """Keep ``names`` for the installed version of ``library`` (atomically; a full or read-only
    cache only means they are not kept)."""
    path = _path(library)
    if path is None or remembered(library) is not None:   # a damaged file is replaced
        return
    from ..safe_files import atomic_path, dumps_json

    with contextlib.suppress(StorageError, OSError), atomic_path(path) as tmp:
        tmp.write_text(dumps_json(sorted(names), indent=None), encoding="utf-8")
