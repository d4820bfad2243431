"""Error consistency (Geirhos, Meding & Wichmann 2020): do two observers err on the same trials?

For two observers who saw the same n trials, with accuracies p1 and p2:

* observed consistency c_obs = fraction of trials that both got right or both got wrong;
* expected consistency c_exp = p1 p2 + (1 - p1)(1 - p2), for independent observers;
* kappa = (c_obs - c_exp) / (1 - c_exp), taken as 1 when c_obs = 1 (model-vs-human's convention).

Trials are paired by ``image_id`` within a condition. Summaries follow model-vs-human: per
condition the mean over pairs, then the mean over the experiment's included conditions.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ..errors import DataError
from .humans import included_conditions, observers

TABLE_COLUMNS = ["condition", "observer_a", "observer_b", "n_trials", "accuracy_a", "accuracy_b",
                 "observed_consistency", "expected_consistency", "kappa", "accuracy_difference"]


def error_consistency(correct_a, correct_b) -> dict:
    """Cohen's kappa of two observers' trial-by-trial correctness.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool, shape (n_trials,), the same trials in the same order.

    Returns
    -------
    dict with ``observed``, ``expected``, ``kappa``, ``accuracy_a``, ``accuracy_b`` and
    ``accuracy_difference`` = (accuracy_a - accuracy_b) ** 2.

    Examples
    --------
    >>> error_consistency([True, False, True, False], [True, False, True, False])["kappa"]
    1.0
    >>> round(error_consistency([True, True, False, False], [True, False, True, False])["kappa"], 3)
    0.0
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise DataError("error consistency needs two equal-length, non-empty trial vectors; "
                        f"got {a.shape} and {b.shape}")
    p1, p2 = float(a.mean()), float(b.mean())
    observed = float((a == b).mean())
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    kappa = 1.0 if observed == 1.0 else (observed - expected) / (1 - expected)
    return {"observed": observed, "expected": expected, "kappa": kappa, "accuracy_a": p1, "accuracy_b": p2,
            "accuracy_difference": (p1 - p2) ** 2}


def _paired(trials_a: pd.DataFrame, trials_b: pd.DataFrame, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Correctness of the same images for two observers, aligned by ``image_id``."""
    a = trials_a.set_index("image_id")["correct"]
    b = trials_b.set_index("image_id")["correct"]
    for side, series in (("first", a), ("second", b)):
        if series.index.has_duplicates:
            twice = series.index[series.index.duplicated()][0]
            raise DataError(f"{label}: the {side} observer saw image {twice!r} twice")
    if set(a.index) != set(b.index):
        only = sorted(set(a.index) ^ set(b.index))
        raise DataError(f"{label}: the two observers saw different images ({len(only)} unmatched, e.g. {only[0]!r})",
                        hint="error consistency needs the same images for both observers")
    return a.to_numpy(dtype=bool), b.loc[a.index].to_numpy(dtype=bool)


def consistency_table(trials: pd.DataFrame, pairs, conditions) -> pd.DataFrame:
    """Error consistency of each observer pair in each condition.

    Parameters
    ----------
    trials : trial table with ``subj``, ``condition``, ``image_id``, ``correct`` (see
        ``brainalign.neural.importers.model_vs_human.validate_trials``).
    pairs : iterable of (observer_a, observer_b) subject ids.
    conditions : condition labels to evaluate.

    Returns
    -------
    DataFrame with :data:`TABLE_COLUMNS`, one row per (condition, pair).
    """
    rows = []
    by_key = {key: part for key, part in trials.groupby(["condition", "subj"], sort=False)}
    for condition in conditions:
        for first, second in pairs:
            if (condition, first) not in by_key or (condition, second) not in by_key:
                missing = first if (condition, first) not in by_key else second
                raise DataError(f"observer {missing!r} has no trials in condition {condition!r}")
            a, b = _paired(by_key[(condition, first)], by_key[(condition, second)],
                           f"condition {condition!r}, {first} vs {second}")
            result = error_consistency(a, b)
            rows.append({"condition": condition, "observer_a": first, "observer_b": second, "n_trials": len(a),
                         "accuracy_a": result["accuracy_a"], "accuracy_b": result["accuracy_b"],
                         "observed_consistency": result["observed"], "expected_consistency": result["expected"],
                         "kappa": result["kappa"], "accuracy_difference": result["accuracy_difference"]})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def summarise(table: pd.DataFrame) -> dict:
    """Mean over pairs per condition, then over conditions, for kappa, c_obs and accuracy difference."""
    per_condition = table.groupby("condition", sort=False)[["kappa", "observed_consistency",
                                                            "accuracy_difference"]].mean()
    return {"kappa": float(per_condition["kappa"].mean()),
            "observed_consistency": float(per_condition["observed_consistency"].mean()),
            "accuracy_difference": float(per_condition["accuracy_difference"].mean()),
            "kappa_per_condition": {str(c): float(v) for c, v in per_condition["kappa"].items()},
            "n_pairs": int(table[["observer_a", "observer_b"]].drop_duplicates().shape[0]),
            "n_conditions": int(len(per_condition))}


def human_consistency(trials: pd.DataFrame, experiment: str, *, exclude: bool = True) -> tuple[pd.DataFrame, dict]:
    """Every human/human pair of an experiment (``subj`` starting with ``subject-``).

    Returns the per-(condition, pair) table and :func:`summarise` of it. ``exclude`` drops the
    conditions model-vs-human leaves out of its summaries (``humans.EXCLUDED_CONDITIONS``).
    """
    humans = [s for s in observers(trials) if s.startswith("subject-")]
    if len(humans) < 2:
        raise DataError(f"experiment {experiment!r} has {len(humans)} human observer(s); consistency needs two")
    conditions = included_conditions(experiment, sorted(trials["condition"].unique()), exclude=exclude)
    table = consistency_table(trials, list(combinations(humans, 2)), conditions)
    return table, summarise(table)


def observer_vs_humans(observer_trials: pd.DataFrame, human_trials: pd.DataFrame, experiment: str, *,
                       exclude: bool = True) -> tuple[pd.DataFrame, dict]:
    """A model's (or any observer's) consistency with each human, per condition.

    ``observer_trials`` must hold one ``subj`` and answer the same images as each human, per condition.
    """
    names = observers(observer_trials)
    if len(names) != 1:
        raise DataError(f"expected the trials of one observer; got {len(names)}")
    humans = [s for s in observers(human_trials) if s.startswith("subject-")]
    conditions = included_conditions(experiment, sorted(human_trials["condition"].unique()), exclude=exclude)
    trials = pd.concat([human_trials, observer_trials], ignore_index=True)
    table = consistency_table(trials, [(names[0], h) for h in humans], conditions)
    return table, summarise(table)
