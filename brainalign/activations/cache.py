"""Content-keyed activation cache: one ``.npy`` per (weights, stimuli, preprocessing, layer).

The key never uses a user-given name: it hashes the weights' sha256, the stimulus set's content
hash, the layer name, the preprocessing record, the brainalign version and the source of the
layer-recording code (so a change in how outputs become activations never serves old values). A changed checkpoint
or image therefore misses the cache instead of returning stale activations.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .. import __version__
from ..config import cache_dir
from ..safe_files import new_temp_file, plain_name, sha256_bytes, source_hash, storage_errors, sweep_once
from .npy_stream import NpyStream

CACHE_FORMAT = "1"
CACHE_HINT = "free disk space, or point BRAINALIGN_CACHE at a larger or writable disk"


@functools.lru_cache(maxsize=1)
def _recorder_hash() -> str:
    """Source hash of the code that turns module outputs into activations (hooks, ViT tokens, graph nodes)."""
    from ..models import layers

    return source_hash(layers)


def activation_key(*, weights_sha256: str, stimuli_hash: str, layer: str, preprocessing: dict,
                   variant: dict | None = None) -> str:
    """Hex sha256 identifying one layer's activations for one model on one stimulus set.

    ``variant`` (e.g. ``{"precision": "fp16"}`` or ``{"kind": "kernel"}``) separates derived or
    differently computed entries; None keeps the plain float32 activations' key.
    """
    record = {"format": CACHE_FORMAT, "brainalign": __version__, "recorder": _recorder_hash(),
              "weights": weights_sha256, "stimuli": stimuli_hash, "layer": layer, "preprocessing": preprocessing}
    if variant:
        record["variant"] = variant
    return sha256_bytes(json.dumps(record, sort_keys=True).encode())


class ActivationCache:
    """Read and write cached activations under ``root`` (default: ``<cache_dir>/activations``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else cache_dir() / "activations"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{plain_name(key, 'cache key')}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached array (n_stimuli, n_units) float32, or None when absent or unreadable."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            return None

    @contextlib.contextmanager
    def writer(self) -> Iterator[Callable[[str, tuple], NpyStream]]:
        """Yield ``create(key, shape)``: an :class:`NpyStream` to append the (n_stimuli, n_units) rows to.

        Rows are written to disk as they arrive, by a background thread and bypassing the page
        cache where the OS allows (see :mod:`.npy_stream`). On leaving the block every file is
        completed, synced and renamed into the cache atomically; on an error or an interruption
        none is kept, and a full, read-only or forbidden cache folder becomes one StorageError.
        Temporaries left by killed writers are swept from the cache the first time a process writes.
        """
        created: list[tuple[NpyStream, Path]] = []

        def create(key: str, shape: tuple) -> NpyStream:
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            sweep_once(self.root, depth=1, legacy=True)
            created.append((NpyStream(new_temp_file(path.parent, path.name), shape, executor), path))
            return created[-1][0]

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brainalign-cache-writer")
        try:
            with storage_errors(self.root, CACHE_HINT):
                yield create
                for stream, _ in created:
                    stream.close()
                for stream, path in created:
                    os.replace(stream.path, path)
        finally:
            for stream, _ in created:
                with contextlib.suppress(OSError):   # a write in flight may fail too; the file goes anyway
                    stream.abort()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(stream.path)
            executor.shutdown()
