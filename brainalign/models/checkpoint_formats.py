"""Checkpoint layouts of the common training codebases: where the backbone lives, what to drop.

Each :class:`CheckpointFormat` says which top-level entry holds the weights (``state_dict``,
``model``, ``teacher``, ...), which key prefix marks the backbone (``encoder_q.``,
``base_encoder.``, ``backbone.``, ...) and which keys are training-only parts to drop (projection
and prediction heads, momentum encoders, queues). :func:`detect_format` picks one from the file's
top-level keys and key names; :func:`extract_backbone` applies it::

    codebase                          entry                         backbone          dropped
    plain / torchvision               the dict (or state_dict, model) as is           -
    moco (v1/v2)                      state_dict                    encoder_q.        encoder_q.fc, encoder_k., queue
    mocov3                            state_dict                    base_encoder.     base_encoder.fc/head, momentum_encoder., predictor.
    simsiam                           state_dict                    encoder.          encoder.fc, predictor.
    barlowtwins / vicreg              model (or the dict)           backbone.         projector., bn.
    solo-learn (Lightning .ckpt)      state_dict                    backbone./encoder. projector., predictor., classifier., momentum_*
    lightly (Lightning or examples)   state_dict (or the dict)      backbone.         projection_head., prediction_head., online_classifier., *_momentum.
    simclr (sthalles, Spijkervet)     state_dict (or the dict)      backbone./encoder. backbone.fc, projector.
    dino                              teacher (else student)        backbone.         head.
    timm (train checkpoints)          state_dict_ema, state_dict    as is             -
    vissl                             classy_state_dict.base_model.model.trunk  _feature_blocks.  heads
    mouse_vision (Nayebi et al.)      model_state_dict              as is             the other *_state_dict entries
    brainalign (brainalign train)     model                         as is             - (heads live in state.pt)

``module.`` (DDP) and ``_orig_mod.`` (``torch.compile``) are stripped from every key first, in any
format. Lightly's ``backbone.N.`` indices (``nn.Sequential(*resnet.children()[:-1])``) are
renamed to the model's child names when the weights are applied (see
:func:`brainalign.models.checkpoint.apply_checkpoint`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
import torch

from ..errors import FileFormatError

#: Prefixes added by ``nn.DataParallel`` / DDP (``module.``) and ``torch.compile`` (``_orig_mod.``).
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

_SHOWN = 5


@dataclass(frozen=True)
class CheckpointFormat:
    """One codebase's checkpoint layout.

    Attributes
    ----------
    name : the ``--checkpoint-format`` value.
    codebase : who writes it, for messages.
    entries : candidate paths to the weights inside the file, in order of preference; ``()`` is
        the top-level mapping itself.
    backbones : candidate backbone prefixes (after wrapper prefixes are stripped); the first one
        that some key starts with is used; ``""`` keeps every key.
    drop : shell patterns of keys (wrapper-stripped, backbone prefix kept) that are training-only.
    """

    name: str
    codebase: str
    entries: tuple[tuple[str, ...], ...]
    backbones: tuple[str, ...]
    drop: tuple[str, ...] = ()


FORMATS: dict[str, CheckpointFormat] = {f.name: f for f in (
    CheckpointFormat("plain", "plain state dict / torchvision", (("state_dict",), ("model",), ()), ("",)),
    CheckpointFormat("moco", "facebookresearch/moco (v1/v2)", (("state_dict",), ()), ("encoder_q.",),
                     ("encoder_q.fc.*", "encoder_k.*", "queue", "queue_ptr")),
    CheckpointFormat("mocov3", "facebookresearch/moco-v3", (("state_dict",), ()), ("base_encoder.",),
                     ("base_encoder.fc.*", "base_encoder.head.*", "momentum_encoder.*", "predictor.*")),
    CheckpointFormat("simsiam", "facebookresearch/simsiam", (("state_dict",), ()), ("encoder.",),
                     ("encoder.fc.*", "predictor.*")),
    CheckpointFormat("barlowtwins", "facebookresearch/barlowtwins or vicreg", (("model",), ()), ("backbone.",),
                     ("projector.*", "bn.*")),
    CheckpointFormat("solo-learn", "solo-learn (PyTorch Lightning .ckpt)", (("state_dict",),),
                     ("backbone.", "encoder."),
                     ("projector.*", "predictor.*", "classifier.*", "momentum_*")),
    CheckpointFormat("lightly", "lightly (Lightning benchmarks or examples)", (("state_dict",), ()), ("backbone.",),
                     ("projection_head.*", "prediction_head.*", "online_classifier.*", "*_momentum.*")),
    CheckpointFormat("simclr", "SimCLR ports (sthalles, Spijkervet)", (("state_dict",), ()),
                     ("backbone.", "encoder."), ("backbone.fc.*", "encoder.fc.*", "projector.*")),
    CheckpointFormat("dino", "facebookresearch/dino", (("teacher",), ("student",)), ("backbone.",), ("head.*",)),
    CheckpointFormat("timm", "timm train checkpoints", (("state_dict_ema",), ("state_dict",)), ("",)),
    CheckpointFormat("vissl", "facebookresearch/vissl",
                     (("classy_state_dict", "base_model", "model", "trunk"),), ("_feature_blocks.", "")),
    CheckpointFormat("mouse_vision", "neuroailab/mouse-vision (Nayebi et al.)", (("model_state_dict",),), ("",)),
    CheckpointFormat("brainalign", "brainalign train (RUN_DIR/checkpoints/epoch_*.pt)", (("model",),), ("",)),
)}

#: Accepted as ``--checkpoint-format`` besides the names in :data:`FORMATS`.
ALIASES = {"vicreg": "barlowtwins", "torchvision": "plain", "lightning": "solo-learn", "nayebi": "mouse_vision"}


@dataclass
class Backbone:
    """The backbone weights found in a checkpoint, and what was left out.

    Attributes
    ----------
    state_dict : backbone keys with every prefix stripped, in file order.
    format : the format's name.
    entry : the path to the weights inside the file, dot-joined (``""`` for the top level).
    prefix : what was stripped from each backbone key, e.g. ``"module.encoder_q."``.
    dropped : original keys left out as training-only parts (heads, momentum encoders, queues).
    other : original keys that are neither backbone nor dropped (they count as unexpected).
    ignored_entries : other top-level entries of the file (optimizer, epoch, ...).
    trusted : whether the file was read with full unpickling.
    """

    state_dict: dict[str, torch.Tensor]
    format: str
    entry: str
    prefix: str
    dropped: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    ignored_entries: list[str] = field(default_factory=list)
    trusted: bool = False


def resolve_format_name(name: str | None) -> str | None:
    """Canonical format name for ``name`` (None or ``"auto"`` mean detect); FileFormatError if unknown."""
    if name is None or name == "auto":
        return None
    name = ALIASES.get(name, name)
    if name not in FORMATS:
        raise FileFormatError(f"unknown checkpoint format {name!r}",
                              hint=f"use auto or one of {', '.join(format_names())}")
    return name


def format_names() -> list[str]:
    """Every accepted ``--checkpoint-format`` value, ``auto`` first."""
    return ["auto", *FORMATS, *ALIASES]


def detect_format(obj: Mapping) -> str:
    """The name of the format that wrote ``obj`` (a ``torch.load`` result), from its keys.

    Top-level entries decide first (``classy_state_dict`` -> vissl, ``teacher``/``student`` ->
    dino, ``model_state_dict`` -> mouse_vision, ``brainalign_training`` -> brainalign, a Lightning
    file -> solo-learn or lightly); then the
    key prefixes of the weights (``encoder_q.`` -> moco, ``base_encoder.`` -> mocov3, ...); a
    plain state dict wrapped with ``state_dict_ema``/``args`` is timm's, else plain.
    """
    if _is_mapping(obj.get("classy_state_dict")):
        return "vissl"
    if _is_mapping(obj.get("teacher")) or _is_mapping(obj.get("student")):
        return "dino"
    if _is_mapping(obj.get("model_state_dict")):
        return "mouse_vision"
    if _is_mapping(obj.get("brainalign_training")) and _is_mapping(obj.get("model")):
        return "brainalign"
    lightning = "pytorch-lightning_version" in obj or ("global_step" in obj and _is_mapping(obj.get("state_dict")))
    inner = next((obj[k] for k in ("state_dict", "model") if _is_mapping(obj.get(k))), obj)
    heads = {_strip_wrappers(k)[1].split(".")[0] for k in inner if isinstance(k, str)}
    if lightning:
        lightly = {"projection_head", "prediction_head", "online_classifier"} & heads or \
            any(h.endswith("_momentum") for h in heads)
        return "lightly" if lightly else "solo-learn"
    for marker, name in (("encoder_q", "moco"), ("base_encoder", "mocov3")):
        if marker in heads:
            return name
    if "encoder" in heads and "predictor" in heads:
        return "simsiam"
    if "backbone" in heads and "projection_head" in heads:
        return "lightly"
    if "backbone" in heads and ("bn" in heads or _is_mapping(obj.get("model"))):
        return "barlowtwins"
    if "backbone" in heads or ("encoder" in heads and ("projector" in heads or heads == {"encoder"})):
        return "simclr"
    if _is_mapping(obj.get("state_dict_ema")) or (_is_mapping(obj.get("state_dict")) and "args" in obj):
        return "timm"
    return "plain"


def extract_backbone(obj: Mapping, name: str, path) -> Backbone:
    """Apply format ``name`` to ``obj``: find its weights, strip prefixes, drop training-only keys.

    Raises
    ------
    FileFormatError
        None of the format's entries is in the file, the entry is not a mapping of names to
        tensors, or two keys collide once prefixes are stripped.
    """
    fmt = FORMATS[name]
    entry, weights = _find_entry(obj, fmt, path)
    _check_tensors(weights, path, ".".join(entry) or "the top level")
    backbone_prefix = next((p for p in fmt.backbones
                            if any(_strip_wrappers(k)[1].startswith(p) for k in weights)), fmt.backbones[-1])
    state_dict: dict[str, torch.Tensor] = {}
    dropped, other, wrappers = [], [], set()
    for key, value in weights.items():
        stripped, clean = _strip_wrappers(key)
        wrappers.update(stripped)
        if any(fnmatch.fnmatchcase(clean, pattern) for pattern in fmt.drop):
            dropped.append(key)
        elif clean.startswith(backbone_prefix):
            new_key = clean[len(backbone_prefix):]
            if new_key in state_dict:
                raise FileFormatError(f"checkpoint {path}: keys {key!r} and another both become {new_key!r} "
                                      "once prefixes are stripped",
                                      hint="save the unwrapped model's state_dict() instead")
            state_dict[new_key] = value
        else:
            other.append(key)
    dropped += _sibling_heads(obj, name)
    top = list(entry[:1])
    ignored = [k for k in obj if k not in top] if entry else []
    prefix = "".join(p for p in WRAPPER_PREFIXES if p in wrappers) + backbone_prefix
    return Backbone(state_dict=state_dict, format=name, entry=".".join(entry), prefix=prefix,
                    dropped=dropped, other=other, ignored_entries=[str(k) for k in ignored])


def _find_entry(obj: Mapping, fmt: CheckpointFormat, path) -> tuple[tuple[str, ...], Mapping]:
    for entry in fmt.entries:
        node = obj
        for part in entry:
            node = node.get(part) if _is_mapping(node) else None
        if _is_mapping(node) and (entry or _all_tensors(node)):
            return entry, node
    wanted = " or ".join(".".join(e) or "a bare state dict" for e in fmt.entries)
    raise FileFormatError(f"checkpoint {path} is not a {fmt.name} checkpoint ({fmt.codebase}): it has no {wanted}",
                          hint=f"its top-level keys are {_first(list(obj))}; try --checkpoint-format auto")


def _sibling_heads(obj: Mapping, name: str) -> list[str]:
    """VISSL keeps its heads next to the trunk: list their keys as dropped."""
    if name != "vissl":
        return []
    heads = obj["classy_state_dict"]["base_model"]["model"].get("heads", {})
    return [f"heads.{k}" for k in heads] if _is_mapping(heads) else []


def _strip_wrappers(key: str) -> tuple[tuple[str, ...], str]:
    stripped = []
    while prefix := next((p for p in WRAPPER_PREFIXES if key.startswith(p)), None):
        stripped.append(prefix)
        key = key[len(prefix):]
    return tuple(stripped), key


def _check_tensors(weights: Mapping, path, where: str) -> None:
    bad = next((k for k, v in weights.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)), None)
    if bad is not None:
        raise FileFormatError(f"checkpoint {path} is not a mapping of names to tensors "
                              f"(entry {bad!r} in {where} is a {type(weights[bad]).__name__})",
                              hint=f"its keys are {_first(list(weights))}; pick the format with "
                                   f"--checkpoint-format ({', '.join(FORMATS)})")


def _all_tensors(mapping: Mapping) -> bool:
    return bool(mapping) and all(isinstance(v, torch.Tensor) for v in mapping.values())


def _is_mapping(value) -> bool:
    return isinstance(value, Mapping)


def _first(keys: list) -> str:
    shown = ", ".join(str(k) for k in keys[:_SHOWN])
    return shown + (f", ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else "")
