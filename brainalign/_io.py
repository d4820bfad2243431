"""Atomic file writing and content hashing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import InputError, OutputExistsError


def check_output_path(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Return ``path`` as a Path, refusing one that cannot become the output file (or ``folder``).

    Refused: a folder where a file is wanted, a file where a folder is wanted, and a path below
    a file (``out.csv/x``); each raises :class:`~brainalign.errors.InputError` before any work.
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise InputError(f"{path} is a file, not a folder", hint="name a new or existing folder")
    if not folder and path.is_dir():
        raise InputError(f"{path} is a folder, not a file", hint=f"name a file, such as {path / 'NAME'}")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"cannot write {path}: {parent} is a file, not a folder",
                                 hint="choose a path inside a folder")
            break
    return path


def check_writable(path: str | os.PathLike, *, overwrite: bool) -> Path:
    """Return ``path`` as a Path, refusing an existing file unless ``overwrite`` (see :func:`check_output_path`)."""
    path = check_output_path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists", hint="pass --overwrite to replace it")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    If the body raises, the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp creates 0600; give the file the mode a plain open() would
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented strict JSON (see :func:`dumps_json`) to ``path`` atomically."""
    return write_text_atomic(path, dumps_json(obj, sort_keys=True) + "\n")


def dumps_json(obj, *, indent: int | None = 2, sort_keys: bool = False, default=None) -> str:
    """``obj`` as strict JSON: NaN and infinities become ``null``, numpy values plain numbers and lists.

    Bare ``NaN``/``Infinity`` tokens are not JSON (browsers, ``jq`` and most parsers reject them);
    every JSON brainalign writes goes through here. ``default`` converts any other object
    (``str`` for a best-effort dump); without it such objects raise ``TypeError``.

    Examples
    --------
    >>> import numpy as np
    >>> dumps_json({"ceiling": float("nan"), "raw": np.float32(0.5), "ci": np.array([-np.inf, 1.0])}, indent=None)
    '{"ceiling": null, "raw": 0.5, "ci": [null, 1.0]}'
    """
    return json.dumps(json_safe(obj, default=default), indent=indent, sort_keys=sort_keys, allow_nan=False)


def json_safe(obj, *, default=None):
    """``obj`` with non-finite floats as None, numpy scalars and arrays as Python values and paths as text."""
    import numpy as np

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, dict):
        return {key if isinstance(key, (str, int, float, bool)) or key is None else str(key):
                json_safe(value, default=default) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(value, default=default) for value in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            values = obj.astype(object)
            values[~np.isfinite(obj)] = None
            return values.tolist()
        return json_safe(obj.tolist(), default=default)
    if isinstance(obj, np.generic):
        return json_safe(obj.item(), default=default)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if default is None:
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
    return json_safe(default(obj))


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(*parts: bytes) -> str:
    """Hex sha256 of the concatenation of ``parts`` (each length-prefixed, so it is unambiguous)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def source_hash(*modules) -> str:
    """Short sha256 of the source files of ``modules``, so cache entries change when the code does."""
    return sha256_bytes(*(Path(m.__file__).read_bytes() for m in modules))[:16]
