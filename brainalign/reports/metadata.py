"""Model metadata for the leaderboard: training objective, architecture, training data, epoch, run.

Sources, first one that says wins: the user's flags; solo-learn's ``args.json`` beside the
checkpoint; a ``brainalign train`` checkpoint's ``brainalign_training`` entry (objective,
architecture, training data, epoch, run id; its data content hash, seed and code version go to
``training``); a PyTorch Lightning checkpoint's ``epoch`` and ``hyper_parameters``; the checkpoint's
file name (``...-ep=99.ckpt``, ``epoch_12.pth``, MoCo's ``checkpoint_0199.pth.tar``). Each field's
source is recorded in ``metadata_source``. Nothing here unpickles code: checkpoints are read with
``torch.load(weights_only=True)`` and skipped when that refuses them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

FIELDS = ("objective", "architecture", "training_data", "epoch", "run")

# spelling in training codebases -> the objective family the leaderboard groups by
OBJECTIVES = {
    "supervised": "supervised", "classification": "supervised", "linear": "supervised",
    "simclr": "simclr", "moco": "moco", "mocov2": "moco", "mocov2plus": "moco", "mocov3": "moco",
    "simsiam": "simsiam", "byol": "byol", "barlow": "barlow", "barlowtwins": "barlow", "barlow_twins": "barlow",
    "vicreg": "vicreg", "vibcreg": "vicreg", "swav": "swav", "dino": "dino", "nnclr": "nnclr",
    "rotnet": "rotnet", "rotation": "rotnet", "ir": "instance recognition", "instance": "instance recognition",
    "instance_recognition": "instance recognition", "npid": "instance recognition",
    "sparse_autoencoder": "sparse autoencoder", "sae": "sparse autoencoder", "autoencoder": "autoencoder",
    "depth": "depth", "depth_prediction": "depth", "clapp": "clapp", "layerwise": "layerwise",
    "untrained": "untrained", "random": "untrained",
}

_EPOCH_PATTERNS = (re.compile(r"(?:^|[-_.])(?:ep|epoch)[=_-]?(\d+)", re.I), re.compile(r"^checkpoint_(\d{3,})\b"))
_EPOCH_PART = re.compile(r"[-_.]?(?:ep|epoch)[=_-]?\d+(?:[-_.]?(?:stp|step)[=_-]?\d+)?", re.I)


def normalise_objective(name: str | None) -> str | None:
    """The objective family of a codebase's method name (unknown names are kept, lower-cased)."""
    if name is None:
        return None
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return OBJECTIVES.get(key, OBJECTIVES.get(key.replace("_", ""), str(name).strip().lower()))


def epoch_from_name(path: str | Path) -> int | None:
    """The epoch written in a checkpoint's file name, or None."""
    name = Path(path).name
    for pattern in _EPOCH_PATTERNS:
        match = pattern.search(name)
        if match:
            return int(match.group(1))
    return None


def _run_from_name(path: Path) -> str:
    """The checkpoint's folder and name without the epoch: what several epochs of one run share.

    A name that is nothing but the epoch (``runs/simclr/epoch_10.pth``) belongs to its folder's
    run (``simclr``).
    """
    stem = path.name.split(".")[0]
    if re.fullmatch(r"checkpoint_\d+", stem):
        stem = "checkpoint"
    stripped = _EPOCH_PART.sub("", stem)
    if not stripped and path.parent.name:
        return path.parent.name
    stem = stripped or stem
    return f"{path.parent.name}/{stem}" if path.parent.name else stem


def _from_training_args(args: dict) -> dict:
    """solo-learn / Lightning argument dicts: old flat argparse and new OmegaConf layouts."""
    backbone = args.get("backbone")
    if isinstance(backbone, dict):
        backbone = backbone.get("name")
    data = args.get("data") if isinstance(args.get("data"), dict) else {}
    found = {"objective": normalise_objective(args.get("method") or args.get("objective")),
             "architecture": backbone or args.get("arch") or args.get("architecture"),
             "training_data": data.get("dataset") or args.get("dataset"),
             "run": args.get("name")}
    return {k: v for k, v in found.items() if v not in (None, "")}


def _from_args_json(checkpoint: Path) -> dict:
    path = checkpoint.parent / "args.json"
    if not path.is_file():
        return {}
    try:
        args = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return _from_training_args(args) if isinstance(args, dict) else {}


def _from_lightning(checkpoint: Path) -> dict:
    """``epoch`` and ``hyper_parameters`` of a Lightning checkpoint (loaded weights-only, memory-mapped)."""
    import torch

    if checkpoint.suffix.lower() in (".safetensors", ".npz", ".h5", ".json") or not checkpoint.is_file():
        return {}
    try:
        try:
            payload = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:          # legacy (non-zip) files cannot be memory-mapped
            payload = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception:                 # metadata is optional: an unreadable payload never fails a score
        return {}
    if not isinstance(payload, dict):
        return {}
    found = {}
    training = payload.get("brainalign_training")
    if isinstance(training, dict):
        found.update({"objective": normalise_objective(training.get("objective")),
                      "architecture": training.get("architecture"), "training_data": training.get("training_data"),
                      "epoch": training.get("epoch"), "run": training.get("run"),
                      "training": {k: training.get(k) for k in ("data_sha256", "seed", "code_version", "step")}})
        return {k: v for k, v in found.items() if v is not None}
    hyper = payload.get("hyper_parameters")
    if isinstance(hyper, dict):
        found.update(_from_training_args(hyper.get("cfg") if isinstance(hyper.get("cfg"), dict) else hyper))
    if isinstance(payload.get("epoch"), int):
        found["epoch"] = payload["epoch"]
    return found


def _architecture_from_spec(spec: str) -> str:
    return spec.split(":", 1)[1] if ":" in spec else spec


def model_metadata(spec: str, checkpoint: str | Path | None = None, *, objective: str | None = None,
                   architecture: str | None = None, training_data: str | None = None, epoch: int | None = None,
                   run: str | None = None) -> dict:
    """Metadata fields plus ``metadata_source`` ({field: "flag" | "args.json" | "checkpoint" | ...}).

    Without a checkpoint the model is randomly initialised, so the objective defaults to
    ``untrained``; the architecture defaults to the spec's name. A ``brainalign train``
    checkpoint adds ``training`` (data content sha256, seed, code version, optimiser step).
    """
    layers = [("flag", {"objective": normalise_objective(objective), "architecture": architecture,
                        "training_data": training_data, "epoch": epoch, "run": run})]
    if checkpoint is not None:
        path = Path(checkpoint)
        layers += [("args.json", _from_args_json(path)), ("checkpoint", _from_lightning(path)),
                   ("file name", {"epoch": epoch_from_name(path), "run": _run_from_name(path)})]
    else:
        layers.append(("random init", {"objective": "untrained"}))
    layers.append(("model spec", {"architecture": _architecture_from_spec(spec)}))
    meta, source = dict.fromkeys(FIELDS), {}
    training = next((values["training"] for _, values in layers if "training" in values), None)
    for origin, values in layers:
        for name in FIELDS:
            if meta[name] is None and values.get(name) is not None:
                meta[name], source[name] = values[name], origin
    return {**meta, "metadata_source": source, **({"training": training} if training else {})}
