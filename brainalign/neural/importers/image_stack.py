"""Image stacks: one ``.npy`` array of uint8 images, (n, H, W) grayscale or (n, H, W, 3) RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import FileFormatError
from .registry import Importer, register_importer


def is_image_stack(shape: tuple[int, ...], dtype) -> bool:
    """Whether an array of ``shape`` and ``dtype`` is a stack of uint8 images (grayscale or RGB)."""
    return np.dtype(dtype) == np.uint8 and (len(shape) == 3 or (len(shape) == 4 and shape[-1] == 3))


def read_image_stack(path) -> np.ndarray:
    """The uint8 array (n, H, W[, 3]) at ``path``; FileFormatError for any other array."""
    path = Path(path)
    try:
        images = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"cannot read {path} as a .npy array ({exc})") from None
    if not is_image_stack(images.shape, images.dtype):
        raise FileFormatError(f"{path.name}: shape {images.shape} {images.dtype} is not a stack of images",
                              hint="expected uint8 of shape (n, H, W) or (n, H, W, 3)")
    return images


@register_importer
class ImageStackImporter(Importer):
    """A ``.npy`` stack of uint8 images, recognised by its header; ``open`` returns the array."""

    name = "image-stack"
    description = "a stack of uint8 images in one .npy file, (n, H, W) grayscale or (n, H, W, 3) RGB"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        if path.suffix != ".npy" or not path.is_file():
            return False
        try:
            header = np.load(path, mmap_mode="r", allow_pickle=False)  # reads the header only
        except (OSError, ValueError):
            return False
        return is_image_stack(header.shape, header.dtype)

    def open(self, path, **options) -> np.ndarray:
        return read_image_stack(path)
