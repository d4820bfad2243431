"""Trial-level human data of model-vs-human (Geirhos et al. 2021): reading and validating the CSVs.

Each experiment is a folder of CSV files, one per subject and session, with the columns
``subj, session, trial, rt, object_response, category, condition, imagename`` (header case varies:
``Session`` in some files). A trial is correct when ``object_response == category``; ``na`` (no
answer in time) counts as an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import shared_data_dir
from ..errors import DataError, FileFormatError, InputError

COLUMNS = ("subj", "session", "trial", "rt", "object_response", "category", "condition", "imagename")

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


def short_image_name(imagename: str) -> str:
    """The image's own name without the per-trial prefix, so that trials of different observers match.

    ``0001_cop_s01_c30_knife_10_n03041632_7380.png`` -> ``n03041632_7380.png`` (ImageNet images keep
    their synset prefix); ``0002_sif_s01_0_car_00_car6.png`` -> ``car6.png``; a name without ``_``
    is returned unchanged (model-vs-human's ``get_short_imagename``).
    """
    parts = str(imagename).split("_")
    if len(parts) == 1:
        return parts[0]
    last_two = parts[-2:]
    return "_".join(last_two) if last_two[0].startswith("n0") else last_two[1]


def read_trials(path: str | os.PathLike) -> pd.DataFrame:
    """One CSV of trials, validated; columns lower-cased, ``condition`` as str, ``image_id`` and ``correct`` added."""
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileFormatError(f"cannot read {path} as CSV ({exc})") from None
    return validate_trials(frame, origin=str(path))


def validate_trials(frame: pd.DataFrame, *, origin: str = "trials") -> pd.DataFrame:
    """Check and normalise a trial table (see :func:`read_trials`); DataError naming missing columns."""
    frame = frame.rename(columns=str.lower)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{origin} lacks column(s) {', '.join(missing)}",
                        hint=f"a model-vs-human trial CSV has the columns {', '.join(COLUMNS)}")
    frame = frame.loc[:, list(COLUMNS)].copy()
    for column in ("subj", "object_response", "category", "imagename"):
        if frame[column].isna().any():
            raise DataError(f"{origin} has empty values in column {column!r}")
        frame[column] = frame[column].astype(str)
    frame["condition"] = frame["condition"].astype(str)
    frame["image_id"] = frame["imagename"].map(short_image_name)
    frame["correct"] = (frame["object_response"] == frame["category"]).to_numpy()
    return frame


def load_experiment(name: str, root: str | os.PathLike | None = None) -> pd.DataFrame:
    """All trials of experiment ``name`` (e.g. ``"contrast"``, ``"edge"``), every subject and session.

    Returns
    -------
    DataFrame with one row per trial: :data:`COLUMNS` plus ``image_id`` and ``correct`` (bool).
    """
    root = Path(root) if root is not None else raw_data_dir()
    known = list_experiments(root)
    if name not in known:
        raise InputError(f"unknown model-vs-human experiment {name!r}", hint=f"known: {', '.join(known)}")
    files = sorted((root / name).glob("*.csv"))
    trials = pd.concat([read_trials(f) for f in files], ignore_index=True)
    duplicated = trials.duplicated(["subj", "session", "trial"])
    if duplicated.any():
        first = trials.loc[duplicated].iloc[0]
        raise DataError(f"experiment {name!r} has trial {first['trial']} of {first['subj']} twice")
    return trials


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
