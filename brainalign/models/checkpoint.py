"""Safe, loud checkpoint reading: weights-only unpickling, format detection, checked loading.

Three steps, each its own function:

- :func:`read_checkpoint` reads a file with ``torch.load(weights_only=True)`` (full unpickling
  only when the caller trusts the file), detects its layout (see
  :mod:`brainalign.models.checkpoint_formats`) and returns the backbone weights;
- :func:`apply_checkpoint` loads them into a module: shapes must match, missing backbone keys
  and unexpected keys are errors unless ``allow_partial``, and it returns a summary;
- :func:`summary_line` turns that summary into the one line the CLI prints.
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
from .architecture_guess import guess_family
from .checkpoint_formats import (WRAPPER_PREFIXES, Backbone, detect_format, extract_backbone, get_format,
                                 resolve_format_name)
from .checkpoint_metadata import args_beside, checkpoint_metadata, payload_metadata
from .pickle_scan import code_globals, pickled_globals

#: Checkpoint key prefixes of classifier heads: dropped when the model has no such module.
HEAD_PREFIXES = ("fc.", "head.", "heads.", "classifier.", "last_linear.")

_SHOWN = 5  # how many key names an error message lists


def read_checkpoint(path: str | os.PathLike, *, checkpoint_format: str | None = None,
                    trust_checkpoint: bool = False) -> Backbone:
    """Read the backbone weights of a checkpoint written by any supported codebase.

    Parameters
    ----------
    path : str or PathLike
        A ``torch.save`` file (``.pt``, ``.pth``, ``.ckpt``, ``.pth.tar``).
    checkpoint_format : str, optional
        A registered format name or alias (:func:`brainalign.models.checkpoint_formats.format_names`);
        None or ``"auto"`` detects it from the keys.
    trust_checkpoint : bool, default=False
        Allow full unpickling when ``weights_only=True`` refuses the file (e.g. Lightning
        hyper-parameters stored as ``argparse.Namespace``). That runs code from the file.

    Returns
    -------
    Backbone
        ``state_dict`` with backbone keys (all prefixes stripped), plus the format, entry, prefix,
        dropped keys, leftovers, whether it was read with full unpickling (``trusted``) and what
        the file says about its training (``metadata``, see :mod:`.checkpoint_metadata`).

    Raises
    ------
    FileFormatError
        Missing path, a directory, an empty, truncated or corrupt file, no mapping of tensors, or
        a forced ``format`` whose entries are absent.
    ModelError
        The file needs full unpickling and ``trust_checkpoint`` is False.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "moco.pth.tar"
    >>> torch.save({"epoch": 200, "arch": "resnet50", "state_dict": {
    ...     "module.encoder_q.conv1.weight": torch.zeros(1), "module.encoder_k.conv1.weight": torch.zeros(1),
    ...     "module.queue": torch.zeros(1)}}, path)
    >>> b = read_checkpoint(path)
    >>> b.format, b.prefix, list(b.state_dict), b.dropped
    ('moco', 'module.encoder_q.', ['conv1.weight'], ['module.encoder_k.conv1.weight', 'module.queue'])
    """
    path = _check_file(Path(path))
    forced = resolve_format_name(checkpoint_format)
    obj, trusted = _torch_load(path, trust_checkpoint=trust_checkpoint)
    if not isinstance(obj, Mapping):
        raise FileFormatError(f"checkpoint {path} holds a {type(obj).__name__}, not a mapping of tensors",
                              hint="save a state dict: torch.save(model.state_dict(), path)")
    backbone = extract_backbone(obj, forced or detect_format(obj), path)
    backbone.trusted = trusted
    backbone.metadata = checkpoint_metadata(path, obj, trusted=trusted)
    return backbone


def load_payload(path: str | os.PathLike, *, trust_checkpoint: bool = False) -> tuple[object, bool]:
    """``(torch.load result, trusted)``: the one read of a checkpoint file, weights-only unless trusted.

    Raises
    ------
    FileFormatError
        Missing path, a directory, an empty, truncated or corrupt file.
    ModelError
        The file holds code that runs when loaded and ``trust_checkpoint`` is False.
    """
    return _torch_load(_check_file(Path(path)), trust_checkpoint=trust_checkpoint)


def read_checkpoint_metadata(path: str | os.PathLike) -> dict:
    """What a checkpoint no model was loaded from says about its training (a path recorded in an
    activation file): ``{"payload": {...}, "args_json": dict or None}``, as ``Backbone.metadata``.

    The file is read weights-only; a missing, unreadable or refused file (one that holds code) gives
    an empty payload, so its ``args.json`` and file name still count.
    """
    path = Path(path)
    payload = {"payload": {}}
    if path.suffix.lower() not in (".safetensors", ".npz", ".h5", ".json") and path.is_file():
        try:
            payload = payload_metadata(load_payload(path)[0])
        except (FileFormatError, ModelError):  # not a weights-only torch file: nothing from its content
            pass
    return {**payload, "args_json": args_beside(path)}


def clean_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Strip the wrapper prefixes ``module.`` / ``_orig_mod.`` (any number, any order) from every key.

    Returns
    -------
    cleaned : dict of str to Tensor
        Same order and tensors.
    stripped : tuple of str
        The prefixes that were found, sorted.

    Raises
    ------
    FileFormatError
        Two keys become the same after stripping.

    Examples
    --------
    >>> clean_state_dict({"_orig_mod.module.fc.bias": torch.zeros(1)})[0].keys()
    dict_keys(['fc.bias'])
    """
    backbone = extract_backbone(dict(state_dict), "plain", "state dict")
    stripped = tuple(sorted(p for p in WRAPPER_PREFIXES if p in backbone.prefix))
    return backbone.state_dict, stripped


def apply_checkpoint(module: torch.nn.Module, backbone: Backbone, *, model_name: str = "the model",
                     head: tuple[str, ...] = (), allow_partial: bool = False) -> dict:
    """Load ``backbone`` into ``module`` and say what happened.

    Parameters
    ----------
    module : torch.nn.Module
    backbone : Backbone
        From :func:`read_checkpoint`.
    model_name : str
        Used in messages, e.g. the model spec.
    head : tuple of str
        Module names of the model's classifier (e.g. ``("fc",)``). SSL checkpoints carry no
        classifier: those keys may be missing (they keep their initial values and are listed as
        ``head_missing``).
    allow_partial : bool, default=False
        Load what matches instead of failing on missing backbone keys or unexpected keys.

    Returns
    -------
    dict
        ``format``, ``codebase``, ``entry``, ``prefix_stripped``, ``keys_loaded``, ``keys_dropped``,
        ``dropped`` (first keys), ``missing``, ``head_missing``, ``unexpected``, ``remapped``,
        ``trusted``.

    Raises
    ------
    ModelError
        A tensor's shape differs from the model's (always; names the key and both shapes),
        backbone keys are missing or keys are unexpected (unless ``allow_partial``).
    """
    expected = module.state_dict()
    state_dict, remapped = _remap_sequential_indices(dict(backbone.state_dict), module)
    head_prefixes = tuple(f"{h}." for h in head)
    dropped = list(backbone.dropped)
    unexpected = []
    modules = {k.rsplit(".", 1)[0] for k in expected}
    for key in [k for k in state_dict if k not in expected]:
        if key.startswith(HEAD_PREFIXES) and key.rsplit(".", 1)[0] not in modules:  # a head the model lacks
            dropped.append(backbone.prefix + key)
        else:
            unexpected.append(key)
        del state_dict[key]
    unexpected += backbone.other
    missing = [k for k in expected if k not in state_dict and not k.endswith("num_batches_tracked")]
    head_missing = [k for k in missing if k.startswith(head_prefixes)]
    missing = [k for k in missing if k not in head_missing]
    for key, value in state_dict.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            guess = guess_family(backbone.state_dict)
            raise ModelError(f"checkpoint entry {key!r} has shape {tuple(value.shape)} but {model_name} expects "
                             f"{tuple(expected[key].shape)}",
                             hint=(f"its keys look like {guess}; " if guess else "") +
                                  f"check that the checkpoint was trained with the architecture of {model_name} "
                                  "(same widths, patch size and number of classes)")
    if missing and not allow_partial:
        raise ModelError(f"checkpoint lacks {len(missing)} of the {len(expected)} entries {model_name} needs: "
                         f"{_first(missing)}", hint=_mismatch_hint(backbone, unexpected, state_dict, model_name))
    if unexpected and not allow_partial:
        raise ModelError(f"checkpoint has {len(unexpected)} entries {model_name} does not have: {_first(unexpected)}",
                         hint=_mismatch_hint(backbone, unexpected, state_dict, model_name))
    module.load_state_dict(state_dict, strict=False)
    return {**_describe(backbone), "keys_loaded": len(state_dict), "keys_dropped": len(dropped),
            "dropped": dropped[:_SHOWN], "missing": missing, "head_missing": head_missing,
            "unexpected": unexpected, "remapped": remapped}


def apply_state_dict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *,
                     model_name: str = "the model", allow_partial: bool = False) -> dict:
    """Load a plain, already-clean ``state_dict`` with the checks of :func:`apply_checkpoint`."""
    backbone = Backbone(state_dict=dict(state_dict), format="plain", entry="", prefix="")
    return apply_checkpoint(module, backbone, model_name=model_name, allow_partial=allow_partial)


def summary_line(info: Mapping) -> str:
    """One line saying what a checkpoint load did (format, prefix, loaded/dropped/missing/unexpected).

    Examples
    --------
    >>> summary_line({"format": "moco", "entry": "state_dict", "prefix_stripped": "module.encoder_q.",
    ...               "keys_loaded": 120, "keys_dropped": 130, "missing": [], "head_missing": ["fc.weight"],
    ...               "unexpected": [], "trusted": False})
    "checkpoint: format moco, entry 'state_dict', prefix 'module.encoder_q.' stripped; 120 keys loaded, 130 dropped, 0 missing, 0 unexpected; head left at its initial values: fc.weight"
    """
    where = f"entry {info['entry']!r}" if info.get("entry") else "top level"
    prefix = f"prefix {info['prefix_stripped']!r} stripped" if info.get("prefix_stripped") else "no prefix"
    line = (f"checkpoint: format {info['format']}, {where}, {prefix}; {info['keys_loaded']} keys loaded, "
            f"{info['keys_dropped']} dropped, {len(info['missing'])} missing, {len(info['unexpected'])} unexpected")
    if info["missing"]:
        line += f" (missing: {_first(info['missing'])})"
    if info["unexpected"]:
        line += f" (unexpected: {_first(info['unexpected'])})"
    if info["head_missing"]:
        line += f"; head left at its initial values: {_first(info['head_missing'])}"
    if info.get("remapped"):
        line += "; Sequential indices renamed to the model's children"
    if info.get("trusted"):
        line += "; read with full unpickling (--trust-checkpoint)"
    return line


def state_dict_sha256(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Hex sha256 over a state dict's keys, dtypes, shapes and tensor bytes, in key order.

    Each part is length-prefixed as in :func:`brainalign.safe_files.sha256_bytes`, so the hash is
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


def _describe(backbone: Backbone) -> dict:
    return {"format": backbone.format, "codebase": get_format(backbone.format).codebase, "entry": backbone.entry,
            "prefix_stripped": backbone.prefix, "n_tensors": len(backbone.state_dict),
            "trusted": backbone.trusted, "ignored_entries": backbone.ignored_entries}


def _remap_sequential_indices(state_dict: dict, module: torch.nn.Module) -> tuple[dict, bool]:
    """Rename ``N.rest`` keys of ``nn.Sequential(*model.children()[:-1])`` to the model's child names.

    Lightly's examples and benchmarks build the backbone that way, so ``0.weight`` is ``conv1.weight``
    and ``4.0.conv1.weight`` is ``layer1.0.conv1.weight`` for a torchvision/timm ResNet.
    """
    children = [name for name, _ in module.named_children()]
    if not state_dict or any(c.isdigit() for c in children) \
            or not all(k.split(".", 1)[0].isdigit() for k in state_dict):
        return state_dict, False
    renamed = {}
    for key, value in state_dict.items():
        index, rest = key.split(".", 1)
        if int(index) >= len(children):
            return state_dict, False
        renamed[f"{children[int(index)]}.{rest}"] = value
    return renamed, True


def _check_file(path: Path) -> Path:
    if not path.exists():
        raise FileFormatError(f"checkpoint {path} does not exist", hint="check the path")
    if path.is_dir():
        raise FileFormatError(f"checkpoint {path} is a directory, not a file",
                              hint="pass the .pt/.pth/.ckpt file itself")
    if path.stat().st_size == 0:
        raise FileFormatError(f"checkpoint {path} is empty", hint="the save was interrupted; save it again")
    return path


def _torch_load(path: Path, *, trust_checkpoint: bool):
    """``torch.load`` with ``weights_only=True`` (full unpickling only if ``trust_checkpoint``); our errors."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True), False
    except pickle.UnpicklingError as exc:
        names = pickled_globals(path)   # read without unpickling: what would loading import and call?
        if names and trust_checkpoint:
            return _torch_load_untrusted(path), True
        if names:
            shown = code_globals(names)
            raise ModelError(f"checkpoint {path} holds code that runs when loaded ({_first(shown)}); "
                             "brainalign does not unpickle files it is not told to trust",
                             hint="pass --trust-checkpoint if you trust it (loading then runs that code); "
                                  "or save only tensors: torch.save(model.state_dict(), path)") from None
        detail = re.search(r"WeightsUnpickler error:\s*([^\n]+)", str(exc))
        raise _corrupt(path, f"weights-only unpickler: {detail.group(1) if detail else 'refused'}") from None
    except MemoryError:
        raise
    except Exception as exc:  # torch raises RuntimeError, EOFError, KeyError, struct.error, ...
        raise _corrupt(path, _reason(exc)) from None


def _torch_load_untrusted(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=False)
    except MemoryError:
        raise
    except (Exception, SystemExit) as exc:  # unpickling runs arbitrary code: anything can fail, or exit
        raise FileFormatError(f"checkpoint {path} could not be unpickled ({_reason(exc)})",
                              hint="it may need the training code's classes importable; "
                                   "or save only tensors: torch.save(model.state_dict(), path)") from None


def _reason(exc: Exception) -> str:
    first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0]
    return f"{type(exc).__name__}: {first[:120]}" if first else type(exc).__name__


def _corrupt(path: Path, reason: str) -> FileFormatError:
    return FileFormatError(f"checkpoint {path} is truncated, corrupt or not a torch.save file ({reason})",
                           hint="download or save it again with torch.save(model.state_dict(), path); "
                                "plain pickle.dump files are not read")


def _first(keys: list) -> str:
    shown = ", ".join(str(k) for k in keys[:_SHOWN])
    return shown + (f", ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else "")


def _mismatch_hint(backbone: Backbone, unexpected: list[str], loaded: dict, model_name: str) -> str:
    guess = guess_family(backbone.state_dict)
    family = f"its keys look like {guess}; " if guess else ""
    if unexpected and not loaded:
        return (f"{family}is this a checkpoint of {model_name}? none of its {len(backbone.state_dict)} backbone "
                f"keys (like {unexpected[0]!r}) is in {model_name}; see `brainalign models inspect CKPT`")
    partial = "pass --allow-partial to load what matches, or " if loaded else ""
    return (f"{family}{partial}check the model and --checkpoint-format "
            f"(detected {backbone.format}; `brainalign models inspect CKPT` shows the keys)")
