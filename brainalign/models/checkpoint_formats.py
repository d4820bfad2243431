"""Checkpoint layouts of the training codebases, in a registry: where the backbone lives, what to drop.

Each :class:`CheckpointFormat` says which top-level entry holds the weights (``state_dict``,
``model``, ``teacher``, ...), which key prefix marks the backbone (``encoder_q.``,
``base_encoder.``, ``backbone.``, ...) and which keys are training-only parts to drop (projection
and prediction heads, momentum encoders, queues), and recognises its files with ``detect``.
Formats register themselves with the :func:`register_format` decorator, one module each: the
built-in ones are the modules of :mod:`brainalign.models.formats` (see the table there), and
other packages add theirs through the entry-point group ``brainalign.checkpoint_formats`` (see
:mod:`brainalign.plugins`). Both are loaded on the first lookup.

:func:`detect_format` asks the formats from the highest ``priority`` down which one wrote a
file; :func:`extract_backbone` applies one. ``module.`` (DDP) and ``_orig_mod.``
(``torch.compile``) are stripped from every key first, in any format.

Nothing here imports torch until a checkpoint's tensors are checked, so listing formats is cheap.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..errors import FileFormatError

if TYPE_CHECKING:
    import torch

#: Prefixes added by ``nn.DataParallel`` / DDP (``module.``) and ``torch.compile`` (``_orig_mod.``).
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

#: Priority of a format registered without one: asked before every built-in format.
DEFAULT_PRIORITY = 200

_SHOWN = 5


@dataclass(frozen=True)
class CheckpointView:
    """What detection looks at: the loaded file and a summary of its weight keys.

    Attributes
    ----------
    obj : the ``torch.load`` result (a mapping).
    heads : first components of the weights' keys (wrapper prefixes stripped), e.g.
        ``{"encoder_q", "encoder_k", "queue"}``; the weights are the ``state_dict`` or ``model``
        entry when one is a mapping, else the file itself.
    lightning : whether PyTorch Lightning wrote the file (``pytorch-lightning_version``, or
        ``global_step`` beside a ``state_dict``).
    """

    obj: Mapping
    heads: frozenset[str]
    lightning: bool

    @classmethod
    def of(cls, obj: Mapping) -> CheckpointView:
        lightning = "pytorch-lightning_version" in obj or ("global_step" in obj and _is_mapping(obj.get("state_dict")))
        inner = next((obj[k] for k in ("state_dict", "model") if _is_mapping(obj.get(k))), obj)
        heads = frozenset(_strip_wrappers(k)[1].split(".")[0] for k in inner if isinstance(k, str))
        return cls(obj=obj, heads=heads, lightning=lightning)

    def has_mapping(self, key: str) -> bool:
        """Whether the file's top-level entry ``key`` is a mapping."""
        return _is_mapping(self.obj.get(key))


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
    detect : ``detect(view: CheckpointView) -> bool``, whether a file is of this format.
    priority : formats are asked from the highest priority down; the built-ins use 0 (``plain``,
        the fallback) to 130, a new format defaults to :data:`DEFAULT_PRIORITY` (asked first).
    aliases : other accepted ``--checkpoint-format`` values.
    also_dropped : ``also_dropped(obj) -> list of str``, keys of training-only parts kept
        outside the weights' entry (VISSL's heads beside its trunk), listed as dropped.
    """

    name: str
    codebase: str
    entries: tuple[tuple[str, ...], ...]
    backbones: tuple[str, ...]
    drop: tuple[str, ...] = ()
    detect: Callable[[CheckpointView], bool] = field(default=lambda view: False, repr=False, compare=False)
    priority: int = DEFAULT_PRIORITY
    aliases: tuple[str, ...] = ()
    also_dropped: Callable[[Mapping], list[str]] | None = field(default=None, repr=False, compare=False)


_FORMATS: dict[str, CheckpointFormat] = {}
_ALIASES: dict[str, str] = {}
_loaded = False


def register_format(*, name: str, codebase: str, entries: tuple[tuple[str, ...], ...], backbones: tuple[str, ...],
                    drop: tuple[str, ...] = (), priority: int = DEFAULT_PRIORITY, aliases: tuple[str, ...] = (),
                    also_dropped: Callable[[Mapping], list[str]] | None = None):
    """Decorator: register the decorated ``detect(view) -> bool`` as format ``name``'s detector.

    The other arguments are the :class:`CheckpointFormat` fields. A name or alias may be taken
    once; the decorated function is returned unchanged.

    Examples
    --------
    >>> @register_format(name="mylab", codebase="my lab's trainer", entries=(("net",),),
    ...                  backbones=("trunk.",), drop=("trunk.head.*",))      # doctest: +SKIP
    ... def detect(view):
    ...     return "mylab_version" in view.obj
    """
    def decorator(detect: Callable[[CheckpointView], bool]) -> Callable[[CheckpointView], bool]:
        fmt = CheckpointFormat(name=name, codebase=codebase, entries=tuple(map(tuple, entries)),
                               backbones=tuple(backbones), drop=tuple(drop), detect=detect, priority=priority,
                               aliases=tuple(aliases), also_dropped=also_dropped)
        if not fmt.entries or not fmt.backbones:
            raise ValueError(f"checkpoint format {name!r} needs at least one entry and one backbone prefix")
        for taken in (name, *fmt.aliases):
            if taken in _FORMATS or taken in _ALIASES:
                raise ValueError(f"checkpoint format name {taken!r} is registered twice")
        _FORMATS[name] = fmt
        _ALIASES.update(dict.fromkeys(fmt.aliases, name))
        return detect
    return decorator


def _ensure_registered() -> None:
    """Import the built-in format modules and the installed plugins' formats (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import formats
    from .. import plugins

    for module in pkgutil.iter_modules(formats.__path__):
        importlib.import_module(f"{formats.__name__}.{module.name}")   # runs its @register_format
    plugins.load_plugins("brainalign.checkpoint_formats")


def list_formats() -> dict[str, CheckpointFormat]:
    """Every registered format by name, in the order :func:`detect_format` asks them."""
    _ensure_registered()
    return {f.name: f for f in sorted(_FORMATS.values(), key=lambda f: -f.priority)}


def get_format(name: str) -> CheckpointFormat:
    """The format registered as ``name`` or as an alias of it; FileFormatError listing them otherwise."""
    canonical = resolve_format_name(name)
    if canonical is None:
        raise FileFormatError("format 'auto' is detected, not looked up", hint="pass a format name")
    return _FORMATS[canonical]


def resolve_format_name(name: str | None) -> str | None:
    """Canonical format name for ``name`` (None or ``"auto"`` mean detect); FileFormatError if unknown."""
    if name is None or name == "auto":
        return None
    _ensure_registered()
    name = _ALIASES.get(name, name)
    if name not in _FORMATS:
        raise FileFormatError(f"unknown checkpoint format {name!r}",
                              hint=f"use auto or one of {', '.join(format_names()[1:])} "
                                   "(`brainalign models formats` describes them)")
    return name


def format_names() -> list[str]:
    """Every accepted ``--checkpoint-format`` value: ``auto``, the format names, then their aliases."""
    formats = list_formats()
    return ["auto", *formats, *(alias for f in formats.values() for alias in f.aliases)]


def detect_format(obj: Mapping) -> str:
    """The name of the format that wrote ``obj`` (a ``torch.load`` result): the first, from the
    highest priority down, whose ``detect`` accepts it (``plain`` accepts every file)."""
    view = CheckpointView.of(obj)
    return next(f.name for f in list_formats().values() if f.detect(view))


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
    metadata : what the file says about its training, for the leaderboard (see
        :func:`brainalign.models.checkpoint_metadata.checkpoint_metadata`).
    """

    state_dict: dict[str, torch.Tensor]
    format: str
    entry: str
    prefix: str
    dropped: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    ignored_entries: list[str] = field(default_factory=list)
    trusted: bool = False
    metadata: dict = field(default_factory=dict)


def extract_backbone(obj: Mapping, name: str, path) -> Backbone:
    """Apply format ``name`` to ``obj``: find its weights, strip prefixes, drop training-only keys.

    Raises
    ------
    FileFormatError
        None of the format's entries is in the file, the entry is not a mapping of names to
        tensors, or two keys collide once prefixes are stripped.
    """
    fmt = get_format(name)
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
    if fmt.also_dropped is not None:
        dropped += fmt.also_dropped(obj)
    top = list(entry[:1])
    ignored = [k for k in obj if k not in top] if entry else []
    prefix = "".join(p for p in WRAPPER_PREFIXES if p in wrappers) + backbone_prefix
    return Backbone(state_dict=state_dict, format=fmt.name, entry=".".join(entry), prefix=prefix,
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


def _strip_wrappers(key: str) -> tuple[tuple[str, ...], str]:
    stripped = []
    while prefix := next((p for p in WRAPPER_PREFIXES if key.startswith(p)), None):
        stripped.append(prefix)
        key = key[len(prefix):]
    return tuple(stripped), key


def _check_tensors(weights: Mapping, path, where: str) -> None:
    import torch

    bad = next((k for k, v in weights.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)), None)
    if bad is not None:
        raise FileFormatError(f"checkpoint {path} is not a mapping of names to tensors "
                              f"(entry {bad!r} in {where} is a {type(weights[bad]).__name__})",
                              hint=f"its keys are {_first(list(weights))}; pick the format with "
                                   f"--checkpoint-format ({', '.join(list_formats())})")


def _all_tensors(mapping: Mapping) -> bool:
    import torch

    return bool(mapping) and all(isinstance(v, torch.Tensor) for v in mapping.values())


def _is_mapping(value) -> bool:
    return isinstance(value, Mapping)


def _first(keys: list) -> str:
    shown = ", ".join(str(k) for k in keys[:_SHOWN])
    return shown + (f", ... ({len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else "")
