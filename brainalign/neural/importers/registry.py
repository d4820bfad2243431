"""Registry of importers: one small class per file format, found by name or by the file itself.

An importer is a subclass of :class:`Importer` with a ``name`` (the KIND of ``brainalign data
import KIND``), a one-line ``description``, ``guess_can_open(path)`` (a cheap look at the suffix,
the header or the folder layout; never a full read) and ``open(path, **options)`` (the read). It
registers itself with the :func:`register_importer` decorator in its own module, as xarray's
backends do (``BackendEntrypoint``, ``guess_engine``). Other packages add importers through the
entry-point group ``brainalign.importers`` (see :mod:`brainalign.plugins`).
"""

from __future__ import annotations

import os
from typing import ClassVar

from ...errors import InputError


class Importer:
    """One file format: subclass it, set ``name`` and ``description``, implement both methods.

    Examples
    --------
    >>> @register_importer                                # doctest: +SKIP
    ... class SpikesCSV(Importer):
    ...     name = "spikes-csv"
    ...     description = "one row per trial: stimulus_id, neuroid, count"
    ...     def guess_can_open(self, path):
    ...         return str(path).endswith(".spikes.csv")
    ...     def open(self, path, **options):
    ...         ...
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: a catch-all format (e.g. any array file): asked only after every specific importer
    fallback: ClassVar[bool] = False

    def guess_can_open(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` looks like this format (suffix, header or layout; no full read)."""
        return False

    def open(self, path: str | os.PathLike, **options):
        """Read ``path``; what it returns depends on the format (documented by each importer)."""
        raise NotImplementedError(f"importer {self.name!r} does not implement open()")


_IMPORTERS: dict[str, type[Importer]] = {}


def register_importer(cls: type[Importer]) -> type[Importer]:
    """Class decorator: register ``cls`` under ``cls.name`` (a name may be registered once)."""
    if not (isinstance(cls, type) and issubclass(cls, Importer)):
        raise TypeError(f"{cls!r} is not a subclass of brainalign.neural.importers.Importer")
    if not cls.name or not cls.description:
        raise ValueError(f"importer class {cls.__name__} needs a name and a description")
    if cls.name in _IMPORTERS and _IMPORTERS[cls.name] is not cls:
        raise ValueError(f"importer {cls.name!r} registered twice ({_IMPORTERS[cls.name].__name__}, {cls.__name__})")
    _IMPORTERS[cls.name] = cls
    return cls


def _ensure_registered() -> None:
    from ... import plugins
    from . import (allen2p_rdms, allen_2p, allen_neuropixels, brainscore, cowley2023,  # noqa: F401  (register)
                   generic, image_stack, kriegeskorte2008, model_vs_human, rdm)

    plugins.load_plugins("brainalign.importers")  # importers of installed plugin packages


def list_importers() -> dict[str, str]:
    """``{name: description}`` of every installed importer, in guessing order (registration order)."""
    _ensure_registered()
    return {name: cls.description for name, cls in _IMPORTERS.items()}


def installed_hint() -> str:
    """The names of the installed importers, for error hints."""
    return f"installed importers: {', '.join(list_importers())}"


def get_importer(name: str) -> Importer:
    """The importer registered as ``name``; InputError listing the installed ones otherwise."""
    _ensure_registered()
    if name not in _IMPORTERS:
        raise InputError(f"unknown importer {name!r}", hint=installed_hint())
    return _IMPORTERS[name]()


def guess_importer(path: str | os.PathLike) -> Importer:
    """The first installed importer whose ``guess_can_open(path)`` is true.

    Specific importers are asked first, in registration order, then the ``fallback`` ones (the
    built-in ``generic``); InputError listing every installed importer when none recognises ``path``.
    """
    _ensure_registered()
    for cls in sorted(_IMPORTERS.values(), key=lambda cls: cls.fallback):
        importer = cls()
        if importer.guess_can_open(path):
            return importer
    raise InputError(f"no installed importer recognises {os.fspath(path)}",
                     hint=installed_hint() + "; name one explicitly (`brainalign data import KIND ...`)")
