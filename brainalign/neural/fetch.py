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
from pathlib import Path

from .._io import write_json_atomic
from ..config import data_home
from ..errors import ChecksumError, FileFormatError
from .manifests import Manifest, ManifestFile

_CHUNK = 1 << 16


def downloads_dir(name: str, home: Path | None = None) -> Path:
    """Folder holding the verified files of dataset ``name``."""
    return (home or data_home()) / "downloads" / name


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


class _ResumingDownloader:
    """A pooch downloader that resumes from ``part`` with a Range request and shows a tqdm bar."""

    def __init__(self, part: Path, size: int | None, progress: bool):
        self.part, self.size, self.progress = part, size, progress

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False):
        import requests
        from tqdm.auto import tqdm

        have = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=30) as response:
            if response.status_code == 416 and have:  # already complete
                pass
            else:
                response.raise_for_status()
                if have and response.status_code != 206:  # server ignores Range: start over
                    have = 0
                total = int(response.headers.get("content-length", 0)) + have or self.size
                with open(self.part, "ab" if have else "wb") as sink, \
                        tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=Path(self.part).stem,
                             disable=not self.progress, leave=False) as bar:
                    for chunk in response.iter_content(_CHUNK):
                        sink.write(chunk)
                        bar.update(len(chunk))
        shutil.copyfile(self.part, output_file)


def fetch_file(manifest: Manifest, entry: ManifestFile, *, home: Path | None = None, progress: bool = True) -> Path:
    """Download one manifest file into the data home (skipped when present and verified)."""
    import pooch
    import requests

    target = downloads_dir(manifest.name, home) / entry.name
    if target.is_file() and (entry.hash is None or _matches(target, entry.hash)):
        return target
    staging = (home or data_home()) / ".partial" / manifest.name
    staging.mkdir(parents=True, exist_ok=True)
    part = staging / f"{entry.name}.part"
    fetched = staging / entry.name
    fetched.unlink(missing_ok=True)
    pooch.get_logger().setLevel("WARNING")
    try:
        pooch.retrieve(entry.url, known_hash=None, fname=entry.name, path=staging, progressbar=False,
                       downloader=_ResumingDownloader(part, entry.size, progress))
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise FileFormatError(f"cannot download {entry.url} (offline or host unreachable: {type(exc).__name__})",
                              hint=f"download it by hand, then run `brainalign data import {manifest.importer} ...` "
                                   f"on the files (see `brainalign data info {manifest.name}`)") from None
    except requests.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise FileFormatError(f"cannot download {entry.url} ({exc.response.status_code} {exc.response.reason})",
                              hint=f"check the URL in {manifest.path}, or download it by hand and use "
                                   f"`brainalign data import {manifest.importer}`") from None
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


def remove(name: str, *, home: Path | None = None) -> list[Path]:
    """Delete the downloaded, partial and imported files of dataset ``name``; returns what was removed."""
    home = home or data_home()
    removed = []
    for folder in (home / "downloads" / name, home / ".partial" / name, home / "imported" / name):
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


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
