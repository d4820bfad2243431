"""The importer interface and its registry: one small class per file format, registered by a decorator.

An importer is a subclass of :class:`Importer` with a ``name`` (the KIND of ``brainalign data
import KIND``), a one-line ``description``, ``guess_can_open(path)`` (a cheap look at the suffix,
the header or the folder layout; never a full read) and ``open(path, **options)`` (the read). It
registers itself with the :func:`register_importer` decorator in its own module, as xarray's
backends do (``BackendEntrypoint``). :mod:`.catalog` finds them by name or by file.
"""

from __future__ import annotations

import os
from typing import ClassVar


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


def registered_importers() -> dict[str, type[Importer]]:
    """The importer classes registered so far, by name, in registration order (no module is imported)."""
    return dict(_IMPORTERS)
