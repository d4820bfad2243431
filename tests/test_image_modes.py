"""Every image mode Pillow reads is converted to [0, 1] exactly or refused with one line; bombs too."""

from __future__ import annotations

import io

import numpy as np
import pytest
from cli_helpers import error_line, run
from PIL import Image

from brainalign.errors import FileFormatError
from brainalign.stimuli import resolve_stimuli
from brainalign.stimuli.images import decode_image

GRADIENT16 = (np.arange(4 * 256).reshape(4, 256) * 64).astype(np.uint16)   # 0 .. 65472
GRADIENT_F = np.linspace(0.0, 1.0, 4 * 256, dtype=np.float32).reshape(4, 256)


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "PPM"])
def test_16_bit_gray_is_scaled_by_65535(fmt):
    out = decode_image(_encode(Image.fromarray(GRADIENT16), fmt), f"g.{fmt.lower()}")
    assert out.dtype == np.float32 and out.shape == (4, 256, 3)
    np.testing.assert_allclose(out[..., 1], GRADIENT16 / 65535.0, atol=1e-7)
    assert out.max() == pytest.approx(65472 / 65535)   # Pillow's 8-bit conversion would give 1.0 (clipped)


def test_16_bit_big_endian_tiff():
    image = Image.frombytes("I;16B", (256, 4), GRADIENT16.astype(">u2").tobytes())
    out = decode_image(_encode(image, "TIFF"), "be.tif")
    np.testing.assert_allclose(out[..., 0], GRADIENT16 / 65535.0, atol=1e-7)


def test_16_bit_png_through_a_folder(tmp_path):
    Image.fromarray(GRADIENT16).save(tmp_path / "gradient.png")
    out = resolve_stimuli(str(tmp_path)).load(0)
    np.testing.assert_allclose(out[..., 2], GRADIENT16 / 65535.0, atol=1e-7)


def test_float_tiff_in_0_1_is_taken_as_is():
    out = decode_image(_encode(Image.fromarray(GRADIENT_F), "TIFF"), "f.tif")
    np.testing.assert_array_equal(out[..., 0], GRADIENT_F)


@pytest.mark.parametrize("values, words", [
    (GRADIENT_F * 255, "values in [0, 255], outside [0, 1]"),
    (GRADIENT_F - 0.5, "outside [0, 1]"),
    (np.where(GRADIENT_F > 0.5, np.nan, GRADIENT_F).astype(np.float32), "NaN or infinite"),
    (np.where(GRADIENT_F > 0.5, np.inf, GRADIENT_F).astype(np.float32), "NaN or infinite"),
])
def test_float_images_outside_0_1_are_refused(values, words):
    with pytest.raises(FileFormatError, match="cannot use image bad.tif") as caught:
        decode_image(_encode(Image.fromarray(values.astype(np.float32)), "TIFF"), "bad.tif")
    assert words in caught.value.message


def test_32_bit_integer_images_are_refused():
    image = Image.fromarray((GRADIENT16.astype(np.int32) * 1000))
    with pytest.raises(FileFormatError, match="32-bit integer image"):
        decode_image(_encode(image, "TIFF"), "i.tif")


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGBA" if image.mode in ("P", "PA") else "RGB"))[..., :3] / 255.0


@pytest.mark.parametrize("mode, fmt", [("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("P", "GIF"),
                                       ("RGB", "JPEG"), ("RGBA", "PNG"), ("CMYK", "JPEG"), ("CMYK", "TIFF"),
                                       ("YCbCr", "JPEG"), ("RGBX", "TIFF")])
def test_eight_bit_modes_match_pillows_rgb_with_alpha_dropped(mode, fmt):
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (8, 8, 4), dtype=np.uint8), "RGBA")
    image = base.convert(mode) if mode not in ("P", "PA") else base.convert("RGB").quantize(16).convert(mode)
    data = _encode(image, fmt)
    reopened = Image.open(io.BytesIO(data))
    out = decode_image(data, f"x.{fmt.lower()}")
    np.testing.assert_allclose(out, _rgb(reopened), atol=1e-7)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_modes_without_rgb_intensities_are_refused():
    with pytest.raises(FileFormatError, match="image mode LAB"):
        decode_image(_encode(Image.new("LAB", (4, 4)), "TIFF"), "lab.tif")


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = _encode(Image.new("1", (12000, 12000)), "PNG")   # 144 Mpixels in 20 kB
    with pytest.raises(FileFormatError) as caught:
        decode_image(bomb, "bomb.png")
    assert caught.value.message == ("image bomb.png has 144,000,000 pixels, over the decompression-bomb limit "
                                    f"of {Image.MAX_IMAGE_PIXELS:,} pixels")


def test_cli_gives_one_line_naming_the_file_and_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1100)   # a 40 x 40 image is then over the limit
    Image.new("L", (40, 40)).save(tmp_path / "big.png")
    line = error_line(run("extract", "pixels", "--stimuli", tmp_path, "-o", tmp_path / "a.nc", "-q"))
    assert "big.png has 1,600 pixels, over the decompression-bomb limit of 1,100 pixels" in line
    Image.fromarray(GRADIENT_F * 2).save(tmp_path / "big.tif")
    (tmp_path / "big.png").unlink()
    line = error_line(run("extract", "pixels", "--stimuli", tmp_path, "-o", tmp_path / "a.nc", "-q"))
    assert "big.tif: float image with values in [0, 2], outside [0, 1]" in line
    assert not (tmp_path / "a.nc").exists()
