"""Trial-level human data of model-vs-human (Geirhos et al. 2021): experiments and their summaries.

Each experiment is a folder of CSV files, one per subject and session, read by the
``model-vs-human`` importer (:mod:`brainalign.neural.importers.model_vs_human`, which also
validates a trial table); the manifest ``model-vs-human`` names the source.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import shared_data_dir
from ..errors import FileFormatError, InputError
from ..neural.importers.model_vs_human import ModelVsHumanImporter

#: Conditions model-vs-human leaves out of its summary metrics (``plotting/plot.py``,
#: ``EXCLUDE_CONDITIONS``): the undistorted control condition, and conditions where mean human
#: accuracy is below 0.2, where error consistency is not meaningful. Labels are the CSV values
#: as strings (floats as pandas prints them).
EXCLUDED_CONDITIONS: dict[str, tuple[str, ...]] = {
    "colour": ("cr",),
    "contrast": ("c100", "c03", "c01"),
    "high-pass": ("inf", "0.55", "0.45", "0.4"),
    "low-pass": ("0", "15", "40"),
    "phase-scrambling": ("0", "150", "180"),
    "power-equalisation": ("0",),
    "false-colour": ("True",),
    "rotation": ("0",),
    "eidolonI": ("1-10-10", "64-10-10", "128-10-10"),
    "eidolonII": ("1-3-10", "32-3-10", "64-3-10", "128-3-10"),
    "eidolonIII": ("1-0-10", "16-0-10", "32-0-10", "64-0-10", "128-0-10"),
    "uniform-noise": ("0.0", "0.6", "0.9"),
}


def raw_data_dir() -> Path:
    """``<shared data>/model-vs-human/raw-data``."""
    return shared_data_dir() / "model-vs-human" / "raw-data"


def list_experiments(root: str | os.PathLike | None = None) -> list[str]:
    """Names of the experiment folders under ``root`` (default :func:`raw_data_dir`) that hold CSVs."""
    root = Path(root) if root is not None else raw_data_dir()
    if not root.is_dir():
        raise FileFormatError(f"no model-vs-human raw data at {root}",
                              hint="set $BRAINALIGN_SHARED_DATA to the folder holding model-vs-human/raw-data")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.csv")))


def load_experiment(name: str, root: str | os.PathLike | None = None) -> pd.DataFrame:
    """All trials of experiment ``name`` (e.g. ``"contrast"``, ``"edge"``), every subject and session.

    Returns
    -------
    DataFrame with one row per trial: the importer's ``COLUMNS`` plus ``image_id`` and ``correct`` (bool).
    """
    root = Path(root) if root is not None else raw_data_dir()
    known = list_experiments(root)
    if name not in known:
        raise InputError(f"unknown model-vs-human experiment {name!r}", hint=f"known: {', '.join(known)}")
    return ModelVsHumanImporter().open(root / name)


def accuracy_per_condition(trials: pd.DataFrame, *, by_subject: bool = False) -> pd.DataFrame:
    """Fraction correct per condition (pooled over subjects, or per subject).

    Returns
    -------
    DataFrame with columns ``condition`` [, ``subj``], ``n_trials``, ``n_correct``, ``accuracy``.
    """
    keys = ["condition", "subj"] if by_subject else ["condition"]
    grouped = trials.groupby(keys, sort=True)["correct"]
    table = pd.DataFrame({"n_trials": grouped.size(), "n_correct": grouped.sum().astype(int)}).reset_index()
    table["accuracy"] = table["n_correct"] / table["n_trials"]
    return table


def included_conditions(experiment: str, conditions, *, exclude: bool = True) -> list[str]:
    """``conditions`` without the ones model-vs-human excludes from summaries (when ``exclude``)."""
    dropped = set(EXCLUDED_CONDITIONS.get(experiment, ())) if exclude else set()
    return [c for c in conditions if c not in dropped]


def observers(trials: pd.DataFrame) -> list[str]:
    """The subject ids of ``trials``, sorted."""
    return sorted(np.unique(trials["subj"].to_numpy(dtype=str)))
