"""Decode image files to the models' input range: float32 (H, W, 3) in [0, 1].

Every Pillow mode is either converted exactly or refused with one error naming the file:

========================  ====================================================================
mode                      conversion
========================  ====================================================================
``1``, ``L``, ``P``,      Pillow's conversion to 8-bit RGB, divided by 255 (palette images
``RGB``, ``CMYK``,        through their palette, CMYK and YCbCr by Pillow's formulas; alpha
``YCbCr``, ``HSV``,       channels are dropped, not composited)
``LA``, ``PA``, ``RGBA``,
``RGBX``, ``La``, ``RGBa``
``I;16`` (any byte        divided by 65535 (16-bit PNG, TIFF, PGM ...)
order)
``I``                     16-bit sources that Pillow widens to 32 bits (PNG, PPM/PGM): divided
                          by 65535; other 32-bit integer images have no agreed range and are
                          refused
``F`` (float TIFF)        taken as is: values must lie in [0, 1] (no NaN or infinity); others
                          are refused rather than silently clipped or rescaled
anything else (``LAB``,   refused
``I;16S`` ...)
========================  ====================================================================

Images larger than Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``, 89,478,485
pixels by default) are refused before they are decoded, with the file, its size and the limit.
"""

from __future__ import annotations

import io
import re
import warnings

import numpy as np

from ..errors import FileFormatError
from .stimulus_set import as_rgb_float

#: Modes whose 8-bit conversion to RGB is exact (alpha, when present, is dropped).
EIGHT_BIT_MODES = frozenset({"1", "L", "P", "RGB", "CMYK", "YCbCr", "HSV", "LA", "PA", "RGBA", "RGBX", "La", "RGBa"})
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
#: Formats whose 16-bit images Pillow opens as mode ``I`` (32-bit) with values in [0, 65535].
WIDENED_16_BIT_FORMATS = frozenset({"PNG", "PPM"})
_SUPPORTED = "PNG, JPEG, BMP, TIFF, GIF, WebP"


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode image bytes to float32 (H, W, 3) in [0, 1]; FileFormatError naming ``name`` if the
    file is unreadable, too large or in a mode without a defined intensity range."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return image_to_rgb_float(image, name)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(str(exc), name) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise FileFormatError(f"cannot read image {name} ({type(exc).__name__})",
                              hint=f"remove or replace the file; supported: {_SUPPORTED}") from None


def image_to_rgb_float(image, name: str) -> np.ndarray:
    """A decoded Pillow ``image`` as float32 (H, W, 3) in [0, 1] (see the module docstring for each
    mode); FileFormatError naming ``name`` for modes or values without a defined range."""
    mode = image.mode
    if mode in EIGHT_BIT_MODES:
        rgb = image if mode == "RGB" else image.convert("RGBA" if mode in ("P", "PA") else "RGB")
        return as_rgb_float(np.asarray(rgb)[..., :3])
    if mode in SIXTEEN_BIT_MODES or (mode == "I" and image.format in WIDENED_16_BIT_FORMATS):
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 65535:
            raise _refused(name, f"16-bit image with values outside [0, 65535] ({values.min()}..{values.max()})")
        return as_rgb_float(values.astype(np.float32) / 65535.0)
    if mode == "I":
        raise _refused(name, "32-bit integer image, whose intensity range is not defined")
    if mode == "F":
        values = np.asarray(image, dtype=np.float32)
        if not np.isfinite(values).all():
            raise _refused(name, "float image with NaN or infinite values")
        low, high = float(values.min()), float(values.max())
        if low < 0.0 or high > 1.0:
            raise _refused(name, f"float image with values in [{low:.6g}, {high:.6g}], outside [0, 1]")
        return as_rgb_float(values)
    raise _refused(name, f"image mode {mode}, which has no conversion to RGB intensities")


def _refused(name: str, what: str) -> FileFormatError:
    return FileFormatError(f"cannot use image {name}: {what}",
                           hint="save it as 8- or 16-bit PNG, or as a float TIFF with values in [0, 1]")


def _too_large(message: str, name: str) -> FileFormatError:
    from PIL import Image

    match = re.search(r"\((\d+) pixels\)", message)
    size = f" has {int(match.group(1)):,} pixels," if match else ""
    return FileFormatError(f"image {name}{size} over the decompression-bomb limit of {Image.MAX_IMAGE_PIXELS:,} pixels",
                           hint="downscale it (models take a few hundred pixels a side); the limit is Pillow's "
                                "PIL.Image.MAX_IMAGE_PIXELS")
