"""Verified, resumable downloads of manifest files into the data home, through pooch.

Layout of the data home (``$BRAINALIGN_HOME``):

- ``downloads/NAME/FILE``: verified files of dataset NAME, plus ``fetched.json`` (hashes seen);
- ``.partial/NAME/FILE.part``: bytes of an interrupted download, resumed by the next ``fetch``
  with an HTTP Range request;
- ``imported/NAME/``: datasets written by the importers (see :mod:`brainalign.neural.importers.dataset`).

A file reaches ``downloads/`` only after its checksum matched; on a mismatch the downloaded bytes
are deleted and :class:`ChecksumError` names the file and both hashes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import data_home
from ..errors import ChecksumError, FileFormatError, InputError
from ..safe_files import is_temporary, plain_name, storage_errors, write_json_atomic
from .manifests import Manifest, ManifestFile

_CHUNK = 1 << 14   # small enough that a cut transfer keeps nearly everything it received
_HOME_HINT = "free space in the data home, or set BRAINALIGN_HOME to a folder on another disk"


def downloads_dir(name: str, home: Path | None = None) -> Path:
    """Folder holding the verified files of dataset ``name`` (a plain name)."""
    return (home or data_home()) / "downloads" / plain_name(name, "dataset name")


def partial_dir(name: str, home: Path | None = None) -> Path:
    """Folder holding the interrupted downloads of dataset ``name`` (a plain name)."""
    return (home or data_home()) / ".partial" / plain_name(name, "dataset name")


def file_hash(path: str | os.PathLike, alg: str = "sha256") -> str:
    """Hex digest of a file (pooch's ``file_hash``)."""
    import pooch

    return pooch.file_hash(str(path), alg=alg)


def verify_file(path: str | os.PathLike, expected: str) -> str:
    """Check ``path`` against ``expected`` (``alg:hex``); return the hex digest, or raise ChecksumError."""
    alg, _, want = expected.partition(":")
    got = file_hash(path, alg)
    if got.lower() != want.lower():
        raise ChecksumError(f"checksum mismatch for {Path(path).name}: expected {alg} {want}, got {got}",
                            hint="the file is corrupt or changed upstream; nothing was kept - fetch again, "
                                 "or report the new hash if the source changed")
    return got


class _TransferCut(Exception):
    """A transfer that started and stopped before the end (the bytes so far stay in the .part file)."""

    def __init__(self, cause: BaseException):
        super().__init__(type(cause).__name__)
        self.cause = cause


class _ResumingDownloader:
    """A pooch downloader that resumes from ``part`` (HTTP Range, or an offset into a ``file://``
    source) and shows a tqdm bar. A transfer cut after it started raises :class:`_TransferCut`."""

    def __init__(self, part: Path, size: int | None, progress: bool):
        self.part, self.size, self.progress = part, size, progress

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False):
        if urlsplit(url).scheme == "file":
            self._copy_local(url)
        else:
            self._download(url)
        shutil.copyfile(self.part, output_file)

    def _download(self, url: str) -> None:
        import requests

        have = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=30) as response:
            if response.status_code == 416 and have:  # already complete
                return
            response.raise_for_status()
            if have and response.status_code != 206:  # server ignores Range: start over
                have = 0
            total = int(response.headers.get("content-length", 0)) + have or self.size
            try:
                self._write(response.iter_content(_CHUNK), have, total)
            except (requests.RequestException, OSError) as exc:
                if isinstance(exc, OSError) and not isinstance(exc, (requests.RequestException, ConnectionError)):
                    raise   # a local write error (full disk ...), not the transfer
                raise _TransferCut(exc) from None

    def _copy_local(self, url: str) -> None:
        source = Path(unquote(urlsplit(url).path))
        try:
            info = source.stat()
            if not stat.S_ISREG(info.st_mode):
                raise FileFormatError(f"{source} is not a regular file",
                                      hint="a file:// URL must name a file (not a folder, device or pipe)")
            handle = open(source, "rb")
        except OSError as exc:
            raise FileFormatError(f"cannot read {source} ({exc.strerror or type(exc).__name__})",
                                  hint="check the file:// URL in the manifest") from None
        have = self.part.stat().st_size if self.part.exists() else 0
        if have > info.st_size:
            have = 0
        with handle:
            handle.seek(have)
            self._write(iter(lambda: handle.read(_CHUNK), b""), have, info.st_size)

    def _write(self, chunks, have: int, total: int | None) -> None:
        from tqdm.auto import tqdm

        with open(self.part, "ab" if have else "wb") as sink, \
                tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=Path(self.part).stem,
                     disable=not self.progress, leave=False) as bar:
            for chunk in chunks:
                sink.write(chunk)
                bar.update(len(chunk))


def fetch_file(manifest: Manifest, entry: ManifestFile, *, home: Path | None = None, progress: bool = True) -> Path:
    """Download one manifest file into the data home (skipped when present and verified).

    An interrupted transfer keeps its bytes in ``.partial/NAME/FILE.part``; the next call resumes
    there. Offline, a cut transfer, a full or read-only data home: one error each.
    """
    home = home or data_home()
    with storage_errors(home, _HOME_HINT):
        return _fetch_file(manifest, entry, home, progress)


def _fetch_file(manifest: Manifest, entry: ManifestFile, home: Path, progress: bool) -> Path:
    import pooch
    import requests

    target = downloads_dir(manifest.name, home) / plain_name(entry.name, "file name")
    if target.is_file() and (entry.hash is None or _matches(target, entry.hash)):
        return target
    staging = partial_dir(manifest.name, home)
    staging.mkdir(parents=True, exist_ok=True)
    part = staging / f"{entry.name}.part"
    fetched = staging / entry.name
    fetched.unlink(missing_ok=True)
    pooch.get_logger().setLevel("WARNING")
    try:
        pooch.retrieve(entry.url, known_hash=None, fname=entry.name, path=staging, progressbar=False,
                       downloader=_ResumingDownloader(part, entry.size, progress))
    except _TransferCut as cut:
        kept = part.stat().st_size if part.exists() else 0
        raise FileFormatError(f"the download of {entry.url} was cut after {kept} bytes "
                              f"({type(cut.cause).__name__}); the bytes so far are kept",
                              hint=f"run `brainalign data fetch {manifest.name}` again to resume") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise FileFormatError(f"cannot download {entry.url} (offline or host unreachable: {type(exc).__name__})",
                              hint=f"download it by hand, then run `brainalign data import {manifest.importer} ...` "
                                   f"on the files (see `brainalign data info {manifest.name}`)") from None
    except requests.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise FileFormatError(f"cannot download {entry.url} ({exc.response.status_code} {exc.response.reason})",
                              hint=f"check the URL in {manifest.path}, or download it by hand and use "
                                   f"`brainalign data import {manifest.importer}`") from None
    except requests.RequestException as exc:
        raise FileFormatError(f"cannot download {entry.url} ({type(exc).__name__})",
                              hint=f"check the URL in {manifest.path}, then run `brainalign data fetch "
                                   f"{manifest.name}` again") from None
    part.unlink(missing_ok=True)
    try:
        if entry.hash is not None:
            verify_file(fetched, entry.hash)
    except ChecksumError:
        fetched.unlink(missing_ok=True)
        _remove_empty(staging)
        raise
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(fetched, target)
    _record(target.parent, entry.name, file_hash(target, "sha256"))
    _remove_empty(staging)
    return target


def fetch(manifest: Manifest, *, home: Path | None = None, progress: bool = True) -> list[Path]:
    """Download every file of ``manifest``; returns their paths in the data home."""
    return [fetch_file(manifest, entry, home=home, progress=progress) for entry in manifest.files]


def verify(manifest: Manifest, *, home: Path | None = None) -> list[dict]:
    """Status of each file of ``manifest`` in the data home.

    Returns one dict per file: ``name``, ``status`` (``ok``, ``missing``, ``mismatch`` or
    ``unverified`` when the manifest has no hash) and ``detail``.
    """
    rows = []
    for entry in manifest.files:
        path = downloads_dir(manifest.name, home) / entry.name
        if not path.is_file():
            rows.append({"name": entry.name, "status": "missing", "detail": str(path)})
        elif entry.hash is None:
            rows.append({"name": entry.name, "status": "unverified", "detail": "sha256:" + file_hash(path)})
        else:
            try:
                verify_file(path, entry.hash)
                rows.append({"name": entry.name, "status": "ok", "detail": entry.hash})
            except ChecksumError as error:
                rows.append({"name": entry.name, "status": "mismatch", "detail": error.message})
    return rows


#: What brainalign writes into ``imported/NAME/`` (see :mod:`.importers.dataset` and ``.rdm``).
IMPORTED_FILES = frozenset({"assembly.nc", "stimuli.zip", "stimuli.csv", "dataset.json", "rdms.hdf5"})


def stored_folders(name: str, *, home: Path | None = None) -> list[dict]:
    """What ``remove(name)`` would delete: one dict per folder of ``name`` in the data home, with
    ``path``, ``kind`` (downloads, partial, imported), ``files`` and ``bytes``.

    InputError, before anything is deleted, when ``name`` is not a plain name, or when a folder is a
    link, lies outside the data home or holds anything brainalign did not write there (files a
    user added by hand are theirs to delete).
    """
    name = plain_name(name, "dataset name")
    home = Path(home or data_home())
    from .importers.dataset import imported_dir

    found = []
    for kind, folder in (("downloads", downloads_dir(name, home)), ("partial", partial_dir(name, home)),
                         ("imported", imported_dir(name, home))):
        if not os.path.lexists(folder):
            continue
        if folder.is_symlink() or not folder.is_dir() or folder.resolve().parent != (home.resolve() / folder.parent.name):
            raise InputError(f"{folder} is not a folder brainalign made in the data home; nothing was deleted",
                             hint="delete it by hand if you mean to")
        entries = list(os.scandir(folder))
        foreign = [e.name for e in entries if not _ours(kind, name, folder, e)]
        if foreign:
            raise InputError(f"{folder} holds {len(foreign)} file(s) brainalign did not write (first: {foreign[0]!r}); "
                             "nothing was deleted", hint="delete that folder by hand if you mean to")
        found.append({"path": folder, "kind": kind, "files": len(entries),
                      "bytes": sum(e.stat(follow_symlinks=False).st_size for e in entries)})
    return found


def remove(name: str, *, home: Path | None = None) -> list[dict]:
    """Delete the downloaded, partial and imported files of dataset ``name``; returns what was
    removed (see :func:`stored_folders`, which checks every folder before any is deleted)."""
    found = stored_folders(name, home=home)
    with storage_errors(Path(home or data_home()), "make the data home writable"):
        for folder in found:
            shutil.rmtree(folder["path"])
    return found


def _ours(kind: str, name: str, folder: Path, entry: os.DirEntry) -> bool:
    """Whether ``entry`` of ``folder`` is something brainalign writes there."""
    if entry.is_symlink():
        return False
    if entry.name.startswith(".") and entry.name.endswith(".tmp"):   # our temporaries, live or stale
        return is_temporary(entry.name) and entry.is_file()
    if not entry.is_file():
        return False
    if kind == "imported":
        return entry.name in IMPORTED_FILES and _recorded_name(folder / "dataset.json") == name
    listed = _manifest_files(name) | set(_fetched_names(folder))
    if kind == "downloads":
        return entry.name == "fetched.json" or entry.name in listed
    return (entry.name.endswith(".part") and entry.name[:-5] in listed) or entry.name in listed \
        or (entry.name.startswith("tmp") and len(entry.name) == 11)   # pooch's download temporary


def _manifest_files(name: str) -> set[str]:
    from .manifests import load_manifest

    try:
        return {f.name for f in load_manifest(name).files}
    except (FileFormatError, InputError):
        return set()


def _fetched_names(folder: Path) -> list[str]:
    try:
        record = json.loads((folder / "fetched.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(k) for k in record] if isinstance(record, dict) else []


def _recorded_name(path: Path) -> str | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("name") if isinstance(record, dict) else None


def _matches(path: Path, expected: str) -> bool:
    try:
        verify_file(path, expected)
        return True
    except ChecksumError:
        return False


def _record(folder: Path, name: str, sha256: str) -> None:
    record_path = folder / "fetched.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    record[name] = {"sha256": sha256}
    write_json_atomic(record_path, record)


def _remove_empty(folder: Path) -> None:
    for path in (folder, folder.parent):
        try:
            path.rmdir()
        except OSError:
            return
