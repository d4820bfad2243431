"""Leaderboard tables from records: per layer, per model x benchmark, per area, and a wide summary.

Every record whose ``score`` has a numeric ``raw`` or ``ceiled`` (neural predictivity, RSA,
psychometric summaries ...) is a row of the layer table; its *area* comes from the benchmark's
region and species (mouse areas, V1, V2, V4, IT, behaviour).
"""

from __future__ import annotations

import math

import pandas as pd

from .labels import model_label
from ..records import record_kind

LAYER_COLUMNS = ["model", "spec", "objective", "architecture", "training_data", "epoch", "run", "tag",
                 "weights_sha256", "checkpoint", "seed", "kind", "benchmark", "benchmark_version", "region",
                 "area", "ranked", "species", "metric", "protocol", "layer", "depth", "raw", "error", "raw_ci_low",
                 "raw_ci_high", "ceiling", "ceiling_lower", "ceiling_upper", "ceiled", "ceiled_ci_low", "ceiled_ci_high",
                 "convention", "selection_raw", "heldout_raw", "heldout_raw_ci_low", "heldout_raw_ci_high",
                 "heldout_ceiling", "heldout_ceiled", "heldout_ceiled_ci_low", "heldout_ceiled_ci_high", "committed", "n_stimuli", "n_neuroids", "n_units", "record_id", "created"]

BOARD_COLUMNS = ["model", "objective", "architecture", "training_data", "epoch", "run", "tag", "area", "ranked",
                 "benchmark", "measure",
                 "metric", "region", "species", "layer", "score", "score_ci_low", "score_ci_high", "raw_heldout",
                 "raw_heldout_ci_low", "raw_heldout_ci_high", "ceiling_heldout", "raw_full", "raw_full_ci_low",
                 "raw_full_ci_high", "convention", "commitment", "n_layers", "n_stimuli", "n_neuroids", "protocol",
                 "benchmark_version", "weights_sha256"]

MODEL_COLUMNS = ["objective", "architecture", "training_data", "epoch", "run", "tag", "weights_sha256"]

#: Areas in the order the leaderboard shows them.
AREAS = ("mouse", "V1", "V2", "V4", "IT", "behaviour")
AREA_ORDER = ("V1", "V2", "V4", "IT", "VISp", "VISl", "VISrl", "VISal", "VISpm", "VISam")
DEFAULT_METRIC = "pls_predictivity"
_BEHAVIOUR = {"behavior", "behaviour", "psychophysics", "human"}


def _area_rank(region: str) -> int:
    """Primate areas first, then the mouse areas along their hierarchy, then anything else."""
    return AREA_ORDER.index(region) if region in AREA_ORDER else len(AREA_ORDER)


def area_of(region: str | None, species: str | None, kind: str = "neural") -> str:
    """The leaderboard area of a benchmark: ``mouse``, ``V1``, ``V2``, ``V4``, ``IT``, ``behaviour`` or its region."""
    region_l, species_l = str(region or "").lower(), str(species or "").lower()
    if kind == "psychometric" or region_l in _BEHAVIOUR:
        return "behaviour"
    if region in ("V1", "V2", "V4", "IT"):   # human fMRI of a brain area is neural data, not behaviour
        return region
    if species_l == "human":
        return "behaviour"
    if region_l.startswith("vis") or species_l == "mouse":
        return "mouse"
    return str(region or "other")


def area_sort_key(area: str) -> tuple[int, str]:
    return (AREAS.index(area) if area in AREAS else len(AREAS), area)


def _number(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def _pair(interval) -> tuple[float, float]:
    """``(low, high)`` of a two-item interval, NaNs when there is none."""
    if isinstance(interval, (list, tuple)) and len(interval) == 2:
        return _number(interval[0]), _number(interval[1])
    return math.nan, math.nan


def _intervals(score: dict, selection: dict) -> dict:
    """Each score column's own bootstrap interval: full-data raw and ceiled, held-out raw and ceiled.

    The raw interval is the score's ``ci_low``/``ci_high`` (else ``ci.raw``, else a two-item
    ``ci`` list); the others come from ``ci`` and ``layer_selection.heldout_ci`` ({"raw",
    "ceiled"}); a column without its own interval gets NaNs, never another column's.
    """
    ci = score.get("ci")
    full = ci if isinstance(ci, dict) else {}
    raw = (score.get("ci_low"), score.get("ci_high"))
    raw = _pair(raw) if raw[0] is not None else _pair(full.get("raw") if full else ci)
    held = selection.get("heldout_ci") if isinstance(selection.get("heldout_ci"), dict) else {}
    columns = {"raw": raw, "ceiled": _pair(full.get("ceiled")), "heldout_raw": _pair(held.get("raw")),
               "heldout_ceiled": _pair(held.get("ceiled"))}
    return {f"{name}_ci_{end}": value for name, (low, high) in columns.items()
            for end, value in (("low", low), ("high", high))}


def _ceiled_ci(ci) -> dict:
    """``{"low", "high"}`` of a bootstrap CI dict's ``ceiled`` interval (NaN when absent)."""
    pair = ci.get("ceiled") if isinstance(ci, dict) else None
    pair = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
    return {"low": _number(pair[0]), "high": _number(pair[1])}


def has_score(record: dict) -> bool:
    """Whether a record carries a numeric score that belongs in the leaderboard tables."""
    score = record.get("score")
    return isinstance(score, dict) and not (math.isnan(_number(score.get("raw")))
                                            and math.isnan(_number(score.get("ceiled"))))


def _layer_depths(records: list[dict]) -> dict[str, dict]:
    """Per model label, each scored layer's position in network order: its index in the model's declared
    inventory (``model.layer_inventory``, recorded by ``score``), then layers outside it in the order scored."""
    depths: dict[str, dict] = {}
    for record in records:
        if not has_score(record):
            continue
        inventory = record["model"].get("layer_inventory") or []
        order = depths.setdefault(model_label(record["model"]), {layer: i for i, layer in enumerate(inventory)})
        order.setdefault(record.get("layer"), len(inventory) + len(order))
    return {label: {layer: rank for rank, layer in enumerate(sorted(order, key=order.get))}
            for label, order in depths.items()}


def layer_table(records: list[dict]) -> pd.DataFrame:
    """One row per (model, benchmark, metric, layer) record with a score; ``depth`` is the layer's position
    in network order (see :func:`_layer_depths`); ``committed`` marks the layer the leaderboard reports."""
    rows, order = [], _layer_depths(records)
    for record in records:
        if not has_score(record):
            continue
        model, bench, score = record["model"], record["benchmark"], record["score"]
        sel, metric, kind = record.get("layer_selection") or {}, record.get("metric") or {}, record_kind(record)
        label = model_label(model)
        depths = order[label]
        layer = record.get("layer")
        rows.append({
            "model": label, "spec": model["spec"], **{c: model.get(c) for c in MODEL_COLUMNS},
            "checkpoint": model.get("checkpoint"), "seed": model.get("seed"), "kind": kind,
            "benchmark": bench["identifier"], "benchmark_version": bench.get("version"),
            "region": bench.get("region"), "area": area_of(bench.get("region"), bench.get("species"), kind),
            "ranked": bool(bench.get("ranked", True)),
            "species": bench.get("species"), "metric": metric.get("name", DEFAULT_METRIC),
            "protocol": metric.get("protocol"), "layer": layer, "depth": depths[layer],
            **{k: _number(score.get(k)) for k in ("raw", "error", "ceiling_lower", "ceiling_upper", "ceiled")},
            **_intervals(score, sel),
            "ceiling": _number(score.get("ceiling", score.get("ceiling_upper"))),
            "convention": score.get("convention"),
            **{k: _number(sel.get(k)) for k in ("selection_raw", "heldout_raw", "heldout_ceiling", "heldout_ceiled")},
            **{f"ceiled_ci_{end}": v for end, v in _ceiled_ci(score.get("ci")).items()},
            **{f"heldout_ceiled_ci_{end}": v for end, v in _ceiled_ci(sel.get("heldout_ci")).items()},
            "committed": False,
            **{k: score.get(k) for k in ("n_stimuli", "n_neuroids", "n_units")},
            "record_id": record.get("id"), "created": record["created"],
        })
    table = pd.DataFrame(rows, columns=LAYER_COLUMNS)
    for column in ("epoch", "seed", "n_stimuli", "n_neuroids", "n_units"):
        numbers = pd.to_numeric(table[column], errors="coerce")
        if (numbers.dropna() % 1 == 0).all():
            table[column] = numbers.astype("Int64")
    if not table.empty:
        table.loc[_committed_index(table), "committed"] = True
    return table


def _committed_index(layers: pd.DataFrame) -> pd.Index:
    """Per (model, benchmark, metric): the layer best on the selection half, else (no split) best ``raw``."""
    picks = []
    for _, group in layers.groupby(["model", "benchmark", "metric"], sort=False):
        column = "selection_raw" if group["selection_raw"].notna().any() else "raw"
        picks.append(group[column].idxmax() if group[column].notna().any() else group.index[0])
    return pd.Index(picks)


def measure_name(benchmark: str, metric: str) -> str:
    """A column name for a (benchmark, metric) pair: the benchmark alone for the default metric."""
    return benchmark if metric == DEFAULT_METRIC else f"{benchmark} ({metric})"


def leaderboard(layers: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, benchmark, metric): the committed layer and its score.

    With a selection/held-out split, ``score`` is the held-out ceiled score of the layer committed
    on the selection stimuli (``commitment`` = ``held-out``); records without a split report the
    best layer's ceiled score, which is optimistic (``commitment`` = ``same data``).
    ``raw_heldout`` is the raw score the held-out ``score`` was computed from, ``raw_full`` the
    raw score on all stimuli; each of ``score``, ``raw_heldout`` and ``raw_full`` has its own
    bootstrap interval (``<column>_ci_low``/``_ci_high``, NaN when the record has none).
    """
    if layers.empty:
        return pd.DataFrame(columns=BOARD_COLUMNS)
    best = layers[layers["committed"]].copy()
    counts = layers.groupby(["model", "benchmark", "metric"]).size().rename("n_layers")
    best = best.join(counts, on=["model", "benchmark", "metric"])
    held = best["heldout_ceiled"].notna()
    for column, heldout, same_data in (("score", "heldout_ceiled", "ceiled"), ("raw_heldout", "heldout_raw", "raw")):
        best[column] = best[heldout].where(held, best[same_data])
        for end in ("low", "high"):  # each column's own interval
            best[f"{column}_ci_{end}"] = best[f"{heldout}_ci_{end}"].where(held, best[f"{same_data}_ci_{end}"])
    best["ceiling_heldout"] = best["heldout_ceiling"].where(held, best["ceiling"])
    best["raw_full"] = best["raw"]
    for end in ("low", "high"):
        best[f"raw_full_ci_{end}"] = best[f"raw_ci_{end}"]
    best["commitment"] = held.map({True: "held-out", False: "same data"})
    best["measure"] = [measure_name(b, m) for b, m in zip(best["benchmark"], best["metric"])]
    return best[BOARD_COLUMNS].sort_values(["benchmark", "metric", "score"], ascending=[True, True, False]) \
        .reset_index(drop=True)


def models_table(board: pd.DataFrame) -> pd.DataFrame:
    """One row per model: its metadata (first record's), indexed by model label."""
    return board.drop_duplicates("model").set_index("model")[MODEL_COLUMNS]


def area_scores(board: pd.DataFrame) -> pd.DataFrame:
    """Wide: a row per model, ``overall``, ``coverage`` and a column per area.

    An area's score is the mean over the area's benchmarks the model was scored on; ``overall``
    is the mean over the areas it was scored in, so six mouse areas weigh as much as one V1
    benchmark. ``coverage`` is the fraction of all benchmarks in the table that the model was
    scored on: compare models' overall scores only at equal coverage. Supplementary benchmarks
    (``ranked: false``, e.g. a second metric on the same data) are shown but not averaged in.
    """
    board = board[board["ranked"].astype(bool)]
    if board.empty:
        return pd.DataFrame(columns=["overall", "coverage"])
    wide = board.pivot(index="model", columns="measure", values="score")
    areas = board.drop_duplicates("measure").set_index("measure")["area"]
    per_area = pd.DataFrame({area: wide[list(areas.index[areas == area])].mean(axis=1)
                             for area in sorted(set(areas), key=area_sort_key)})
    per_area.insert(0, "coverage", wide.notna().mean(axis=1))
    per_area.insert(0, "overall", per_area.drop(columns="coverage").mean(axis=1))
    return per_area


def summary(board: pd.DataFrame) -> pd.DataFrame:
    """Wide table, best first: ``mean`` (over areas, see :func:`area_scores`), the mean of each area with
    several benchmarks, and every benchmark's held-out ceiled score."""
    if board.empty:
        return pd.DataFrame()
    wide = board.pivot(index="model", columns="measure", values="score")
    info = board.drop_duplicates("measure").set_index("measure")
    wide = wide[sorted(wide.columns, key=lambda m: (area_sort_key(info.loc[m, "area"]),
                                                    _area_rank(info.loc[m, "region"]), m))]
    areas = area_scores(board)
    crowded = [a for a in areas.columns[2:] if (info["area"] == a).sum() > 1]
    parts = [areas[["overall"]].rename(columns={"overall": "mean"}),
             areas[crowded].rename(columns=lambda a: f"{a} (mean)"), wide]
    return pd.concat(parts, axis=1).sort_values("mean", ascending=False, na_position="last")


def summary_long(board: pd.DataFrame) -> pd.DataFrame:
    """Tidy summary: one row per (model, level, name), level = benchmark | area | overall."""
    columns = ["model", *MODEL_COLUMNS, "level", "name", "score", "n_benchmarks"]
    if board.empty:
        return pd.DataFrame(columns=columns)
    meta = models_table(board)
    rows = [{"model": r.model, "level": "benchmark", "name": r.measure, "score": r.score, "n_benchmarks": 1}
            for r in board.itertuples()]
    areas = area_scores(board)
    counts = board.groupby(["model", "area"]).size()
    for model, row in areas.iterrows():
        rows += [{"model": model, "level": "area", "name": a, "score": row[a],
                  "n_benchmarks": int(counts.get((model, a), 0))} for a in areas.columns[2:]]
        rows.append({"model": model, "level": "overall", "name": "overall", "score": row["overall"],
                     "n_benchmarks": int(counts[model].sum())})
    table = pd.DataFrame(rows)
    table = table.join(meta, on="model")
    return table[columns]


def format_table(wide: pd.DataFrame, *, max_width: int | None = None) -> str:
    """Fixed-width text of the summary table, 3 decimals, NaN shown as '-'.

    With ``max_width`` (a terminal's columns), the rightmost columns that do not fit are left out
    and a last line names how many, so the table never wraps; files keep every column.
    """
    if wide.empty:
        return "(no results)"
    text = wide.map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    text.index.name = "model"
    shown = text
    while max_width is not None and shown.shape[1] > 1 and \
            max(map(len, shown.to_string().splitlines())) > max_width:
        shown = shown.iloc[:, :-1]
    table = shown.to_string()
    hidden = text.shape[1] - shown.shape[1]
    if hidden:
        table += f"\n({hidden} more column(s) left out to fit {max_width} characters; --csv has all)"
    return table


def terminal_table(board: pd.DataFrame, *, max_width: int) -> str:
    """The summary for a terminal of ``max_width`` columns: every benchmark when it fits, else the
    overall, coverage and per-area scores (the benchmarks stay in the files)."""
    full = format_table(summary(board))
    if board.empty or max(map(len, full.splitlines())) <= max_width:
        return full
    areas = area_scores(board).sort_values("overall", ascending=False, na_position="last")
    return (format_table(areas, max_width=max_width)
            + f"\n(per area: {board['measure'].nunique()} benchmark columns do not fit {max_width} characters; "
              "--csv has them)")
