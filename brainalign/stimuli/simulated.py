"""The embedded simulated stimulus set, generated from a seed on first use and cached on disk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import cache_dir
from ..safe_files import atomic_path, sha256_bytes, source_hash
from .stimulus_set import StimulusSet, as_rgb_float


def simulated_images(seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Images float32 (n_stimuli, 64, 64) in [0, 1] and their metadata, cached under the cache dir."""
    from . import procedural

    folder = cache_dir() / "simulated" / f"stimuli-seed{seed}-{source_hash(procedural)}"
    images_path, meta_path = folder / "images.npy", folder / "metadata.csv"
    if images_path.is_file() and meta_path.is_file():
        try:
            return np.load(images_path), pd.read_csv(meta_path, dtype={"stimulus_id": str})
        except (OSError, ValueError):
            pass  # a damaged cache entry is regenerated below
    images, metadata = procedural.simulated_stimuli(seed=seed)
    with atomic_path(images_path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, images)
    with atomic_path(meta_path) as tmp:
        metadata.to_csv(tmp, index=False)
    return images, metadata


def simulated_stimulus_set(seed: int = 0) -> StimulusSet:
    """The simulated benchmark's images as a StimulusSet named ``sim``."""
    images, metadata = simulated_images(seed)
    digest = sha256_bytes(str(seed).encode(),
                          "\n".join(metadata["stimulus_id"]).encode(), np.ascontiguousarray(images).tobytes())
    return StimulusSet(identifier="sim", metadata=metadata.reset_index(drop=True),
                       loader=lambda i: as_rgb_float(images[i]), content_hash=digest)
