"""StimulusSet: ordered stimulus ids, a way to load each image, and a metadata table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import DataError


@dataclass(frozen=True)
class StimulusSet:
    """An ordered set of images.

    Attributes
    ----------
    identifier : a readable name ("sim", a folder path, ...); not used for caching.
    metadata : DataFrame with one row per stimulus, in set order, with a unique ``stimulus_id``
        column and any other per-stimulus columns.
    loader : ``loader(i)`` returns image ``i`` as float32 array of shape (H, W, 3) in [0, 1].
    content_hash : sha256 over the stimulus ids and image contents; keys the activation cache.
    """

    identifier: str
    metadata: pd.DataFrame
    loader: Callable[[int], np.ndarray]
    content_hash: str

    def __post_init__(self):
        ids = pd.Index(self.metadata["stimulus_id"])
        if ids.has_duplicates:
            raise DataError(f"stimulus set {self.identifier!r} has duplicate stimulus_id "
                            f"{ids[ids.duplicated()][0]!r}")

    def __len__(self) -> int:
        return len(self.metadata)

    @property
    def stimulus_ids(self) -> np.ndarray:
        """ndarray of shape (n_stimuli,) of str."""
        return self.metadata["stimulus_id"].to_numpy(dtype=str)

    def load(self, index: int) -> np.ndarray:
        """Image ``index`` as float32 (H, W, 3) in [0, 1]."""
        return self.loader(index)

    def subset(self, stimulus_ids) -> "StimulusSet":
        """The stimuli named in ``stimulus_ids``, in that order (DataError if any is unknown)."""
        position = pd.Series(np.arange(len(self)), index=self.stimulus_ids)
        wanted = pd.Index(np.asarray(stimulus_ids, dtype=str))
        missing = wanted.difference(position.index)
        if len(missing):
            raise DataError(f"{len(missing)} stimulus id(s) not in stimulus set {self.identifier!r} "
                            f"(first: {missing[0]!r})")
        rows = position.loc[wanted].to_numpy()
        from ..safe_files import sha256_bytes
        return StimulusSet(identifier=self.identifier,
                           metadata=self.metadata.iloc[rows].reset_index(drop=True),
                           loader=lambda i: self.loader(int(rows[i])),
                           content_hash=sha256_bytes(self.content_hash.encode(), rows.astype(np.int64).tobytes()))


def as_rgb_float(image: np.ndarray) -> np.ndarray:
    """Convert a gray (H, W), (H, W, 1) or colour (H, W, 3|4) image, uint8 or float in [0, 1],
    to float32 (H, W, 3) in [0, 1]."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    else:
        array = array.astype(np.float32)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise DataError(f"an image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {array.shape}")
    if array.shape[-1] == 4:
        array = array[..., :3]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array)
