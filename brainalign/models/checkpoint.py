"""Safe, loud checkpoint reading: weights-only unpickling, prefix cleaning, strict loading.

Reading is split so that more formats can be added without touching the rest:
:func:`load_state_dict` reads a file into a flat ``{key: tensor}`` mapping (today: a plain or
wrapped ``torch.save`` state dict), :func:`clean_state_dict` removes wrapper prefixes and
:func:`apply_state_dict` loads the result strictly into a module.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch

from ..errors import FileFormatError, ModelError

#: Top-level keys under which training scripts nest the state dict; unwrapped by load_state_dict.
WRAPPER_KEYS = ("state_dict", "model_state_dict")

#: Prefixes added by ``nn.DataParallel`` / DDP (``module.``) and ``torch.compile`` (``_orig_mod.``).
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

_SHOWN = 5  # how many key names an error message lists


def load_state_dict(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a state dict from a ``torch.save`` file, never running arbitrary pickled code.

    Parameters
    ----------
    path : str or PathLike
        A file written by ``torch.save(module.state_dict(), path)``, optionally wrapped as
        ``{"state_dict": ...}`` or ``{"model_state_dict": ...}`` (other top-level entries such as
        ``epoch`` are ignored), with keys optionally prefixed by ``module.`` or ``_orig_mod.``.

    Returns
    -------
    state_dict : dict of str to Tensor
        Cleaned keys in file order; tensors on the CPU.
    info : dict
        ``path``, ``wrapper_key`` (the unwrapped key or None), ``prefixes_stripped`` (list of
        str) and ``n_tensors``.

    Raises
    ------
    FileFormatError
        The path is missing, a directory, empty, truncated or corrupt, or holds no mapping of
        tensors.
    ModelError
        The file holds pickled Python objects that only full unpickling could rebuild;
        brainalign refuses that for safety.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "w.pt"
    >>> torch.save({"state_dict": {"module.fc.weight": torch.zeros(2, 3)}}, path)
    >>> sd, info = load_state_dict(path)
    >>> list(sd), info["wrapper_key"], info["prefixes_stripped"]
    (['fc.weight'], 'state_dict', ['module.'])
    """
    path = _check_file(Path(path))
    obj = _torch_load(path)
    obj, wrapper_key = _unwrap(obj, path)
    state_dict, stripped = clean_state_dict(obj)
    info = {"path": str(path), "wrapper_key": wrapper_key, "prefixes_stripped": list(stripped),
            "n_tensors": len(state_dict)}
    return state_dict, info


def clean_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Strip the wrapper prefixes in :data:`WRAPPER_PREFIXES` from the start of every key.

    Parameters
    ----------
    state_dict : mapping of str to Tensor

    Returns
    -------
    cleaned : dict of str to Tensor
        Same order and tensors, keys without leading ``module.`` / ``_orig_mod.`` (any number,
        in any order, e.g. ``_orig_mod.module.fc.weight`` becomes ``fc.weight``).
    stripped : tuple of str
        The prefixes that were found, sorted.

    Raises
    ------
    FileFormatError
        Two keys become the same after stripping.

    Examples
    --------
    >>> clean_state_dict({"module.fc.bias": torch.zeros(1)})[0].keys()
    dict_keys(['fc.bias'])
    """
    cleaned: dict[str, torch.Tensor] = {}
    stripped: set[str] = set()
    for key, value in state_dict.items():
        new_key = key
        while prefix := next((p for p in WRAPPER_PREFIXES if new_key.startswith(p)), None):
            stripped.add(prefix)
            new_key = new_key[len(prefix):]
        if new_key in cleaned:
            raise FileFormatError(f"checkpoint keys {key!r} and another both become {new_key!r} "
                                  "once wrapper prefixes are stripped",
                                  hint="save the unwrapped model's state_dict() instead")
        cleaned[new_key] = value
    return cleaned, tuple(sorted(stripped))


def apply_state_dict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *,
                     model_name: str = "the model") -> dict:
    """Load ``state_dict`` into ``module`` strictly: same keys, same shapes.

    Parameters
    ----------
    module : torch.nn.Module
    state_dict : mapping of str to Tensor
        Cleaned keys (see :func:`clean_state_dict`).
    model_name : str, default="the model"
        Used in error messages, e.g. the model spec.

    Returns
    -------
    info : dict
        ``keys_loaded``: the number of entries loaded.

    Raises
    ------
    ModelError
        Keys the module needs are missing, keys it does not have are present, or a tensor's
        shape differs from the module's; the message names the count and the first few keys.
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing:
        raise ModelError(f"checkpoint lacks {len(missing)} of the {len(expected)} entries "
                         f"{model_name} needs: {_first(missing)}",
                         hint=_key_hint(missing, unexpected, model_name))
    if unexpected:
        raise ModelError(f"checkpoint has {len(unexpected)} entries {model_name} does not have: "
                         f"{_first(unexpected)}", hint=_key_hint(list(expected), unexpected, model_name))
    for key, target in expected.items():
        shape = tuple(state_dict[key].shape)
        if shape != tuple(target.shape):
            raise ModelError(f"checkpoint entry {key!r} has shape {shape} but {model_name} expects "
                             f"{tuple(target.shape)}",
                             hint=f"check that the checkpoint was trained with the architecture "
                                  f"of {model_name} (same widths and number of classes)")
    module.load_state_dict(state_dict, strict=True)
    return {"keys_loaded": len(expected)}


def state_dict_sha256(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Hex sha256 over a state dict's keys, dtypes, shapes and tensor bytes, in key order.

    Parameters
    ----------
    state_dict : mapping of str to Tensor

    Returns
    -------
    str
        64 hex characters; equal for equal weights, whatever device they are on.

    Notes
    -----
    Each part is length-prefixed as in :func:`brainalign._io.sha256_bytes`, so the hash is
    unambiguous. It identifies a random init; a loaded checkpoint is identified by the sha256 of
    its file instead.
    """
    digest = hashlib.sha256()
    for key, tensor in state_dict.items():
        header = f"{key}|{tensor.dtype}|{tuple(tensor.shape)}".encode()
        data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
        for part in (header, data):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
    return digest.hexdigest()


def _check_file(path: Path) -> Path:
    if not path.exists():
        raise FileFormatError(f"checkpoint {path} does not exist", hint="check the path")
    if path.is_dir():
        raise FileFormatError(f"checkpoint {path} is a directory, not a file",
                              hint="pass the .pt/.pth file itself")
    if path.stat().st_size == 0:
        raise FileFormatError(f"checkpoint {path} is empty", hint="the save was interrupted; save it again")
    return path


def _torch_load(path: Path):
    """``torch.load`` with ``weights_only=True``, its many failure types turned into our errors."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if refused:
            raise ModelError(f"checkpoint {path} holds a pickled Python object ({refused.group(1)}) "
                             "that only full unpickling could load; brainalign refuses that for safety",
                             hint="in the code that made it, save only tensors: "
                                  "torch.save(model.state_dict(), path)") from None
        detail = re.search(r"WeightsUnpickler error:\s*([^\n]+)", str(exc))
        raise _corrupt(path, f"weights-only unpickler: {detail.group(1) if detail else 'refused'}") from None
    except MemoryError:
        raise
    except Exception as exc:  # torch raises RuntimeError, EOFError, KeyError, struct.error, ...
        first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0]
        reason = f"{type(exc).__name__}: {first[:120]}" if first else type(exc).__name__
        raise _corrupt(path, reason) from None


def _corrupt(path: Path, reason: str) -> FileFormatError:
    return FileFormatError(f"checkpoint {path} is truncated, corrupt or not a torch.save file ({reason})",
                           hint="download or save it again with torch.save(model.state_dict(), path); "
                                "plain pickle.dump files are not read")


def _unwrap(obj, path: Path) -> tuple[Mapping[str, torch.Tensor], str | None]:
    """The flat tensor mapping in ``obj``, and the wrapper key it was found under (or None)."""
    if not isinstance(obj, Mapping):
        raise FileFormatError(f"checkpoint {path} holds a {type(obj).__name__}, not a mapping of tensors",
                              hint="save a state dict: torch.save(model.state_dict(), path)")
    wrapper_key = next((k for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
    if wrapper_key is not None:
        obj = obj[wrapper_key]
    bad = next((k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)), None)
    if bad is not None:
        raise FileFormatError(f"checkpoint {path} is not a mapping of names to tensors "
                              f"(entry {bad!r} is a {type(obj[bad]).__name__})",
                              hint=f"its keys are {_first(list(obj))}; brainalign unwraps "
                                   f"{' and '.join(WRAPPER_KEYS)}")
    return obj, wrapper_key


def _first(keys: list) -> str:
    shown = ", ".join(str(k) for k in keys[:_SHOWN])
    return shown + (f", ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else "")


def _key_hint(expected: list[str], unexpected: list[str], model_name: str) -> str:
    if unexpected:
        return (f"is this a checkpoint of {model_name}? it has keys like {unexpected[0]!r} "
                f"where {model_name} has keys like {expected[0]!r}")
    return f"is this a checkpoint of {model_name}? it looks like a smaller or different architecture"
