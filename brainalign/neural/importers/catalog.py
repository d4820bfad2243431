"""The installed importers: listed, found by name, or guessed from a file (xarray's ``guess_engine``).

The built-in importers are the modules of this package (each registers its class when
imported); other packages add importers through the entry-point group ``brainalign.importers``
(see :mod:`brainalign.plugins`). Both are loaded on the first lookup.
"""

from __future__ import annotations

import os

from ...errors import InputError
from .registry import Importer, registered_importers


def _ensure_registered() -> None:
    from ... import plugins
    from . import (allen2p_rdms, allen_2p, allen_neuropixels, brainscore, cowley2023,  # noqa: F401  (register)
                   generic, image_stack, kriegeskorte2008, model_vs_human, rdm)

    plugins.load_plugins("brainalign.importers")  # importers of installed plugin packages


def list_importers() -> dict[str, str]:
    """``{name: description}`` of every installed importer, in registration order."""
    _ensure_registered()
    return {name: cls.description for name, cls in registered_importers().items()}


def installed_hint() -> str:
    """The names of the installed importers, for error hints."""
    return f"installed importers: {', '.join(list_importers())}"


def get_importer(name: str) -> Importer:
    """The importer registered as ``name``; InputError listing the installed ones otherwise."""
    _ensure_registered()
    importers = registered_importers()
    if name not in importers:
        raise InputError(f"unknown importer {name!r}", hint=installed_hint())
    return importers[name]()


def guess_importer(path: str | os.PathLike) -> Importer:
    """The first installed importer whose ``guess_can_open(path)`` is true.

    Specific importers are asked first, in registration order, then the ``fallback`` ones (the
    built-in ``generic``); InputError listing every installed importer when none recognises ``path``.
    """
    _ensure_registered()
    for cls in sorted(registered_importers().values(), key=lambda cls: cls.fallback):
        importer = cls()
        if importer.guess_can_open(path):
            return importer
    raise InputError(f"no installed importer recognises {os.fspath(path)}",
                     hint=installed_hint() + "; name one explicitly (`brainalign data import KIND ...`)")
