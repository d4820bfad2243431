"""Registry of named, versioned benchmarks.

Registration stores a factory plus the area and species, so listing and ``--area`` lookups never
load or generate data.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable

from ..errors import InputError
from .base import NeuralBenchmark


@dataclass(frozen=True)
class _Entry:
    factory: Callable[[], NeuralBenchmark]
    region: str
    species: str


_BENCHMARKS: dict[str, _Entry] = {}


def register_benchmark(identifier: str, factory: Callable[[], NeuralBenchmark], *, region: str,
                       species: str) -> None:
    """Register ``factory`` (no arguments, returns the benchmark) as ``identifier``."""
    if identifier in _BENCHMARKS:
        raise RuntimeError(f"benchmark {identifier!r} registered twice")
    _BENCHMARKS[identifier] = _Entry(factory, region, species)


def is_registered(identifier: str) -> bool:
    """Whether ``identifier`` is registered already (without triggering registration)."""
    return identifier in _BENCHMARKS


def _ensure_registered() -> None:
    from . import simulated  # noqa: F401  (registers sim.*)
    from . import kriegeskorte2008, simulated_rsa, texture  # noqa: F401  (RSA and texture benchmarks)
    from . import allen2p
    from .real import register_available
    allen2p.register()  # allen2p.* when the shared Allen RDMs and scenes exist
    register_available()  # real-data benchmarks whose files exist (cowley2023.V4, imported.*)
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


def load_benchmark(identifier: str) -> NeuralBenchmark:
    """The benchmark registered as ``identifier`` (loading it may generate or read data)."""
    _ensure_registered()
    _check_known(identifier)
    return _BENCHMARKS[identifier].factory()


def _check_known(identifier: str) -> None:
    """InputError naming the known benchmarks when ``identifier`` is not registered (call after registration)."""
    if identifier not in _BENCHMARKS:
        raise InputError(f"unknown benchmark {identifier!r}", hint=unknown_benchmark_hint())


def unknown_benchmark_hint() -> str:
    """The known benchmarks, and where the real-data ones come from when they are missing."""
    from ..config import shared_data_dir

    hint = f"known benchmarks: {', '.join(list_benchmarks())}"
    if not any(b.startswith(("cowley2023.", "kriegeskorte2008.", "allen2p.")) for b in _BENCHMARKS):
        hint += (f"; the real-data benchmarks (cowley2023.V4, kriegeskorte2008.IT, allen2p.*) appear when "
                 f"$BRAINALIGN_SHARED_DATA (now {shared_data_dir()}) holds their data")
    return hint


def benchmarks_for_area(area: str) -> list[str]:
    """Identifiers of every benchmark whose region is ``area`` (case-insensitive)."""
    matches = [b for b in list_benchmarks() if _BENCHMARKS[b].region.lower() == area.lower()]
    if not matches:
        regions = sorted({entry.region for entry in _BENCHMARKS.values()})
        raise InputError(f"no benchmark for area {area!r}", hint=f"areas with benchmarks: {', '.join(regions)}")
    return matches
