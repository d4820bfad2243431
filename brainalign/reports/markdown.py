"""A Markdown summary of the leaderboard, for papers and READMEs (GitHub-flavoured tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .escape import markdown_text
from .leaderboard import area_scores, area_sort_key


def _cell(value, digits: int = 3) -> str:
    if value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value))):
        return "–"
    return markdown_text(f"{value:.{digits}f}" if isinstance(value, (float, np.floating)) else value)


def _with_ci(row: dict, column: str) -> str:
    """``value [low, high]``: a score column with its own interval (the value alone when it has none)."""
    value, low, high = row[column], row.get(f"{column}_ci_low"), row.get(f"{column}_ci_high")
    if value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value))):
        return "–"
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(markdown_text(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def render_markdown(board: pd.DataFrame, *, title: str = "brainalign leaderboard", n_records: int = 0,
                    skipped: int = 0) -> str:
    """Two tables: models by overall score (with area means), then each benchmark's committed layer."""
    areas = area_scores(board).sort_values("overall", ascending=False, na_position="last")
    meta = board.drop_duplicates("model").set_index("model")
    area_names = [a for a in areas.columns if a not in ("overall", "coverage")]
    rows = [[i + 1, model, meta.loc[model, "objective"], meta.loc[model, "architecture"],
             meta.loc[model, "epoch"], areas.loc[model, "overall"], f"{areas.loc[model, 'coverage']:.0%}",
             *[areas.loc[model, a] for a in area_names]]
            for i, model in enumerate(areas.index)]
    lines = [f"# {markdown_text(title)}", "",
             f"{len(areas)} model(s), {len(board)} model × benchmark score(s) from {n_records} record(s)"
             + (f"; {skipped} unreadable file(s) skipped" if skipped else "") + ".", "",
             "Ceiled score of the layer committed on the selection stimuli, measured on held-out stimuli; "
             "an area is the mean over the benchmarks of it a model was scored on, overall the mean over areas; "
             "coverage is the share of this table's benchmarks a model was scored on.", ""]
    lines += _table(["#", "model", "objective", "architecture", "epoch", "overall", "coverage", *area_names], rows)
    detail = sorted(board.to_dict("records"), key=lambda r: (area_sort_key(r["area"]), r["measure"],
                                                             -r["score"] if not math.isnan(r["score"]) else math.inf))
    lines += ["", "## Per benchmark", ""]
    lines += _table(["benchmark", "model", "layer", "score [CI]", "raw, held-out [CI]", "ceiling",
                     "raw, all stimuli [CI]", "convention", "stimuli", "neuroids", "version"],
                    [[r["measure"], r["model"], r["layer"], _with_ci(r, "score"), _with_ci(r, "raw_heldout"),
                      r["ceiling_heldout"], _with_ci(r, "raw_full"), r["convention"], r["n_stimuli"], r["n_neuroids"],
                      r["benchmark_version"]] for r in detail])
    return "\n".join(lines) + "\n"
