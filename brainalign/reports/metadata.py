"""Model metadata for the leaderboard: training objective, architecture, training data, epoch, run.

Sources, first one that says wins: the user's flags; solo-learn's ``args.json`` beside the
checkpoint; a ``brainalign train`` checkpoint's ``brainalign_training`` entry (objective,
architecture, training data, epoch, run id; its data content hash, seed and code version go to
``training``); a PyTorch Lightning checkpoint's ``epoch`` and ``hyper_parameters``; the checkpoint's
file name (``...-ep=99.ckpt``, ``epoch_12.pth``, MoCo's ``checkpoint_0199.pth.tar``). Each field's
source is recorded in ``metadata_source``.

The checkpoint's entries come from the read that loaded its weights
(``LoadedModel.checkpoint_metadata``, see :mod:`brainalign.models.checkpoint_metadata`); nothing
here unpickles code, and a file read with full unpickling contributes its ``args.json`` only.
"""

from __future__ import annotations

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


def _from_payload(payload: dict) -> dict:
    """Fields from a checkpoint's ``brainalign_training`` entry, else its Lightning ``hyper_parameters``
    and ``epoch`` (``payload`` as kept by :func:`brainalign.models.checkpoint_metadata.payload_metadata`)."""
    training = payload.get("brainalign_training")
    if training is not None:
        found = {"objective": normalise_objective(training.get("objective")),
                 "architecture": training.get("architecture"), "training_data": training.get("training_data"),
                 "epoch": training.get("epoch"), "run": training.get("run"),
                 "training": {k: training.get(k) for k in ("data_sha256", "seed", "code_version", "step")}}
        return {k: v for k, v in found.items() if v is not None}
    found = {}
    hyper = payload.get("hyper_parameters")
    if hyper is not None:
        found.update(_from_training_args(hyper.get("cfg") if isinstance(hyper.get("cfg"), dict) else hyper))
    if "epoch" in payload:
        found["epoch"] = payload["epoch"]
    return found


def _architecture_from_spec(spec: str) -> str:
    return spec.split(":", 1)[1] if ":" in spec else spec


def model_metadata(spec: str, checkpoint: str | Path | None = None, *, checkpoint_metadata: dict | None = None,
                   objective: str | None = None, architecture: str | None = None, training_data: str | None = None,
                   epoch: int | None = None, run: str | None = None) -> dict:
    """Metadata fields plus ``metadata_source`` ({field: "flag" | "args.json" | "checkpoint" | ...}).

    ``checkpoint_metadata`` is what the read that loaded ``checkpoint`` kept
    (``LoadedModel.checkpoint_metadata``); without it, a checkpoint no model was loaded from (a
    path recorded in an activation file) is read here, weights-only
    (:func:`brainalign.models.checkpoint.read_checkpoint_metadata`).

    Without a checkpoint the model is randomly initialised, so the objective defaults to
    ``untrained``; the architecture defaults to the spec's name. A ``brainalign train``
    checkpoint adds ``training`` (data content sha256, seed, code version, optimiser step).
    """
    layers = [("flag", {"objective": normalise_objective(objective), "architecture": architecture,
                        "training_data": training_data, "epoch": epoch, "run": run})]
    if checkpoint is not None:
        path = Path(checkpoint)
        if checkpoint_metadata is None:
            from ..models.checkpoint import read_checkpoint_metadata

            checkpoint_metadata = read_checkpoint_metadata(path)
        args = checkpoint_metadata.get("args_json")
        layers += [("args.json", _from_training_args(args) if args is not None else {}),
                   ("checkpoint", _from_payload(checkpoint_metadata.get("payload") or {})),
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
