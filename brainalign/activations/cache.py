"""Content-keyed activation cache: one ``.npy`` per (weights, stimuli, preprocessing, layer).

The key never uses a user-given name: it hashes the weights' sha256, the stimulus set's content
hash, the layer name, the preprocessing record and the brainalign version. A changed checkpoint
or image therefore misses the cache instead of returning stale activations.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import __version__
from .._io import atomic_path, sha256_bytes
from ..config import cache_dir

CACHE_FORMAT = "1"


def activation_key(*, weights_sha256: str, stimuli_hash: str, layer: str, preprocessing: dict) -> str:
    """Hex sha256 identifying one layer's activations for one model on one stimulus set."""
    record = {"format": CACHE_FORMAT, "brainalign": __version__, "weights": weights_sha256,
              "stimuli": stimuli_hash, "layer": layer, "preprocessing": preprocessing}
    return sha256_bytes(json.dumps(record, sort_keys=True).encode())


class ActivationCache:
    """Read and write cached activations under ``root`` (default: ``<cache_dir>/activations``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else cache_dir() / "activations"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached array (n_stimuli, n_units) float32, or None when absent or unreadable."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            return None

    def put(self, key: str, values: np.ndarray) -> None:
        """Store ``values`` under ``key`` atomically."""
        with atomic_path(self._path(key)) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, np.ascontiguousarray(values, dtype=np.float32))
