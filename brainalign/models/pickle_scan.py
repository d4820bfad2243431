"""What a checkpoint's pickle would import, read without unpickling it.

When ``torch.load(weights_only=True)`` refuses a file, brainalign must tell a file that holds
code (a pickled object whose loading imports and calls a global: ``os.system``, a training
script's class, ``argparse.Namespace``) from a file that is damaged. :func:`pickled_globals`
walks the pickle opcodes with :func:`pickletools.genops`, which only reads, and names every
global the file would import; nothing in the file is executed.
"""

from __future__ import annotations

import _compat_pickle  # the Python 2 -> 3 name table that pickle.Unpickler itself applies
import io
import os
import pickletools
import zipfile
from pathlib import Path

#: Globals of the tensor machinery itself: listed only when nothing else is.
_MACHINERY = ("torch", "collections", "_codecs")
_STRINGS = {"UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "STRING", "BINSTRING", "SHORT_BINSTRING"}
_LEGACY_PICKLES = 4   # torch's legacy format: magic number, protocol, system info, then the object


def pickled_globals(path: str | os.PathLike) -> list[str] | None:
    """The ``module.name`` of every global the pickle(s) of ``path`` import, in order, without duplicates.

    ``path`` is a ``torch.save`` zip archive (its ``data.pkl`` is read), a legacy ``torch.save``
    file or a plain pickle (the leading pickles are read). Returns ``None`` when no pickle can be
    read from it (a truncated, corrupt or foreign file).
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
                if member is None:
                    return None
                return _globals(io.BytesIO(archive.read(member)), n_pickles=1)
        with open(path, "rb") as handle:
            return _globals(handle, n_pickles=_LEGACY_PICKLES)
    except (OSError, zipfile.BadZipFile, RuntimeError):
        return None


def code_globals(names: list[str]) -> list[str]:
    """The names that are not part of torch's tensor machinery (all of them if none is)."""
    foreign = [n for n in names if n.split(".")[0] not in _MACHINERY]
    return foreign or names


def _globals(stream, *, n_pickles: int) -> list[str] | None:
    names: list[str] = []
    for index in range(n_pickles):
        try:
            found = _one_pickle(stream)
        except Exception:  # genops raises ValueError, EOFError, ... on bytes that are no pickle
            return None if index == 0 else names
        names += [n for n in found if n not in names]
    return names


def _one_pickle(stream) -> list[str]:
    """Globals of one pickle (to its STOP): GLOBAL/INST name them, STACK_GLOBAL takes two strings."""
    names, recent, memo, protocol = [], [None, None], {}, 0
    for opcode, arg, _ in pickletools.genops(stream):
        kind = opcode.name
        if kind in ("GLOBAL", "INST"):
            names.append(_python3_name(*str(arg).split(" ", 1), protocol=protocol))
        elif kind == "STACK_GLOBAL":
            module, name = recent
            names.append(f"{module}.{name}" if isinstance(module, str) and isinstance(name, str) else "?")
        elif kind in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            memo[len(memo) if kind == "MEMOIZE" else arg] = recent[-1]
            continue
        elif kind in ("GET", "BINGET", "LONG_BINGET"):
            recent = [recent[-1], memo.get(arg)]
            continue
        elif kind in ("FRAME", "PROTO"):
            protocol = arg if kind == "PROTO" else protocol
            continue
        recent = [recent[-1], arg if kind in _STRINGS else None]
    return names


def _python3_name(module: str, name: str = "", *, protocol: int) -> str:
    """The name as the unpickler resolves it: protocol 0-2 pickles use Python 2 names (``__builtin__.eval``)."""
    if protocol < 3:
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{module}.{name}"
