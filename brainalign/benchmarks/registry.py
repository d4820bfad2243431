"""Registry of named, versioned benchmarks.

Registration stores a factory plus the area and species, so listing and ``--area`` lookups never
load or generate data; the built-in benchmarks are declared in :mod:`.catalog`, so they import
nothing heavy either.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import InputError

if TYPE_CHECKING:
    from .base import Benchmark


@dataclass(frozen=True)
class _Entry:
    factory: Callable[[], Benchmark]
    region: str
    species: str


_BENCHMARKS: dict[str, _Entry] = {}


def register_benchmark(identifier: str, factory: Callable[[], Benchmark], *, region: str,
                       species: str) -> None:
    """Register ``factory`` (no arguments, returns a :class:`.base.Benchmark`) as ``identifier``."""
    if identifier in _BENCHMARKS:
        raise RuntimeError(f"benchmark {identifier!r} registered twice")
    _BENCHMARKS[identifier] = _Entry(factory, region, species)


def is_registered(identifier: str) -> bool:
    """Whether ``identifier`` is registered already (without triggering registration)."""
    return identifier in _BENCHMARKS


def _ensure_registered() -> None:
    """Register the catalogue's built-in benchmarks once, and real-data ones whose files exist now."""
    from . import catalog

    for identifier, factory, region, species in catalog.builtin() + catalog.available():
        if identifier not in _BENCHMARKS:
            register_benchmark(identifier, factory, region=region, species=species)
    from ..plugins import load_plugins
    load_plugins("brainalign.benchmarks")  # benchmarks of installed plugin packages


def list_benchmarks(pattern: str | None = None) -> list[str]:
    """Sorted benchmark identifiers, optionally filtered by a shell-style pattern."""
    _ensure_registered()
    return sorted(b for b in _BENCHMARKS if pattern is None or fnmatch.fnmatch(b, pattern))


def benchmark_info(identifier: str) -> dict:
    """Region and species of a registered benchmark, without loading it."""
    _ensure_registered()
    _check_known(identifier)
    entry = _BENCHMARKS[identifier]
    return {"identifier": identifier, "region": entry.region, "species": entry.species}


def load_benchmark(identifier: str) -> Benchmark:
    """The benchmark registered as ``identifier`` (loading it may generate or read data)."""
    from .base import Benchmark

    _ensure_registered()
    _check_known(identifier)
    benchmark = _BENCHMARKS[identifier].factory()
    if not isinstance(benchmark, Benchmark):  # a plugin's factory returned something else: its bug, named here
        raise TypeError(f"the factory of benchmark {identifier!r} returned a {type(benchmark).__name__}, "
                        "not a brainalign.benchmarks.Benchmark")
    return benchmark


def _check_known(identifier: str) -> None:
    """InputError naming the known benchmarks when ``identifier`` is not registered (call after registration)."""
    if identifier not in _BENCHMARKS:
        raise InputError(f"unknown benchmark {identifier!r}", hint=unknown_benchmark_hint())


def unknown_benchmark_hint() -> str:
    """The known benchmarks, and where the real-data ones come from when they are missing."""
    from ..config import shared_data_dir

    hint = f"known benchmarks: {', '.join(list_benchmarks())}"
    hidden = hidden_real_data()
    if hidden:
        hint += (f"; the real-data benchmarks {', '.join(hidden)} appear when "
                 f"$BRAINALIGN_SHARED_DATA (now {shared_data_dir()}) holds their data")
    return hint


def hidden_real_data() -> list[str]:
    """The real-data benchmarks not registered because their data are absent."""
    from .catalog import REAL_DATA

    _ensure_registered()
    return [b for b in REAL_DATA if b not in _BENCHMARKS]


def benchmarks_for_area(area: str) -> list[str]:
    """Identifiers of every benchmark whose region is ``area`` (case-insensitive)."""
    matches = [b for b in list_benchmarks() if _BENCHMARKS[b].region.lower() == area.lower()]
    if not matches:
        regions = sorted({entry.region for entry in _BENCHMARKS.values()})
        raise InputError(f"no benchmark for area {area!r}", hint=f"areas with benchmarks: {', '.join(regions)}")
    return matches


def resolve_benchmarks(benchmarks, area: str | None) -> list[str]:
    """The benchmark ids that ``--benchmark`` ids or patterns, or ``--area``, name; InputError before any work."""
    if benchmarks and area:
        raise InputError("give --benchmark or --area, not both")
    if area:
        return benchmarks_for_area(area)
    if not benchmarks:
        raise InputError("nothing to score", hint="pass --benchmark NAME or --area AREA "
                                                  "(`brainalign benchmarks list` shows them)")
    return [b for name in benchmarks for b in _expand(name)]


def _expand(name: str) -> list[str]:
    """Benchmark ids matching ``name`` (an id or a shell pattern); InputError before any work when none."""
    if any(c in name for c in "*?["):
        matches = list_benchmarks(name)
        if not matches:
            raise InputError(f"no benchmark matches {name!r}", hint=unknown_benchmark_hint())
        return matches
    benchmark_info(name)  # raises the one-line error for an unknown id
    return [name]
