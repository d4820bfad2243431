"""Stimulus sources: folders, zips, content hashes, unreadable images."""

import zipfile

import numpy as np
import pytest
from PIL import Image

from brainalign.errors import DataError, FileFormatError, InputError
from brainalign.stimuli import as_rgb_float, resolve_stimuli


def test_folder_ids_are_relative_paths_in_sorted_order(image_folder):
    stimuli = resolve_stimuli(str(image_folder))
    assert list(stimuli.stimulus_ids) == ["a/img0", "a/img1", "a/img2", "b/img0", "b/img1", "b/img2"]
    expected = np.asarray(Image.open(image_folder / "b" / "img1.png"), dtype=np.float32) / 255
    np.testing.assert_allclose(stimuli.load(4), expected)


def test_zip_gives_same_ids_and_pixels_as_folder(image_folder, tmp_path):
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(image_folder.rglob("*.png")):
            handle.write(path, path.relative_to(image_folder).as_posix())
    folder, zipped = resolve_stimuli(str(image_folder)), resolve_stimuli(str(archive))
    assert list(zipped.stimulus_ids) == list(folder.stimulus_ids)
    np.testing.assert_array_equal(zipped.load(2), folder.load(2))


def test_content_hash_changes_with_one_pixel(image_folder):
    before = resolve_stimuli(str(image_folder)).content_hash
    path = image_folder / "a" / "img0.png"
    pixels = np.asarray(Image.open(path)).copy()
    pixels[0, 0, 0] ^= 1
    Image.fromarray(pixels).save(path)
    assert resolve_stimuli(str(image_folder)).content_hash != before


def test_unreadable_image_names_the_file(image_folder):
    (image_folder / "a" / "broken.png").write_bytes(b"not a png")
    stimuli = resolve_stimuli(str(image_folder))
    index = list(stimuli.stimulus_ids).index("a/broken")
    with pytest.raises(FileFormatError, match="broken.png"):
        stimuli.load(index)


def test_bad_sources(tmp_path):
    with pytest.raises(InputError, match="no stimulus set"):
        resolve_stimuli(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        resolve_stimuli(str(tmp_path / "empty"))
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(FileFormatError, match="zip"):
        resolve_stimuli(str(tmp_path / "bad.zip"))


def test_same_stem_different_suffix_is_refused(image_folder):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(image_folder / "a" / "img0.jpg")
    with pytest.raises(DataError, match="same stimulus_id"):
        resolve_stimuli(str(image_folder))


def test_as_rgb_float_converts_gray_and_uint8():
    out = as_rgb_float(np.full((2, 3), 255, np.uint8))
    assert out.shape == (2, 3, 3) and out.dtype == np.float32 and np.all(out == 1.0)


def test_subset_keeps_requested_order(image_folder):
    stimuli = resolve_stimuli(str(image_folder))
    part = stimuli.subset(["b/img2", "a/img0"])
    assert list(part.stimulus_ids) == ["b/img2", "a/img0"]
    np.testing.assert_array_equal(part.load(0), stimuli.load(5))
    with pytest.raises(DataError, match="not in stimulus set"):
        stimuli.subset(["zzz"])
