"""Resolve a ``--stimuli SOURCE``: a registered stimulus set, a folder of images or a zip of images."""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from ..errors import DataError, FileFormatError, InputError
from .images import decode_image
from .stimulus_set import StimulusSet

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")


def registered_stimulus_sets() -> dict[str, str]:
    """Names of registered stimulus sets and a one-line description of each."""
    return {"sim": "the embedded simulated benchmark's images (textures, matched noise, gratings, natural-like)"}


def resolve_stimuli(source: str) -> StimulusSet:
    """A StimulusSet from a registered name, a folder of images or a ``.zip`` of images.

    Image files are taken in sorted path order; each one's ``stimulus_id`` is its path relative
    to the folder (or inside the zip) without the suffix, with ``/`` separators.
    """
    if source in registered_stimulus_sets():
        from .simulated import simulated_stimulus_set
        return simulated_stimulus_set()
    path = Path(source).expanduser()
    if path.is_dir():
        return folder_stimulus_set(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        return zip_stimulus_set(path)
    if path.exists():
        raise InputError(f"cannot use {path} as stimuli", hint="give a folder of images, a .zip of images "
                         f"or a registered set ({', '.join(registered_stimulus_sets())})")
    raise InputError(f"no stimulus set, folder or zip named {source!r}",
                     hint=f"registered sets: {', '.join(registered_stimulus_sets())}")


def _stimulus_id(relative: PurePosixPath) -> str:
    return str(relative.with_suffix(""))


def _frame(ids: list[str], files: list[str], origin: str) -> pd.DataFrame:
    frame = pd.DataFrame({"stimulus_id": ids, "filename": files})
    duplicated = frame["stimulus_id"].duplicated(keep=False)
    if duplicated.any():
        clash = frame.loc[duplicated, "filename"].tolist()[:2]
        raise DataError(f"two images in {origin} give the same stimulus_id: {', '.join(clash)}",
                        hint="rename one of them (ids are paths without the suffix)")
    return frame


def folder_stimulus_set(folder: Path) -> StimulusSet:
    """All images below ``folder`` (recursively), sorted by relative path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"no images in {folder}", hint=f"supported suffixes: {' '.join(IMAGE_SUFFIXES)}")
    relative = [PurePosixPath(p.relative_to(folder).as_posix()) for p in files]
    frame = _frame([_stimulus_id(r) for r in relative], [str(r) for r in relative], str(folder))
    digest = hashlib.sha256()
    for rel, file in zip(relative, files):
        digest.update(str(rel).encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return StimulusSet(identifier=str(folder), metadata=frame,
                       loader=lambda i: decode_image(files[i].read_bytes(), str(files[i])),
                       content_hash=digest.hexdigest())


def zip_stimulus_set(archive: Path) -> StimulusSet:
    """All images inside the zip ``archive``, sorted by member path."""
    try:
        with zipfile.ZipFile(archive) as handle:
            members = sorted(n for n in handle.namelist()
                             if not n.endswith("/") and PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES
                             and not PurePosixPath(n).name.startswith("._"))
            digest = hashlib.sha256()
            for name in members:
                digest.update(name.encode() + b"\0" + hashlib.sha256(handle.read(name)).digest())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(f"cannot read {archive} as a zip file ({exc})", hint="is the download complete?") from None
    if not members:
        raise DataError(f"no images in {archive}", hint=f"supported suffixes: {' '.join(IMAGE_SUFFIXES)}")
    frame = _frame([_stimulus_id(PurePosixPath(n)) for n in members], members, str(archive))
    reader = ZipMemberReader(archive)

    def load(i: int) -> np.ndarray:
        return decode_image(reader.read(members[i]), f"{archive}:{members[i]}")

    return StimulusSet(identifier=str(archive), metadata=frame, loader=load, content_hash=digest.hexdigest())


class ZipMemberReader:
    """Reads members of one zip file through a handle kept open, one per process and thread.

    ``zipfile.ZipFile`` handles share one file position, so threads must not share one; a forked
    or spawned worker opens its own (handles are keyed by process id and thread id, and dropped
    when the reader is pickled). Opening the archive parses its whole central directory, so
    reopening it per image costs O(members) each time: 9,500 opens of a 9,500-member zip.
    """

    def __init__(self, archive: str | Path):
        self.archive = Path(archive)
        self._handles: dict[tuple[int, int], zipfile.ZipFile] = {}

    def read(self, member: str) -> bytes:
        """The bytes of ``member``."""
        key = (os.getpid(), threading.get_ident())
        handle = self._handles.get(key)
        if handle is None:
            handle = self._handles[key] = zipfile.ZipFile(self.archive)
        return handle.read(member)

    def close(self) -> None:
        """Close every handle this reader opened."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __getstate__(self) -> dict:
        return {"archive": self.archive, "_handles": {}}

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the handles go with the process
            pass

