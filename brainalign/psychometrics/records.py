"""``kind: psychometric`` score records (:class:`brainalign.records.ScoreRecord`; ``api`` stamps and stores them).

A record's ``curve`` holds ``levels``, ``accuracy``, ``n_trials``, ``n_correct``, ``fit`` (the
psignifit parameters with credible intervals, plus ``x``/``prediction`` for drawing) and
``human`` (the human accuracy at the same levels, when known). Curve records have no leaderboard
score (``score.raw`` is None; the threshold is in ``score.threshold``); consistency records
score the mean error consistency (kappa) with the humans, ceiled by the human/human kappa.
"""

from __future__ import annotations

import math

from ..records import ScoreRecord

HUMANS_MODEL = {"spec": "humans", "checkpoint": None, "weights_sha256": "none", "seed": None}


def curve_parts(curve: dict, *, layer: str, seed: int) -> ScoreRecord:
    """The record of one model curve: benchmark, metric, score and ``curve``."""
    variant = curve.get("variant")
    identifier = f"psychometric.{curve['task']}" + (f"@{variant:g}" if variant else "")
    fit = curve.get("fit") or {}
    score = {"raw": None, "ceiling": None, "ceiled": None, "convention": None,
             "threshold": fit.get("threshold"), "threshold_ci": fit.get("threshold_ci"),
             "sensitivity": 1 / fit["threshold"] if fit.get("threshold") else None,
             "width": fit.get("width"), "lapse": fit.get("lapse"), "n_stimuli": int(sum(curve["n_trials"])),
             "n_neuroids": None, "n_units": None, "notes": curve.get("note")}
    return ScoreRecord(benchmark={"identifier": identifier, "version": "1", "region": "behaviour", "species": "model",
                                  "dataset": {"id": curve["task"]}},
                       metric={"name": f"psychometric_{curve['decision']}", "protocol": "psychometric",
                               "parameters": {k: curve.get(k) for k in ("readout", "stimuli", "experiment")}},
                       layer=layer, score=score, kind="psychometric", extra={"curve": {**curve, "seed": seed}})


def consistency_parts(result: dict) -> ScoreRecord:
    """The record of a model's error consistency with the humans: benchmark, metric, score and ``curve``."""
    ceiling = result["human_kappa"]
    ceiled = result["kappa"] / ceiling if ceiling and not math.isnan(ceiling) else None
    score = {"raw": result["kappa"], "ceiling": ceiling, "ceiled": ceiled, "convention": "r/c",
             "accuracy": result["accuracy"], "human_accuracy": result["human_accuracy"],
             "accuracy_difference": result["accuracy_difference"],
             "observed_consistency": result["observed_consistency"], "n_stimuli": result["n_images"],
             "n_neuroids": None, "n_units": None,
             "notes": "raw = mean error consistency (kappa) with each human; ceiling = mean human/human kappa"}
    return ScoreRecord(benchmark={"identifier": f"model-vs-human.{result['experiment']}.error-consistency",
                                  "version": "1", "region": "behaviour", "species": "human",
                                  "dataset": {"id": f"model-vs-human/raw-data/{result['experiment']}"}},
                       metric={"name": "error_consistency", "protocol": "model-vs-human",
                               "parameters": {"decision": "imagenet16"}},
                       layer="logits", score=score, kind="psychometric",
                       extra={"curve": {"task": result["experiment"], "per_human": result["per_human"],
                                        "decisions": result["decisions"]}})


def human_parts(result: dict) -> ScoreRecord:
    """The record of a human experiment's curve and consistency: benchmark, metric, score and ``curve``."""
    curve = result.get("curve") or {}
    fit = curve.get("fit") or {}
    score = {"raw": None, "ceiling": None, "ceiled": None, "convention": None,
             "threshold": fit.get("threshold"), "threshold_ci": fit.get("threshold_ci"),
             "human_kappa": result["consistency"]["kappa"], "n_stimuli": result["n_trials"],
             "n_neuroids": None, "n_units": None, "notes": None}
    return ScoreRecord(benchmark={"identifier": f"model-vs-human.{result['experiment']}", "version": "1",
                                  "region": "behaviour", "species": "human",
                                  "dataset": {"id": f"model-vs-human/raw-data/{result['experiment']}"}},
                       metric={"name": "psychometric_humans", "protocol": "model-vs-human", "parameters": {}},
                       layer=None, score=score, kind="psychometric",
                       extra={"curve": {**curve, "accuracy_per_condition": result["accuracy_per_condition"],
                                        "consistency": result["consistency"], "observers": result["observers"]}})
