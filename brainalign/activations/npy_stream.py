"""Write float32 ``.npy`` files front to back, a block of rows at a time, off the main thread.

Extraction produces each layer's activations one batch of rows at a time. Writing them through
the page cache (a memmap, or plain ``write``) costs a memory copy and page allocation per byte on
the CPU that runs the forward pass. Here each block is copied once into a page-aligned staging
buffer and written by a background thread, so the write overlaps the next forward pass; where
the operating system allows it the file is opened with ``O_DIRECT``, and the device reads the
buffer itself, with almost no CPU time spent (Linux; elsewhere, or on file systems that refuse
``O_DIRECT`` such as tmpfs, ordinary buffered writes are used).

Direct I/O needs offsets and lengths that are multiples of the block size, so the ``.npy``
header is padded to :data:`ALIGN` bytes and the bytes after the last aligned boundary of a block
are carried over to the front of the next one; :meth:`NpyStream.close` writes the padded tail
and truncates the file to its exact length.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

ALIGN = 4096  # a multiple of every logical block size O_DIRECT may require
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
    :meth:`close` once every row is appended; the file is complete only then.
    """

    def __init__(self, path: str | os.PathLike, shape: tuple[int, int], executor: ThreadPoolExecutor):
        self.path, self.shape, self._executor = os.fspath(path), (int(shape[0]), int(shape[1])), executor
        self._fd, self.direct = _open_for_writing(self.path)
        self._offset = 0  # file offset of the staging buffer's first byte (always a multiple of ALIGN)
        self._rows = 0
        self._tail_from = 0  # where the carried bytes sit until the write in flight is done
        self._pending: Future | None = None
        self._staging = np.frombuffer(mmap.mmap(-1, ALIGN), dtype=np.uint8)
        header = npy_header(self.shape)
        self._staging[:len(header)] = np.frombuffer(header, dtype=np.uint8)
        self._carry = len(header)  # bytes at the front of the staging buffer not yet written

    def append(self, rows: np.ndarray) -> None:
        """Queue float32 rows (batch, n_cols) for writing; ``rows`` may be reused once this returns."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.shape[1] or self._rows + rows.shape[0] > self.shape[0]:
            raise ValueError(f"rows of shape {rows.shape} do not fit the remaining rows of {self.shape}")
        self._wait()
        nbytes = rows.size * 4
        if self._staging.size < self._carry + nbytes:
            self._grow(self._carry + nbytes)
        target = torch.from_numpy(self._staging[self._carry:self._carry + nbytes].view("<f4"))
        target.copy_(torch.from_numpy(np.ascontiguousarray(rows, dtype="<f4")).reshape(-1))  # multi-threaded copy
        self._rows += rows.shape[0]
        filled = self._carry + nbytes
        aligned = filled - filled % ALIGN
        if aligned:
            self._pending = self._executor.submit(self._write, self._staging[:aligned], self._offset)
            self._offset += aligned
        self._carry = filled - aligned
        self._tail_from = aligned

    def close(self) -> None:
        """Write what remains, cut the file to its exact size and sync it to disk."""
        self._wait()
        if self._rows != self.shape[0]:
            raise ValueError(f"{self._rows} of {self.shape[0]} rows were appended to {self.path}")
        if self._carry:
            self._write(self._staging[:ALIGN], self._offset)  # padded to one aligned block
            os.ftruncate(self._fd, self._offset + self._carry)
        os.fsync(self._fd)
        self.abort()

    def abort(self) -> None:
        """Stop writing (after any write in flight) and close the file; it is left as it is."""
        if self._fd is not None:
            try:
                self._wait()
            finally:
                os.close(self._fd)
                self._fd = None

    def _wait(self) -> None:
        """Wait for the write in flight, then move the carried bytes to the front of the buffer."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()
            if self._carry:
                self._staging[:self._carry] = self._staging[self._tail_from:self._tail_from + self._carry]

    def _grow(self, size: int) -> None:
        staging = np.frombuffer(mmap.mmap(-1, -(-size // ALIGN) * ALIGN), dtype=np.uint8)
        staging[:self._carry] = self._staging[:self._carry]
        self._staging = staging

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
