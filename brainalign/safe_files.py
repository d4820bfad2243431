"""Atomic file writing, plain names, storage errors, stale temporaries and content hashing.

Every file brainalign writes goes through :func:`atomic_path` (or, for whole folders,
:func:`temporary_dir` and a rename): the bytes go to a hidden temporary beside the target and
are renamed onto it only when complete. A temporary's name embeds the writer's host and pid
(``.NAME.HOST-PID.RANDOM.tmp``), so :func:`sweep_stale` can delete the ones whose writer was
killed (kill -9, power loss) without ever touching a live writer's file. Errors of the folder
itself (full disk, quota, read-only, no permission) become one :class:`StorageError` naming it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path
from typing import Iterator

from .errors import InputError, OutputExistsError, StorageError


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



#: A plain name: starts with a letter, digit or '_', then letters, digits and ``. _ - + = @``.
_PLAIN_NAME = re.compile(r"\w[\w.+=@-]*")
MAX_NAME_BYTES = 128


def plain_name(value, what: str = "name") -> str:
    """``value`` if it is a plain file name, else InputError: the one check for user strings
    (dataset names, manifest file names, sessions, experiment names ...) that become part of a path.

    A plain name is 1-128 bytes of letters, digits, ``_``, ``.``, ``-``, ``+``, ``=`` and ``@``,
    starting with a letter, digit or ``_``; so never ``.``, ``..``, a hidden name, an absolute
    path or anything with a separator.

    Examples
    --------
    >>> plain_name("fz2013")
    'fz2013'
    >>> plain_name("../x", "dataset name")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    brainalign.errors.InputError: dataset name '../x' is not a plain name (hint: ...)
    """
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if not _PLAIN_NAME.fullmatch(text) or len(text.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise InputError(f"{what} {text!r} is not a plain name",
                         hint="use letters, digits, '_', '.', '-', '+', '=' or '@', starting with a letter, "
                              "digit or '_'; no '/', '\\' or leading '.'")
    return text


# --------------------------------------------------------------------------------------------
# Errors of the folder written to

_STORAGE_REASONS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                    errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
                    errno.EPERM: "operation not permitted"}
_FULL = (errno.ENOSPC, errno.EDQUOT)


def storage_errno(exc: BaseException, folder: str | os.PathLike | None = None) -> int | None:
    """The errno of ``exc`` when it is a full disk, a quota, a read-only file system or a refused
    permission (h5py reports them as OSError or RuntimeError, with the errno in the message), else
    None. With ``folder``, an error that names a file outside ``folder`` is not counted (a
    refused *input* file is not a problem of the output folder)."""
    if not isinstance(exc, (OSError, RuntimeError)):
        return None
    text = str(exc)
    code = exc.errno if isinstance(exc, OSError) and exc.errno in _STORAGE_REASONS else None
    if code is None:
        match = re.search(r"errno\s*=\s*(\d+)", text)
        if match and int(match.group(1)) in _STORAGE_REASONS:
            code = int(match.group(1))
        elif re.search(r"\d+ requested and \d+ written", text):   # numpy's tofile on a full disk
            code = errno.ENOSPC
        else:
            code = next((c for c in _STORAGE_REASONS if os.strerror(c) in text), None)
    if code is None or folder is None:
        return code
    names = [n for n in (getattr(exc, "filename", None), getattr(exc, "filename2", None)) if n]
    names += re.findall(r"filename\s*=\s*'([^']*)'", text)
    if names and not any(_inside(name, folder) for name in names if isinstance(name, (str, os.PathLike))):
        return None
    return code


def _inside(name, folder) -> bool:
    path, root = os.path.abspath(os.fspath(name)), os.path.abspath(os.fspath(folder))
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep) or root.startswith(path + os.sep)


def storage_error(code: int, folder: str | os.PathLike, hint: str | None = None) -> StorageError:
    """The one-line error for ``code`` (an errno of :func:`storage_errno`) in ``folder``."""
    if hint is None:
        hint = ("free some space there, or write somewhere else" if code in _FULL
                else "make the folder writable, or write somewhere else")
    return StorageError(f"cannot write to {folder}: {_STORAGE_REASONS[code]}; nothing was kept", hint=hint)


@contextlib.contextmanager
def storage_errors(folder: str | os.PathLike, hint: str | None = None) -> Iterator[None]:
    """Turn a full disk, quota, read-only file system or refused permission in ``folder`` into
    one :class:`StorageError` naming the folder; other errors pass unchanged."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        code = storage_errno(exc, folder)
        if code is None:
            raise
        raise storage_error(code, folder, hint) from None


def ensure_space(folder: str | os.PathLike, nbytes: int, hint: str | None = None) -> None:
    """StorageError when ``folder`` (or its nearest existing parent) has less than ``nbytes``
    (plus 5% and 1 MiB) free.

    Called before HDF5 writes: the HDF5 library cannot recover from a write that fails half way
    (the process may crash when it closes the file), so a full disk must be refused up front.
    """
    existing = Path(folder).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return
    need = int(nbytes * 1.05) + (1 << 20)
    if free < need:
        raise StorageError(f"cannot write to {folder}: it needs {_size(need)} and {existing} has {_size(free)} free; "
                           "nothing was written", hint=hint or "free some space there, or write somewhere else")


def _size(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"


# --------------------------------------------------------------------------------------------
# Temporaries and their sweeping

#: A temporary untouched this long is stale whatever its writer (another host's, or a reused pid).
STALE_AFTER_S = 24 * 3600
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
_TEMP = re.compile(r"\..*\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.[0-9a-f]{8}\.tmp")
#: Earlier versions' temporaries: ``mkstemp`` files (``.NAME.XXXXXXXX.tmp``), TemporaryDirectory streams.
_LEGACY_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp|tmp[a-z0-9_]{8}")
_swept: set[tuple[str, int]] = set()


def _temp_name(name: str) -> str:
    return f".{name[:100]}.{_HOST}-{os.getpid()}.{secrets.token_hex(4)}.tmp"


def new_temp_file(folder: str | os.PathLike, name: str) -> Path:
    """Create an empty hidden temporary for ``name`` in ``folder`` (mode 0600); returns its path."""
    while True:
        path = Path(folder) / _temp_name(name)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600))
            return path
        except FileExistsError:
            continue


def new_temp_dir(folder: str | os.PathLike, name: str) -> Path:
    """Create a hidden temporary folder for ``name`` in ``folder`` (mode 0700); returns its path."""
    while True:
        path = Path(folder) / _temp_name(name)
        try:
            path.mkdir(mode=0o700)
            return path
        except FileExistsError:
            continue


@contextlib.contextmanager
def temporary_dir(folder: str | os.PathLike, name: str, hint: str | None = None, *,
                  legacy: bool = False) -> Iterator[Path]:
    """A temporary folder in ``folder`` (created, and swept of stale temporaries, ``legacy`` as in
    :func:`sweep_stale`), removed on exit; storage errors inside become one StorageError naming ``folder``."""
    folder = Path(folder)
    with storage_errors(folder, hint):
        folder.mkdir(parents=True, exist_ok=True)
        sweep_once(folder, legacy=legacy)
        path = new_temp_dir(folder, name)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":   # Windows: os.kill(pid, 0) would terminate it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # EPERM: alive, someone else's
        return True
    return True


def is_temporary(name: str) -> bool:
    """Whether ``name`` is the name of a temporary brainalign writes (this version's or an earlier one's)."""
    return bool(_TEMP.fullmatch(name) or _LEGACY_TEMP.fullmatch(name))


def is_stale_temporary(name: str, mtime: float, now: float | None = None, *, legacy: bool = False) -> bool:
    """Whether a temporary called ``name`` (last modified at ``mtime``) was left by a dead writer.

    Ours (``.NAME.HOST-PID.RANDOM.tmp``) are stale when written on this host by a process that no
    longer runs, or untouched for :data:`STALE_AFTER_S`. With ``legacy`` (folders only brainalign
    writes to, such as the cache), the mkstemp names of earlier versions count too, by age only.
    Nothing else is ever stale.
    """
    age = (time.time() if now is None else now) - mtime
    match = _TEMP.fullmatch(name)
    if match:
        return (match["host"] == _HOST and not _alive(int(match["pid"]))) or age > STALE_AFTER_S
    return legacy and bool(_LEGACY_TEMP.fullmatch(name)) and age > STALE_AFTER_S


def sweep_stale(folder: str | os.PathLike, *, depth: int = 0, legacy: bool = False) -> list[Path]:
    """Delete the stale temporaries (files or folders, see :func:`is_stale_temporary`) in
    ``folder`` and, ``depth`` levels down, in its non-hidden subfolders; returns what was deleted.
    Best effort: never raises."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if is_stale_temporary(entry.name, entry.stat(follow_symlinks=False).st_mtime, legacy=legacy):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
            elif depth > 0 and not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                removed += sweep_stale(entry.path, depth=depth - 1, legacy=legacy)
        except OSError:   # gone already (another sweeper), or not ours to delete
            continue
    return removed


def sweep_once(folder: str | os.PathLike, *, depth: int = 0, legacy: bool = False) -> None:
    """:func:`sweep_stale` ``folder`` the first time this process writes there."""
    key = (os.path.abspath(folder), os.getpid())
    if key not in _swept:
        _swept.add(key)
        sweep_stale(folder, depth=depth, legacy=legacy)


# --------------------------------------------------------------------------------------------
# Atomic writers


def check_writable(path: str | os.PathLike, *, overwrite: bool) -> Path:
    """Return ``path`` as a Path, refusing an existing file unless ``overwrite`` (see :func:`check_output_path`)."""
    path = check_output_path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists", hint="pass --overwrite to replace it")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, hint: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    If the body raises (or is interrupted), the temporary is removed and ``path`` is left
    untouched. A full disk, quota, read-only folder or refused permission becomes one
    :class:`StorageError` naming the folder (``hint`` replaces its default hint). Stale
    temporaries of killed writers in the folder are swept the first time this process writes there.
    """
    path = Path(path)
    folder = path.parent
    with storage_errors(folder, hint):
        folder.mkdir(parents=True, exist_ok=True)
        sweep_once(folder)
        tmp_path = new_temp_file(folder, path.name)
    try:
        with storage_errors(folder, hint):
            yield tmp_path
            if tmp_path.exists():  # created 0600; give the file the mode a plain open() would
                os.chmod(tmp_path, 0o666 & ~_umask())
            os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(OSError):
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
