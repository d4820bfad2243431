"""Where brainalign keeps things: cache, data home, shared test data. Nothing touches disk at import."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Activation and simulated-data cache: ``$BRAINALIGN_CACHE`` or ``~/.cache/brainalign``."""
    env = os.environ.get("BRAINALIGN_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "brainalign"


def data_home() -> Path:
    """Downloaded and imported datasets: ``$BRAINALIGN_HOME`` or ``<cache_dir>/data``."""
    env = os.environ.get("BRAINALIGN_HOME")
    return Path(env).expanduser() if env else cache_dir() / "data"


def shared_data_dir() -> Path:
    """The real-data folder used by tests and real-data benchmarks.

    ``$BRAINALIGN_SHARED_DATA``; else ``../shared/data`` relative to the working directory, or,
    when that does not exist, relative to the source checkout brainalign runs from (so the
    real-data benchmarks do not vanish when a command runs from another folder).
    """
    env = os.environ.get("BRAINALIGN_SHARED_DATA")
    if env:
        return Path(env).expanduser()
    here = Path("../shared/data")
    beside_checkout = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return here if here.is_dir() or not beside_checkout.is_dir() else beside_checkout.resolve()
