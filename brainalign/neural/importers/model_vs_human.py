"""model-vs-human trial CSVs (Geirhos et al. 2021): one file per subject and session.

Columns ``subj, session, trial, rt, object_response, category, condition, imagename`` (header
case varies: ``Session`` in some files); an experiment is a folder of such files. A trial is
correct when ``object_response == category``; ``na`` (no answer in time) counts as an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ...errors import DataError, FileFormatError
from .registry import Importer, register_importer

COLUMNS = ("subj", "session", "trial", "rt", "object_response", "category", "condition", "imagename")


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


def read_experiment(folder: str | os.PathLike) -> pd.DataFrame:
    """Every CSV of an experiment folder (sorted by name), concatenated; DataError on a repeated trial.

    Returns
    -------
    DataFrame with one row per trial: :data:`COLUMNS` plus ``image_id`` and ``correct`` (bool).
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileFormatError(f"{folder} holds no trial CSV", hint="an experiment is a folder of model-vs-human CSVs")
    trials = pd.concat([read_trials(f) for f in files], ignore_index=True)
    duplicated = trials.duplicated(["subj", "session", "trial"])
    if duplicated.any():
        first = trials.loc[duplicated].iloc[0]
        raise DataError(f"experiment {folder.name!r} has trial {first['trial']} of {first['subj']} twice")
    return trials


def _has_trial_header(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().lower().split(",")
    except (OSError, UnicodeDecodeError):
        return False
    return set(COLUMNS) <= set(header)


@register_importer
class ModelVsHumanImporter(Importer):
    """A trial CSV (recognised by its header) or an experiment folder of them; ``open`` returns the trials."""

    name = "model-vs-human"
    description = "model-vs-human trial CSVs (subj, session, trial, rt, object_response, category, condition, " \
                  "imagename), one file or an experiment folder"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        if path.is_dir():
            return any(_has_trial_header(f) for f in sorted(path.glob("*.csv"))[:1])
        return path.suffix == ".csv" and path.is_file() and _has_trial_header(path)

    def open(self, path, **options) -> pd.DataFrame:
        path = Path(path)
        return read_experiment(path) if path.is_dir() else read_trials(path)
