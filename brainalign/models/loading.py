"""Turn a model spec (and optionally a checkpoint) into a :class:`LoadedModel`.

Spec grammar::

    timm:NAME          a timm architecture, e.g. timm:resnet18 or timm:resnet18.a1_in1k
    torchvision:NAME   a torchvision classification architecture, e.g. torchvision:alexnet
    zoo:NAME | NAME    a brainalign zoo model, e.g. alexnet_bn64, pixels

Nothing is downloaded: timm models are built with ``pretrained=False`` and torchvision models with
``weights=None``; weights come from a random init (explicit seed) or a local checkpoint.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable

from torch import nn

from ..errors import ModelError
from ..safe_files import sha256_file
from .base import IMAGENET_MEAN, IMAGENET_STD, LoadedModel, Preprocessing, seeded
from .checkpoint import apply_checkpoint, read_checkpoint, state_dict_sha256, summary_line
from .options import LoadOptions
from .registry import ZooEntry, list_zoo, zoo_factory
from .specs import library_names, parse_spec, suggest, torchvision_names

logger = logging.getLogger("brainalign.models")

#: Most layers a default inventory holds (timm CNNs: stages plus one pooled layer).
MAX_DEFAULT_LAYERS = 12

_INTERPOLATIONS = ("bilinear", "bicubic", "nearest")


def load_model(spec: str, options: LoadOptions | None = None, **keywords) -> LoadedModel:
    """Build a model from ``spec``, with a seeded random init or the weights in a checkpoint.

    Parameters
    ----------
    spec : str
        See :func:`parse_spec`.
    options : LoadOptions, optional
        Checkpoint, seed, checkpoint format, trust, partial loading and token mode (see
        :class:`brainalign.models.options.LoadOptions`); the default is a random init with seed 0.
    **keywords
        Instead of ``options``, its fields by name: ``load_model(spec, checkpoint=path)`` is
        ``load_model(spec, LoadOptions(checkpoint=path))``. The checkpoint (of any supported
        codebase, see :mod:`brainalign.models.checkpoint_formats`) is read once: its backbone is
        loaded with checked keys and shapes (:func:`brainalign.models.checkpoint.apply_checkpoint`)
        and what it says about its training is kept in ``checkpoint_metadata``.

    Returns
    -------
    LoadedModel
        In eval mode with ``requires_grad`` off. ``weights_sha256`` is the sha256 of the
        checkpoint file, or for a random init of the state dict (same seed, same hash).
        ``layers`` holds every named submodule in registration order; ``default_layers`` the
        inventory scored by ``--layers all``, at most :data:`MAX_DEFAULT_LAYERS` names:

        - zoo: declared by each zoo entry;
        - timm CNNs: the modules of ``model.feature_info`` (timm's declared stages) plus the pooled
          pre-logits features (``head.pre_logits``, ``head.global_pool`` or ``global_pool``,
          whichever comes first);
        - timm transformers (no pooling module): each ``blocks.N``;
        - torchvision: the top-level children except the classifier (``fc``, ``classifier``,
          ``head``, ``heads``), auxiliary heads and modules that only reshape or drop out
          (Dropout, Flatten, Identity, Permute), with the stage containers ``features``,
          ``trunk_output``, ``layers``, ``blocks`` and ``encoder.layers`` opened one level (so
          ResNets give ``conv1`` .. ``maxpool``, ``layer1`` .. ``layer4``, ``avgpool``; AlexNet
          and VGG the children of ``features``, then ``avgpool``).

        Longer lists keep evenly spaced names, always the first and the last.

    Raises
    ------
    TypeError
        Both ``options`` and keywords, or a keyword that is not a field of ``LoadOptions``.
    InputError
        A malformed spec, a seed that is not an integer, an unknown token mode.
    ModelError
        An unknown model, or a checkpoint that does not fit it.
    FileFormatError
        A missing, unreadable or corrupt checkpoint.

    Examples
    --------
    >>> m = load_model("pixels")
    >>> m.spec, m.default_layers, m.checkpoint, m.seed
    ('pixels', ('pixels',), None, 0)
    """
    if options is not None and keywords:
        raise TypeError("load_model takes options or keywords, not both")
    source, name = parse_spec(spec)
    options = options if options is not None else LoadOptions(**keywords)
    checkpoint, seed = options.checkpoint, options.seed
    canonical = name if source == "zoo" else f"{source}:{name}"
    backbone = None if checkpoint is None else read_checkpoint(
        checkpoint, checkpoint_format=options.checkpoint_format, trust_checkpoint=options.trust_checkpoint)
    entry = _BUILDERS[source](name, seed)
    module = entry.module
    ckpt_info = None
    if backbone is None:
        weights_sha256 = state_dict_sha256(module.state_dict())
    else:
        ckpt_info = apply_checkpoint(module, backbone, model_name=canonical, head=tuple(entry.head),
                                     allow_partial=options.allow_partial)
        ckpt_info["path"] = str(Path(checkpoint).resolve())
        logger.info(summary_line(ckpt_info))
        weights_sha256 = sha256_file(checkpoint)
    module.eval().requires_grad_(False)
    return LoadedModel(
        spec=canonical,
        module=module,
        preprocessing=entry.preprocessing,
        layers=tuple(n for n, _ in module.named_modules() if n),
        default_layers=tuple(entry.default_layers),
        weights_sha256=weights_sha256,
        checkpoint=None if checkpoint is None else str(Path(checkpoint).resolve()),
        seed=seed if checkpoint is None else None,
        tokens=options.tokens,
        checkpoint_metadata={} if backbone is None else backbone.metadata,
        info={"source": source, "description": entry.description,
              "weights_hash_of": "state_dict" if checkpoint is None else "file",
              **({} if ckpt_info is None else {"checkpoint": ckpt_info})},
    )


# --- zoo -----------------------------------------------------------------------------------------

def _build_zoo(name: str, seed: int) -> ZooEntry:
    if name not in list_zoo():
        catalogues = {source: library_names(source) for source in ("timm", "torchvision")}
        elsewhere = [f"{source}:{name}" for source, names in catalogues.items() if name in names]
        hint = f"did you mean {' or '.join(elsewhere)}?" if elsewhere else suggest(name, list_zoo(), "zoo")
        raise ModelError(f"unknown zoo model {name!r}", hint=hint)
    return zoo_factory(name)(seed=seed)


# --- timm ----------------------------------------------------------------------------------------

def _build_timm(name: str, seed: int) -> ZooEntry:
    import timm

    if not timm.is_model(name):   # the names are remembered: the next command refuses it without timm
        raise ModelError(f"unknown timm model {name!r}", hint=suggest(name, library_names("timm"), "timm"))
    arch, _, tag = name.partition(".")
    if tag and name not in timm.list_pretrained(f"{arch}.*"):
        tags = [n.partition(".")[2] for n in timm.list_pretrained(f"{arch}.*")]
        raise ModelError(f"timm model {arch!r} has no config tag {tag!r}",
                         hint=f"known tags: {', '.join(tags[:8]) or 'none'}; or drop the tag")
    with seeded(seed):
        module = timm.create_model(name, pretrained=False)
    classifier = module.pretrained_cfg.get("classifier") or ()
    return ZooEntry(module=module, preprocessing=_timm_preprocessing(module, name),
                    default_layers=_timm_default_layers(module),
                    description=f"timm {name}, no pretrained weights",
                    head=(classifier,) if isinstance(classifier, str) else tuple(classifier))


def _timm_preprocessing(module: nn.Module, name: str) -> Preprocessing:
    """Preprocessing from timm's data config: resize floor(size / crop_pct), centre crop size.

    Interpolations other than bilinear, bicubic and nearest (rare in timm) become bicubic.
    """
    from timm.data import resolve_data_config

    cfg = resolve_data_config({}, model=module)
    channels, height, width = cfg["input_size"]
    if height != width or channels not in (1, 3):
        raise ModelError(f"timm model {name!r} expects input {channels}x{height}x{width}",
                         hint="brainalign supports square inputs with 1 or 3 channels")
    interpolation = cfg["interpolation"] if cfg["interpolation"] in _INTERPOLATIONS else "bicubic"
    return Preprocessing(input_size=height, resize=math.floor(height / (cfg.get("crop_pct") or 1.0)),
                         crop=height, mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
                         interpolation=interpolation, channels=channels)


def _timm_default_layers(module: nn.Module) -> tuple[str, ...]:
    names = dict(module.named_modules())
    stages = [info["module"] for info in getattr(module, "feature_info", None) or []
              if info.get("module") in names]
    pooled = next((n for n in ("head.pre_logits", "head.global_pool", "global_pool") if n in names), None)
    if pooled is None:
        return _evenly_spaced(stages, MAX_DEFAULT_LAYERS)
    return _evenly_spaced(stages, MAX_DEFAULT_LAYERS - 1) + (pooled,)


# --- torchvision ---------------------------------------------------------------------------------

_TORCHVISION_HEADS = frozenset({"fc", "classifier", "head", "heads"})
_TORCHVISION_STAGES = frozenset({"features", "trunk_output", "layers", "blocks"})
_TORCHVISION_SKIPPED = frozenset({"Dropout", "Flatten", "Identity", "Permute"})  # no new values


def _build_torchvision(name: str, seed: int) -> ZooEntry:
    import torchvision

    if name not in torchvision_names():   # remembered, as timm's
        raise ModelError(f"unknown torchvision model {name!r}",
                         hint=suggest(name, library_names("torchvision"), "torchvision"))
    with seeded(seed):
        module = torchvision.models.get_model(name, weights=None)
    preprocessing = Preprocessing(input_size=224, resize=256, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    return ZooEntry(module=module, preprocessing=preprocessing,
                    default_layers=_torchvision_default_layers(module),
                    description=f"torchvision {name}, no pretrained weights",
                    head=tuple(n for n, _ in module.named_children() if n in _TORCHVISION_HEADS))


def _torchvision_default_layers(module: nn.Module) -> tuple[str, ...]:
    names: list[str] = []
    for name, child in module.named_children():
        if (name in _TORCHVISION_HEADS or name.lower().startswith("aux")
                or type(child).__name__ in _TORCHVISION_SKIPPED):
            continue
        if name in _TORCHVISION_STAGES:
            names += [f"{name}.{sub}" for sub, _ in child.named_children()]
        elif name == "encoder" and isinstance(getattr(child, "layers", None), nn.Module):
            names += [f"encoder.layers.{sub}" for sub, _ in child.layers.named_children()]
        else:
            names.append(name)
    return _evenly_spaced(names, MAX_DEFAULT_LAYERS)


# --- shared --------------------------------------------------------------------------------------

_BUILDERS: dict[str, Callable[[str, int], ZooEntry]] = {
    "timm": _build_timm,
    "torchvision": _build_torchvision,
    "zoo": _build_zoo,
}


def _evenly_spaced(names: list[str], k: int) -> tuple[str, ...]:
    """At most ``k`` of ``names``, evenly spaced, always keeping the first and the last."""
    if len(names) <= k:
        return tuple(names)
    picks = sorted({round(i * (len(names) - 1) / (k - 1)) for i in range(k)})
    return tuple(names[i] for i in picks)
