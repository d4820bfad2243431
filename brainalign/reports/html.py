"""The HTML report: one self-contained file (inline CSS, JS and SVG; no network, no CDN).

Sections: an overview heatmap (models x areas, with coverage), a sortable, filterable
leaderboard (overall and per area), per-benchmark rows with each score's own interval, a
comparison by training objective, score against training epoch for runs scored at several
epochs, per-model layer profiles / RDMs / psychometric curves, the human observers as a
reference, records of kinds this version does not know, and a provenance footer.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import re
from collections import Counter
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from .. import __version__
from .figures import epoch_chart, layer_profile, psychometric_chart, rdm_panels
from .labels import is_reference_observer, model_label
from .leaderboard import area_scores, area_sort_key, has_score
from .plots import score_color
from ..records import record_kind

KNOWN_KINDS = {"neural", "psychometric"}


def _missing(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _fmt(value, digits: int = 3) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    return str(value)


def _sort_value(value) -> str:
    """``data-value`` of a cell: the number (blank for missing) or the text, for the JS sort."""
    if _missing(value):
        return ""
    return repr(float(value)) if isinstance(value, numbers.Number) and not isinstance(value, bool) else str(value)


def _slug(text: str) -> str:
    return "m-" + re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()


def _none(value):
    return None if _missing(value) else value


def _model_rows(board: pd.DataFrame) -> tuple[list[dict], list[str]]:
    areas = area_scores(board)
    area_names = [a for a in areas.columns if a not in ("overall", "coverage")]
    meta = board.drop_duplicates("model").set_index("model")
    rows = []
    for model in areas.sort_values("overall", ascending=False, na_position="last").index:
        info = meta.loc[model]
        rows.append({"model": model, "anchor": _slug(model), "objective": _none(info["objective"]),
                     "architecture": _none(info["architecture"]), "epoch": _none(info["epoch"]),
                     "training_data": _none(info["training_data"]), "tag": _none(info["tag"]),
                     "weights": str(info["weights_sha256"])[:12], "overall": areas.loc[model, "overall"],
                     "coverage": areas.loc[model, "coverage"],
                     "areas": {a: areas.loc[model, a] for a in area_names},
                     "scored_areas": " ".join(a for a in area_names if not _missing(areas.loc[model, a]))})
    return rows, area_names


def _overview(models: list[dict], area_names: list[str], board: pd.DataFrame) -> dict:
    """The models x areas heatmap: per cell the area score, its colour and how many of the area's
    benchmarks the model was scored on; per row the overall score and coverage."""
    ranked = board[board["ranked"].astype(bool)]
    totals = ranked.groupby("area")["measure"].nunique()
    counts = ranked.groupby(["model", "area"])["measure"].nunique()
    rows = []
    for row in models:
        cells = []
        for area in area_names:
            value = row["areas"][area]
            background, ink = score_color(value)
            cells.append({"area": area, "value": value, "background": background, "ink": ink,
                          "n": int(counts.get((row["model"], area), 0)), "total": int(totals.get(area, 0))})
        background, ink = score_color(row["overall"])
        rows.append({**row, "cells": cells, "background": background, "ink": ink})
    return {"rows": rows, "totals": {a: int(totals.get(a, 0)) for a in area_names}}


def _group_rows(models: list[dict], area_names: list[str], by: str) -> list[dict]:
    """Per value of ``by`` (objective or architecture): model count, mean and best overall, area means."""
    groups: dict[str, list[dict]] = {}
    for row in models:
        groups.setdefault(row[by] or "unknown", []).append(row)
    out = []
    for name, rows in groups.items():
        scored = [r for r in rows if not math.isnan(r["overall"])]
        best = max(scored, key=lambda r: r["overall"]) if scored else None
        out.append({"name": name, "n": len(rows),
                    "mean": sum(r["overall"] for r in scored) / len(scored) if scored else math.nan,
                    "best": best["model"] if best else None, "best_score": best["overall"] if best else math.nan,
                    "areas": {a: _mean([r["areas"][a] for r in rows]) for a in area_names}})
    return sorted(out, key=lambda r: -r["mean"] if not math.isnan(r["mean"]) else math.inf)


def _mean(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def _area_intervals(board: pd.DataFrame) -> pd.DataFrame:
    """Per model and area, the mean of its benchmarks' ceiled-score interval ends (``AREA__low``/``__high``)."""
    ranked = board[board["ranked"].astype(bool)]
    if ranked.empty:
        return pd.DataFrame()
    means = ranked.groupby(["model", "area"])[["score_ci_low", "score_ci_high"]].mean()
    wide = means.unstack("area")
    wide.columns = [f"{area}__{'low' if end == 'score_ci_low' else 'high'}" for end, area in wide.columns]
    return wide


def _epoch_charts(board: pd.DataFrame) -> list[str]:
    """One chart per run scored at two or more epochs (run = recorded run id, else the checkpoints'
    folder; grouped with the objective), each area with its bootstrap interval."""
    areas = area_scores(board)
    intervals = _area_intervals(board)
    meta = board.drop_duplicates("model").set_index("model")
    meta = meta[meta["epoch"].notna()]
    charts = []
    for run, group in meta.groupby(meta["run"].fillna("") + "|" + meta["objective"].fillna("")):
        if group["epoch"].nunique() < 2:
            continue
        points = areas.loc[group.index].drop(columns="coverage").assign(epoch=group["epoch"].astype(float))
        points = points.join(intervals.reindex(group.index))
        name, objective = run.split("|", 1)
        charts.append(epoch_chart(f"{name or group['architecture'].iloc[0]} ({objective or 'objective ?'})", points))
    return charts


def _model_sections(models: list[dict], layers: pd.DataFrame, records: list[dict]) -> list[dict]:
    by_model: dict[str, list[dict]] = {}
    for record in records:
        by_model.setdefault(model_label(record["model"]), []).append(record)
    committed = set(layers.loc[layers["committed"], "record_id"])
    listed = {row["model"] for row in models}
    extra = [{"model": label, "anchor": _slug(label), "overall": math.nan, "coverage": 0.0, "areas": {},
              "scored_areas": "", "weights": str(own[0]["model"].get("weights_sha256"))[:12],
              **{k: own[0]["model"].get(k) for k in ("objective", "architecture", "epoch", "training_data", "tag")}}
             for label, own in by_model.items() if label not in listed and not is_reference_observer(own[0]["model"])]
    sections = []
    for row in models + extra:
        own = by_model.get(row["model"], [])
        rdm_figs = [fig for r in own if r.get("id") in committed for fig in rdm_panels(r)]
        psycho = [fig for r in own if record_kind(r) == "psychometric" for fig in [psychometric_chart(r)] if fig]
        section = {**row, "profile": layer_profile(layers, row["model"]), "rdms": rdm_figs, "psychometric": psycho}
        if row["model"] in listed or rdm_figs or psycho:
            sections.append(section)
    return sections


def _observers(records: list[dict]) -> list[dict]:
    """Reference observers (the humans of model-vs-human): their curves, shown apart from the models."""
    charts = {}
    for record in records:
        if is_reference_observer(record["model"]) and record_kind(record) == "psychometric":
            chart = psychometric_chart(record)
            if chart:
                charts.setdefault(model_label(record["model"]), []).append(
                    {"chart": chart, "experiment": record["benchmark"]["identifier"]})
    return [{"name": name, "anchor": _slug(name), "charts": own} for name, own in charts.items()]


def _unknown(records: list[dict]) -> list[dict]:
    """Records this version shows nowhere: unknown kinds without a numeric score."""
    counts = Counter()
    example = {}
    for record in records:
        kind = record_kind(record)
        if kind in KNOWN_KINDS or has_score(record):
            continue
        counts[kind] += 1
        example.setdefault(kind, Path(record.get("_path", "?")).name)
    return [{"kind": k, "count": n, "example": example[k]} for k, n in sorted(counts.items())]


def _provenance(records: list[dict], superseded: int, skipped, results: str) -> dict:
    envs = Counter(json.dumps(r.get("provenance", {}), sort_keys=True) for r in records)
    benchmarks = sorted({(r["benchmark"]["identifier"], str(r["benchmark"].get("version")),
                          str((r.get("metric") or {}).get("protocol"))) for r in records})
    return {"generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "version": __version__,
            "results": results, "n_records": len(records), "superseded": superseded,
            "skipped": list(skipped), "environments": [(json.loads(e), n) for e, n in envs.most_common()],
            "benchmarks": benchmarks}


def render_html(*, layers: pd.DataFrame, board: pd.DataFrame, records: list[dict], superseded: int = 0,
                skipped=(), results: str = "", title: str = "brainalign leaderboard") -> str:
    """The report's HTML text."""
    models, area_names = _model_rows(board)
    env = jinja2.Environment(loader=jinja2.PackageLoader("brainalign.reports", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["sv"] = _sort_value
    board_rows = [{k: _none(v) for k, v in row.items()} | {"anchor": _slug(row["model"])}
                  for row in board.to_dict("records")]
    board_rows.sort(key=lambda r: (area_sort_key(r["area"]), r["measure"], -r["score"] if r["score"] is not None else math.inf))
    return env.get_template("report.html.j2").render(
        title=title, models=models, areas=area_names, board=board_rows,
        overview=_overview(models, area_names, board), observers=_observers(records),
        groups={by: _group_rows(models, area_names, by) for by in ("objective", "architecture")},
        epoch_charts=_epoch_charts(board),
        sections=_model_sections(models, layers, records), unknown=_unknown(records),
        provenance=_provenance(records, superseded, skipped, results),
        objective_names=sorted({m["objective"] or "unknown" for m in models}),
        architecture_names=sorted({m["architecture"] or "unknown" for m in models}))
