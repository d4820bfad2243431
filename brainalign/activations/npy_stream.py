"""Write float32 ``.npy`` files front to back, a block of rows at a time, off the main thread.

Extraction produces each layer's activations one batch of rows at a time. Writing them through
the page cache (a memmap, or plain ``write``) costs a memory copy and page allocation per byte on
the CPU that runs the forward pass. Here each block goes once into a page-aligned staging buffer
(the producer may write it there itself: :meth:`NpyStream.reserve`) and is written by a
background thread, so the write overlaps the next forward pass; where
the operating system allows it the file is opened with ``O_DIRECT``, and the device reads the
buffer itself, with almost no CPU time spent (Linux; elsewhere, or on file systems that refuse
``O_DIRECT`` such as tmpfs, ordinary buffered writes are used).

Direct I/O needs offsets and lengths that are multiples of the block size, so the ``.npy``
header is padded to :data:`ALIGN` bytes and the bytes after the last aligned boundary of a block
are carried over to the front of the next one; :meth:`NpyStream.close` writes the padded tail
and truncates the file to its exact length.

Staging buffers (huge pages where the kernel offers them) go back to a small pool when a stream
ends, marked ``MADV_FREE``: the next extraction reuses them without page faults unless the OS
needed the memory meanwhile, in which case it has taken the pages back. Where ``MADV_FREE`` is
not available nothing is kept.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

ALIGN = 4096  # a multiple of every logical block size O_DIRECT may require
_POOL_BYTES = 2 ** 31  # staging memory kept for later streams (reclaimable by the OS meanwhile)
_POOLED_MIN = 2 ** 20  # smaller staging buffers are cheap to make, and are neither kept nor taken from the pool
_pool: list[mmap.mmap] = []
_pool_lock = threading.Lock()
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def npy_header(shape: tuple[int, ...]) -> bytes:
    """A version-1.0 ``.npy`` header for a C-order little-endian float32 array, padded to ALIGN bytes."""
    text = repr({"descr": "<f4", "fortran_order": False, "shape": tuple(int(s) for s in shape)})
    prefix = b"\x93NUMPY\x01\x00"
    length = ALIGN - len(prefix) - 2
    return prefix + struct.pack("<H", length) + text.ljust(length - 1).encode("latin1") + b"\n"


class NpyStream:
    """One float32 (n_rows, n_cols) ``.npy`` file at ``path``, filled by :meth:`append` in row order.

    ``executor`` runs the writes (a single-thread pool keeps them in order per file). Call
    :meth:`close` once every row is appended; the file is complete only then. Two staging
    buffers alternate, so a block can be filled while the previous one is being written; the
    producer may write the next rows straight into the staging buffer (:meth:`reserve`), which
    saves the copy that :meth:`append` makes otherwise.
    """

    def __init__(self, path: str | os.PathLike, shape: tuple[int, int], executor: ThreadPoolExecutor):
        self.path, self.shape, self._executor = os.fspath(path), (int(shape[0]), int(shape[1])), executor
        self._fd, self.direct = _open_for_writing(self.path)
        self._offset = 0  # file offset of the staging buffer's first byte (always a multiple of ALIGN)
        self._rows = 0
        self._maps = [_take_map(ALIGN), _take_map(ALIGN)]
        self._buffers = [np.frombuffer(m, dtype=np.uint8) for m in self._maps]
        self._pending: list[Future | None] = [None, None]  # the write in flight from each buffer
        self._current = 0
        header = npy_header(self.shape)
        self._buffers[0][:len(header)] = np.frombuffer(header, dtype=np.uint8)
        self._carry = len(header)  # bytes at the front of the current buffer not yet written

    def reserve(self, n_rows: int) -> np.ndarray:
        """A float32 (n_rows, n_cols) array in the staging buffer where the next rows go.

        Fill it, then pass it (or a reshaped view of it) to :meth:`append`, which then copies
        nothing. Valid until the next :meth:`append`.
        """
        return self._target(int(n_rows) * self.shape[1] * 4).view("<f4").reshape(int(n_rows), self.shape[1])

    def append(self, rows: np.ndarray) -> None:
        """Queue float32 rows (batch, n_cols) for writing; ``rows`` may be reused once this returns."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.shape[1] or self._rows + rows.shape[0] > self.shape[0]:
            raise ValueError(f"rows of shape {rows.shape} do not fit the remaining rows of {self.shape}")
        nbytes = rows.size * 4
        target = self._target(nbytes)
        if not (rows.dtype == np.dtype("<f4") and rows.flags.c_contiguous and rows.size
                and rows.__array_interface__["data"][0] == target.__array_interface__["data"][0]):
            torch.from_numpy(target.view("<f4")).copy_(  # a multi-threaded copy
                torch.from_numpy(np.ascontiguousarray(rows, dtype="<f4")).reshape(-1))
        self._rows += rows.shape[0]
        filled = self._carry + nbytes
        aligned = filled - filled % ALIGN
        self._carry = filled - aligned
        if not aligned:
            return
        buffer = self._buffers[self._current]
        self._pending[self._current] = self._executor.submit(self._write, buffer[:aligned], self._offset)
        self._offset += aligned
        self._current = 1 - self._current
        self._wait(self._current)
        self._buffers[self._current][:self._carry] = buffer[aligned:filled]

    def close(self) -> None:
        """Write what remains, cut the file to its exact size and sync it to disk."""
        self._wait(0)
        self._wait(1)
        if self._rows != self.shape[0]:
            raise ValueError(f"{self._rows} of {self.shape[0]} rows were appended to {self.path}")
        if self._carry:
            self._write(self._buffers[self._current][:ALIGN], self._offset)  # padded to one aligned block
            os.ftruncate(self._fd, self._offset + self._carry)
        os.fsync(self._fd)
        self.abort()

    def abort(self) -> None:
        """Stop writing (after any write in flight) and close the file; it is left as it is.

        A failed write in flight is not raised again: :meth:`append` and :meth:`close` raise it.
        """
        if self._fd is not None:
            for index in (0, 1):
                pending, self._pending[index] = self._pending[index], None
                if pending is not None:
                    pending.exception()  # waits
            os.close(self._fd)
            self._fd = None
            self._buffers = []
            for staging in self._maps:
                _give_map(staging)
            self._maps = []

    def _target(self, nbytes: int) -> np.ndarray:
        """The ``nbytes`` of the current staging buffer after the carried bytes (grown as needed)."""
        self._wait(self._current)
        buffer = self._buffers[self._current]
        if buffer.size < self._carry + nbytes:
            grown = _take_map(self._carry + nbytes)
            view = np.frombuffer(grown, dtype=np.uint8)
            view[:self._carry] = buffer[:self._carry]
            _give_map(self._maps[self._current])
            self._maps[self._current], buffer = grown, view
            self._buffers[self._current] = buffer
        return buffer[self._carry:self._carry + nbytes]

    def _wait(self, index: int) -> None:
        """Wait for the write in flight from staging buffer ``index``, if any."""
        pending, self._pending[index] = self._pending[index], None
        if pending is not None:
            pending.result()

    def _write(self, block: np.ndarray, offset: int) -> None:
        view = memoryview(block)
        written = 0
        while written < len(view):
            try:
                written += _pwrite(self._fd, view[written:], offset + written)
            except OSError as exc:
                if not (self.direct and exc.errno == errno.EINVAL):
                    raise
                self._reopen_buffered()  # some file systems accept O_DIRECT at open but not at write

    def _reopen_buffered(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | _BINARY)
        os.close(self._fd)
        self._fd, self.direct = fd, False


def _take_map(size: int) -> mmap.mmap:
    """A page-aligned anonymous mapping of at least ``size`` bytes (a multiple of ALIGN).

    From :data:`_POOLED_MIN` bytes on, the smallest large enough one given back by an earlier
    stream is reused: its pages are still mapped, so filling it costs no page faults. New ones
    ask for transparent huge pages.
    """
    size = max(1, -(-size // ALIGN)) * ALIGN
    if size < _POOLED_MIN:  # a stream's first small buffer: a pooled one would leave a later stream short
        return mmap.mmap(-1, size)
    with _pool_lock:
        fitting = [m for m in _pool if len(m) >= size]
        if fitting:
            chosen = min(fitting, key=len)
            _pool.remove(chosen)
            return chosen
    private = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)  # MADV_FREE needs private
    mapping = mmap.mmap(-1, size, flags=private) if private else mmap.mmap(-1, size)
    if size >= 2 ** 21:
        _advise(mapping, "MADV_HUGEPAGE")
    return mapping


def _advise(mapping: mmap.mmap, advice: str) -> bool:
    """``madvise`` where the platform and kernel know the advice (a hint: False when refused)."""
    try:
        mapping.madvise(getattr(mmap, advice))
    except (AttributeError, OSError):
        return False
    return True


def _give_map(mapping: mmap.mmap) -> None:
    """Keep ``mapping`` for a later stream, within :data:`_POOL_BYTES` (the largest kept first).

    Its pages are marked free to reclaim (``MADV_FREE``): the OS takes them back only when
    memory runs short, and a later writer then simply faults them in again.
    """
    if len(mapping) < _POOLED_MIN or not _advise(mapping, "MADV_FREE"):
        return  # small ones are cheap to make; without MADV_FREE the pages would stay in memory
    with _pool_lock:
        _pool.append(mapping)
        _pool.sort(key=len, reverse=True)
        total = 0
        for index, kept in enumerate(_pool):
            total += len(kept)
            if total > _POOL_BYTES:
                del _pool[index:]
                break


def _open_for_writing(path: str) -> tuple[int, bool]:
    """``(fd, direct)``: the file opened for writing, with O_DIRECT when the platform and file system allow."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY
    direct = getattr(os, "O_DIRECT", 0)
    if direct:
        try:
            return os.open(path, flags | direct, 0o666), True
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
    return os.open(path, flags, 0o666), False


def _pwrite(fd: int, data, offset: int) -> int:
    """``os.pwrite``, or seek and write where it is missing (Windows; one writer per file, so no race)."""
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)
