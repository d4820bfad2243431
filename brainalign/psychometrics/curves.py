"""Psychometric curves of a model and of the humans: levels -> decisions -> accuracy -> fit.

Each function returns plain dicts (JSON-serialisable) that ``api`` turns into result records.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..config import shared_data_dir
from ..errors import DataError, InputError
from ..models.base import LoadedModel
from ..models.layer_names import LOGITS
from ..models.options import ExtractionOptions
from ..neural.importers.model_vs_human import validate_trials
from . import consistency, humans
from .conditions import CONDITIONS, check_levels, get_condition, stimulus_digest
from .decisions import readout_decisions
from .fits import fit_psychometric
from .imagenet16 import CATEGORIES, decisions_16
from .responses import model_responses
from .tasks import TASKS, get_task, stimuli_per_level

#: Experiments whose images are in the shared data (folder below ``shared_data_dir()``).
EXPERIMENT_IMAGES = {"edge": "geirhos2019-edges-silhouettes/stimuli/edges",
                     "silhouette": "geirhos2019-edges-silhouettes/stimuli/filled-silhouettes"}


def task_names() -> list[str]:
    """Every ``--task``: the image conditions, then the parametric tasks."""
    return list(CONDITIONS) + list(TASKS)


def _fit_or_none(levels, n_correct, n_trials, *, n_choices, scale, increasing,
                 sigmoid) -> tuple[dict | None, str | None]:
    """Fit on the finite (and, for log axes, positive) levels; (fit dict with a smooth curve, note)."""
    levels = np.asarray(levels, dtype=float)
    keep = np.isfinite(levels) & ((levels > 0) if scale == "log" else True)
    if scale is None or keep.sum() < 3:
        return None, "no fit: categorical levels" if scale is None else "no fit: fewer than 3 usable levels"
    name = sigmoid if scale == "log" else ("logistic" if sigmoid == "weibull" else sigmoid)
    fit = fit_psychometric(levels[keep], np.asarray(n_correct)[keep], np.asarray(n_trials)[keep],
                           n_choices=n_choices, sigmoid=name, scale=scale, increasing=increasing)
    grid_low, grid_high = levels[keep].min(), levels[keep].max()
    grid = np.geomspace(grid_low, grid_high, 50) if scale == "log" else np.linspace(grid_low, grid_high, 50)
    out = {k: v for k, v in fit.to_dict().items() if k not in ("levels", "n_correct", "n_trials")}  # in the curve
    out.update(x=grid.tolist(), prediction=fit.predict(grid).tolist(), threshold_ci_low=fit.threshold_ci[0],
               threshold_ci_high=fit.threshold_ci[1])
    notes = []
    dropped = levels[~keep]
    if len(dropped):
        notes.append(f"levels {', '.join(f'{v:g}' for v in dropped)} left out of the fit")
    if not grid_low <= fit.threshold <= grid_high:
        notes.append("threshold outside the tested levels: an extrapolation, not constrained by the data")
    return out, "; ".join(notes) or None


def _curve(levels, correct_per_level, *, n_choices, scale, increasing, sigmoid) -> dict:
    n_trials = [int(len(c)) for c in correct_per_level]
    n_correct = [int(np.sum(c)) for c in correct_per_level]
    accuracy = [k / n for k, n in zip(n_correct, n_trials)]
    fit, note = _fit_or_none(levels, n_correct, n_trials, n_choices=n_choices, scale=scale, increasing=increasing,
                             sigmoid=sigmoid)
    finite = [i for i, v in enumerate(levels) if math.isfinite(v)]
    return {"levels": [float(levels[i]) for i in finite], "accuracy": [accuracy[i] for i in finite],
            "n_trials": [n_trials[i] for i in finite], "n_correct": [n_correct[i] for i in finite],
            "other_levels": {str(levels[i]): accuracy[i] for i in range(len(levels)) if i not in finite},
            "chance": 1.0 / n_choices, "fit": fit, "note": note}


def parametric_task_curves(loaded: LoadedModel, task_name: str, *, layer: str, levels=None,
                           n_per_class: int = 32, size: int = 64, pixel_noise: float | None = None, seed: int = 0,
                           max_features: int | None = 64, readout_noise: float = 0.0, n_splits: int = 5,
                           sigmoid: str = "weibull",
                           extraction: ExtractionOptions = ExtractionOptions()) -> list[dict]:
    """One curve per task variant: cross-validated readout accuracy of ``layer`` at each level.

    ``extraction`` sets the forward passes (batch size, device, progress bars).
    """
    task = get_task(task_name)
    levels = check_levels(task.levels if levels is None else levels, task.name)
    curves = []
    progress = extraction.progress
    for variant in tqdm(task.variants, desc=task.name, unit="variant", disable=not progress or len(task.variants) < 2,
                        leave=False):
        batches = stimuli_per_level(task, levels, variant=variant, n_per_class=n_per_class, size=size,
                                    pixel_noise=pixel_noise, seed=seed)
        correct = []
        for level in tqdm(levels, desc=f"{task.name} levels", unit="level", disable=not progress, leave=False):
            images, labels = batches[level]
            features = model_responses(loaded, images, (layer,), batch_size=extraction.batch_size,
                                       device=extraction.device)[layer]
            pairs = np.tile(np.arange(n_per_class), task.n_classes)   # paired classes stay in one fold
            decided = readout_decisions(features, labels, groups=pairs, n_splits=n_splits, seed=seed,
                                        max_features=max_features, readout_noise=readout_noise)
            correct.append(decided == labels)
        curve = _curve(levels, correct, n_choices=task.n_classes, scale=task.scale, increasing=task.increasing,
                       sigmoid=sigmoid)
        curve.update(task=task.name, variant=float(variant), variant_unit=task.variant_unit, unit=task.unit,
                     decision="readout", readout={"n_splits": n_splits, "max_features": max_features,
                                                  "readout_noise": readout_noise, "seed": seed, "folds": "pairs"},
                     stimuli={"n_per_class": n_per_class, "size": size, "seed": seed,
                              "pixel_noise": task.pixel_noise if pixel_noise is None else pixel_noise})
        curves.append(curve)
    return curves


def category_of(stimulus_id: str) -> str:
    """The 16-class category of an image id: its first path part, or its file stem without digits."""
    first = stimulus_id.split("/")[0]
    if first in CATEGORIES:
        return first
    stem = "".join(ch for ch in Path(stimulus_id).name.split("-")[0] if not ch.isdigit()).strip("_")
    if stem in CATEGORIES:
        return stem
    raise DataError(f"cannot tell the category of image {stimulus_id!r}",
                    hint=f"put each image in a folder named after its category ({', '.join(CATEGORIES)})")


def load_images(stimulus_set) -> np.ndarray:
    """All images of a StimulusSet as float32 (n, H, W, 3); DataError if their sizes differ."""
    images = [stimulus_set.load(i) for i in range(len(stimulus_set))]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise DataError(f"images of {stimulus_set.identifier} have different sizes {sorted(shapes)[:2]}",
                        hint="conditions need images of one size")
    return np.stack(images).astype(np.float32)


def condition_curve(loaded: LoadedModel, condition_name: str, stimulus_set, *, layer: str = LOGITS, levels=None,
                    seed: int = 0, sigmoid: str = "weibull", n_splits: int = 5, max_features: int | None = None,
                    readout_noise: float = 0.0, extraction: ExtractionOptions = ExtractionOptions()) -> dict:
    """Accuracy of ``loaded`` on ``stimulus_set`` under a condition at each level, with the human curve.

    With ``layer="logits"`` decisions are the 16-way ImageNet mapping; with a layer, a
    cross-validated readout over the categories present. ``extraction`` sets the forward passes.
    """
    condition = get_condition(condition_name)
    levels = check_levels(condition.levels if levels is None else levels, condition.name)
    categories = np.array([category_of(s) for s in stimulus_set.stimulus_ids])
    images = load_images(stimulus_set)
    correct, seen = [], {}
    for level in tqdm(levels, desc=condition.name, unit="level", disable=not extraction.progress, leave=False):
        transformed = condition.apply(images, level, seed=seed)
        digest = stimulus_digest(transformed)
        if digest in seen:
            raise DataError(f"levels {seen[digest]:g} and {level:g} of condition {condition.name!r} give identical "
                            "stimuli", hint="choose levels that change the images")
        seen[digest] = level
        responses = model_responses(loaded, transformed, (layer,), batch_size=extraction.batch_size,
                                    device=extraction.device)[layer]
        if layer == LOGITS:
            correct.append(decisions_16(responses) == categories)
        else:
            codes = np.searchsorted(np.unique(categories), categories)
            correct.append(readout_decisions(responses, codes, n_splits=n_splits, seed=seed,
                                             max_features=max_features, readout_noise=readout_noise) == codes)
    n_choices = 16 if layer == LOGITS else len(np.unique(categories))
    curve = _curve(levels, correct, n_choices=n_choices, scale=condition.scale, increasing=condition.increasing,
                   sigmoid=sigmoid)
    curve.update(task=condition.name, unit=condition.unit, decision="imagenet16" if layer == LOGITS else "readout",
                 experiment=condition.experiment, human=_human_points(condition, levels))
    return curve


def _human_points(condition, levels) -> dict | None:
    """Human accuracy at the condition's levels, when the raw data are available."""
    try:
        table = humans.accuracy_per_condition(humans.load_experiment(condition.experiment)).set_index("condition")
    except (InputError, DataError, OSError):
        return None
    points = [(lv, float(table.loc[condition.human_labels[lv], "accuracy"])) for lv in levels
              if lv in condition.human_labels and condition.human_labels[lv] in table.index and math.isfinite(lv)]
    return {"levels": [p[0] for p in points], "accuracy": [p[1] for p in points]} if points else None


def human_curve(experiment: str, *, root=None, sigmoid: str = "weibull", exclude: bool = True) -> dict:
    """The humans of a model-vs-human experiment: accuracy per condition, a fit where the
    conditions are graded levels, and human/human error consistency."""
    trials = humans.load_experiment(experiment, root=root)
    table = humans.accuracy_per_condition(trials)
    matching = [c for c in CONDITIONS.values() if c.experiment == experiment]
    out = {"experiment": experiment, "n_trials": int(len(trials)), "observers": humans.observers(trials),
           "accuracy_per_condition": {str(r.condition): float(r.accuracy) for r in table.itertuples()}}
    if matching:
        condition = matching[0]
        by_label = {label: level for level, label in condition.human_labels.items()}
        unknown = sorted(set(table["condition"]) - set(by_label))
        if unknown:
            raise DataError(f"experiment {experiment!r} has unknown condition {unknown[0]!r}",
                            hint=f"its conditions are {', '.join(by_label)}")
        rows = table
        levels = [by_label[c] for c in rows["condition"]]
        order = np.argsort(levels)
        correct = [np.r_[np.ones(k, bool), np.zeros(n - k, bool)] for k, n in zip(rows["n_correct"], rows["n_trials"])]
        curve = _curve([levels[i] for i in order], [correct[i] for i in order], n_choices=16, scale=condition.scale,
                       increasing=condition.increasing, sigmoid=sigmoid)
        curve.update(task=condition.name, unit=condition.unit)
        out["curve"] = curve
    pairs, summary = consistency.human_consistency(trials, experiment, exclude=exclude)
    out["consistency"] = summary
    out["consistency_pairs"] = pairs.to_dict(orient="records")
    return out


def experiment_images(experiment: str):
    """The StimulusSet of an experiment's images in the shared data (edge, silhouette)."""
    from ..stimuli import resolve_stimuli

    if experiment not in EXPERIMENT_IMAGES:
        raise InputError(f"the images of experiment {experiment!r} are not available",
                         hint=f"experiments with images: {', '.join(EXPERIMENT_IMAGES)}")
    folder = shared_data_dir() / EXPERIMENT_IMAGES[experiment]
    if not folder.is_dir():
        raise DataError(f"no images for {experiment!r} at {folder}", hint="set $BRAINALIGN_SHARED_DATA")
    return resolve_stimuli(str(folder))


def model_consistency(loaded: LoadedModel, experiment: str, *, stimulus_set=None, exclude: bool = True,
                      extraction: ExtractionOptions = ExtractionOptions()) -> dict:
    """16-way decisions of ``loaded`` on an experiment's images and their error consistency with each human."""
    stimulus_set = stimulus_set if stimulus_set is not None else experiment_images(experiment)
    human_trials = humans.load_experiment(experiment)
    if human_trials["condition"].nunique() != 1:
        raise InputError(f"experiment {experiment!r} has several conditions",
                         hint="model consistency runs on single-condition experiments with images (edge, silhouette)")
    ids = stimulus_set.stimulus_ids
    logits = model_responses(loaded, load_images(stimulus_set), (LOGITS,), batch_size=extraction.batch_size,
                             device=extraction.device, progress=extraction.progress)[LOGITS]
    decisions = decisions_16(logits)
    model_trials = validate_trials(pd.DataFrame({
        "subj": loaded.spec, "session": 1, "trial": np.arange(1, len(ids) + 1), "rt": np.nan,
        "object_response": decisions, "category": [category_of(s) for s in ids],
        "condition": human_trials["condition"].iloc[0],
        "imagename": [Path(f).name for f in stimulus_set.metadata["filename"]]}),
        origin=loaded.spec)
    table, summary = consistency.observer_vs_humans(model_trials, human_trials, experiment, exclude=exclude)
    _, human_summary = consistency.human_consistency(human_trials, experiment, exclude=exclude)
    human_accuracy = float(human_trials["correct"].mean())
    return {"experiment": experiment, "n_images": len(ids), "accuracy": float(model_trials["correct"].mean()),
            "human_accuracy": human_accuracy, "kappa": summary["kappa"], "human_kappa": human_summary["kappa"],
            "observed_consistency": summary["observed_consistency"],
            "accuracy_difference": summary["accuracy_difference"],
            "per_human": table.to_dict(orient="records"),
            "decisions": dict(zip(model_trials["image_id"], model_trials["object_response"]))}
