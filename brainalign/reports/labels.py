"""How records name their model: readable labels, and the human observers as a reference (no pandas here)."""

from __future__ import annotations

from pathlib import Path


def is_reference_observer(model: dict) -> bool:
    """Whether a record's "model" is the human observers (a reference, not a model to rank)."""
    return model.get("spec") == "humans"


def model_label(model: dict) -> str:
    """A readable, unambiguous model name: spec plus checkpoint file (with the run of a ``brainalign
    train`` checkpoint) or seed; ``humans`` for the observers."""
    if is_reference_observer(model):
        return "humans"
    if model.get("checkpoint") and model.get("training") and model.get("run"):
        return f"{model['spec']} @ {model['run']}/{Path(model['checkpoint']).name} [{model['weights_sha256'][:8]}]"
    if model.get("checkpoint"):
        return f"{model['spec']} @ {Path(model['checkpoint']).name} [{model['weights_sha256'][:8]}]"
    return f"{model['spec']} (seed {model.get('seed')})"
