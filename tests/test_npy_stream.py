"""Streamed .npy writing: files equal np.save's values for any row size and batch split, on every write path."""

import errno
import io
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from brainalign.activations import npy_stream
from brainalign.activations.cache import ActivationCache
from brainalign.activations.npy_stream import ALIGN, NpyStream, npy_header


@pytest.fixture
def executor():
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def _write(path, values, splits, executor):
    stream = NpyStream(path, values.shape, executor)
    for rows in np.split(values, splits):
        stream.append(rows)
    stream.close()
    return stream


@pytest.mark.parametrize("shape, splits", [
    ((7, 1), [3]),  # far less than one block in all
    ((10, 1000), [4, 8]),  # rows straddle block boundaries, last batch smaller
    ((6, 1024), [1, 2, 3, 4, 5]),  # exactly one block per row
    ((5, 3001), [1, 4]),  # the second batch is larger than the first: the staging buffer grows
    ((3, 5000), []),  # a single batch
])
def test_streamed_file_equals_the_array(tmp_path, executor, shape, splits):
    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _write(tmp_path / "a.npy", values, splits, executor)
    assert os.path.getsize(tmp_path / "a.npy") == ALIGN + values.nbytes
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), values)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy", mmap_mode="r"), values)


def test_header_is_a_valid_npy_header_of_one_block():
    header = npy_header((12, 345))
    assert len(header) == ALIGN and header.endswith(b"\n")
    stream = io.BytesIO(header)
    assert np.lib.format.read_magic(stream) == (1, 0)
    assert np.lib.format.read_array_header_1_0(stream) == ((12, 345), False, np.dtype("<f4"))


@pytest.mark.parametrize("missing", [("O_DIRECT",), ("O_DIRECT", "pwrite")])  # e.g. macOS; Windows
def test_buffered_path_when_direct_io_is_unavailable(tmp_path, executor, monkeypatch, missing):
    for name in missing:
        monkeypatch.delattr(os, name, raising=False)
    values = np.arange(4 * 777, dtype=np.float32).reshape(4, 777)
    stream = _write(tmp_path / "b.npy", values, [1, 3], executor)
    assert not stream.direct
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), values)


def test_direct_io_refused_at_write_time_falls_back_to_buffered(tmp_path, executor, monkeypatch):
    real_pwrite, refused = os.pwrite, []

    def pwrite(fd, data, offset):
        if not refused:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(npy_stream.os, "pwrite", pwrite)
    values = np.random.default_rng(1).standard_normal((9, 2000)).astype(np.float32)
    stream = NpyStream(tmp_path / "c.npy", values.shape, executor)
    if not stream.direct:
        pytest.skip("this file system has no O_DIRECT")
    for rows in np.split(values, [2, 5]):
        stream.append(rows)
    stream.close()
    assert refused and not stream.direct
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), values)


def test_wrong_rows_are_refused(tmp_path, executor):
    stream = NpyStream(tmp_path / "d.npy", (4, 10), executor)
    with pytest.raises(ValueError, match="do not fit"):
        stream.append(np.zeros((2, 11), np.float32))
    stream.append(np.zeros((3, 10), np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        stream.append(np.zeros((2, 10), np.float32))
    with pytest.raises(ValueError, match="3 of 4 rows"):
        stream.close()
    stream.abort()


def test_cache_writer_keeps_nothing_after_an_error(tmp_path):
    cache = ActivationCache(tmp_path)
    with pytest.raises(RuntimeError, match="forward failed"):
        with cache.writer() as create:
            create("ab" + "0" * 62, (4, 3000)).append(np.ones((2, 3000), np.float32))
            raise RuntimeError("forward failed")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert cache.get("ab" + "0" * 62) is None
    with cache.writer() as create:
        create("ab" + "0" * 62, (2, 3000)).append(np.ones((2, 3000), np.float32))
    np.testing.assert_array_equal(cache.get("ab" + "0" * 62), np.ones((2, 3000), np.float32))


def test_a_full_disk_is_one_clear_error_and_leaves_no_file(tmp_path, monkeypatch):
    from brainalign.errors import StorageError

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(npy_stream.os, "pwrite", full)
    cache = ActivationCache(tmp_path)
    with pytest.raises(StorageError, match=f"cannot write to {tmp_path}: no space left on the device") as caught:
        with cache.writer() as create:
            stream = create("cd" + "0" * 62, (8, 3000))
            for _ in range(4):
                stream.append(np.ones((2, 3000), np.float32))
    assert "BRAINALIGN_CACHE" in caught.value.hint
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("shape, splits", [((10, 1000), [4, 8]), ((7, 1), [3]), ((5, 3001), [1, 4])])
def test_rows_written_into_the_reserved_staging_buffer_are_not_copied_and_equal_the_array(
        tmp_path, executor, monkeypatch, shape, splits):
    values = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    copies = []
    real_copy = npy_stream.torch.Tensor.copy_
    monkeypatch.setattr(npy_stream.torch.Tensor, "copy_", lambda self, other: copies.append(1) or real_copy(self, other))
    stream = NpyStream(tmp_path / "a.npy", shape, executor)
    for rows in np.split(values, splits):
        target = stream.reserve(len(rows))
        target[...] = rows
        stream.append(target)
    stream.close()
    assert copies == []
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), values)


@pytest.mark.skipif(not hasattr(npy_stream.mmap, "MADV_FREE"), reason="staging buffers are pooled only with MADV_FREE")
def test_a_second_extraction_of_the_same_shapes_reuses_every_pooled_staging_buffer(tmp_path, executor, monkeypatch):
    # two layers of different widths, as in an extraction: the second set of streams must find
    # each large buffer in the pool (no new mapping), not have the pooled ones taken by the small
    # buffers every stream starts with
    monkeypatch.setattr(npy_stream, "_pool", [])
    made = []
    real = npy_stream.mmap.mmap

    def counting(*args, **kwargs):
        made.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(npy_stream.mmap, "mmap", counting)
    values = {name: np.random.default_rng(1).standard_normal((4, width)).astype(np.float32)
              for name, width in (("wide", 2 ** 19), ("narrow", 2 ** 17))}  # 2 MiB and 512 KiB per row
    for run in range(2):
        made.clear()
        streams = {name: NpyStream(tmp_path / f"{name}{run}.npy", array.shape, executor)
                   for name, array in values.items()}
        for start in (0, 2):
            for name, stream in streams.items():
                stream.append(values[name][start:start + 2])
        for stream in streams.values():
            stream.close()
        large = [size for size in made if size >= 2 ** 20]
        assert len(large) == (4 if run == 0 else 0)  # two per stream the first time, none after
        for name, array in values.items():
            np.testing.assert_array_equal(np.load(tmp_path / f"{name}{run}.npy"), array)
