"""Per-model figures for the HTML report, one function per record kind.

- ``layer_profile``: raw score against layer depth per benchmark, error bars (the record's CI,
  else ± its standard error), dashed noise ceilings, the committed layer ringed.
- ``rdm_panels``: model and neural RDM heatmaps of RSA records that carry them (``rdms`` =
  ``{"model": (n, n) or condensed, "neural": ..., "stimulus_ids": [...]}``, at the top level or
  under ``score``).
- ``psychometric_chart``: accuracy against stimulus level for ``kind: psychometric`` records
  (``levels``, ``accuracy``, optional ``human`` = {levels, accuracy}, ``fit`` = {levels, accuracy}
  or scalar parameters), at the top level or under ``curve``.
- ``epoch_chart``: overall and per-area score against training epoch of one run, with each
  area's interval (``AREA__low``/``AREA__high`` columns) as error bars.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd
from scipy.spatial.distance import squareform

from .labels import is_reference_observer
from .leaderboard import area_sort_key
from .plots import PALETTE, HLine, Series, distinct_colors, heatmap, line_chart


def _colors(names) -> dict[str, str]:
    names = list(names)
    return dict(zip(names, distinct_colors(len(names))))


def layer_profile(layers: pd.DataFrame, model: str) -> str | None:
    """SVG of ``model``'s per-layer raw scores for every neural benchmark it was scored on, layers in
    network order (``depth``); behavioural records (logits decisions) are not layers and stay out."""
    rows = layers[(layers["model"] == model) & (layers["kind"] == "neural")]
    if rows.empty:
        return None
    depth = rows.drop_duplicates("layer").sort_values("depth")
    ticks = [(float(d), str(layer)) for d, layer in zip(depth["depth"], depth["layer"])]
    groups = sorted(rows.groupby(["benchmark", "metric"]),
                    key=lambda item: (area_sort_key(item[1]["area"].iloc[0]), item[0]))
    colors = _colors([name for name, _ in groups])
    series, lines = [], []
    for (benchmark, metric), group in groups:
        group = group.sort_values("depth")
        has_ci = group["raw_ci_low"].notna() & group["raw_ci_high"].notna()
        low = np.where(has_ci, group["raw_ci_low"], group["raw"] - group["error"])
        high = np.where(has_ci, group["raw_ci_high"], group["raw"] + group["error"])
        label = benchmark if metric == "pls_predictivity" else f"{benchmark} {metric}"
        marked = [i for i, c in enumerate(group["committed"]) if c]
        series.append(Series(label, list(group["depth"]), list(group["raw"]), list(low), list(high),
                             color=colors[(benchmark, metric)], marked=marked))
        ceiling = group["ceiling"].median()
        if math.isfinite(ceiling):
            lines.append(HLine(float(ceiling), f"ceiling {label}", color=colors[(benchmark, metric)]))
    return line_chart(series, lines=lines, title=f"layer profile: {model}", x_label="layer (input → output)",
                      y_label="raw score (r)", x_ticks=ticks, width=640, height=320)


def _square(values) -> np.ndarray | None:
    array = np.asarray(values, dtype=float)
    if array.ndim == 1 and array.size:
        try:
            return squareform(array, checks=False)
        except ValueError:
            return None
    return array if array.ndim == 2 and array.shape[0] == array.shape[1] else None


def rdms(record: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(model RDM, neural RDM), each (n, n), if ``record`` carries both."""
    for holder in (record.get("rdms"), (record.get("score") or {}).get("rdms"), record):
        if not isinstance(holder, dict):
            continue
        model = holder.get("model_rdm", holder.get("model") if holder is not record else None)
        neural = holder.get("neural_rdm", holder.get("neural"))
        if model is None or neural is None or isinstance(model, dict):
            continue
        pair = _square(model), _square(neural)
        if pair[0] is not None and pair[1] is not None and pair[0].shape == pair[1].shape:
            return pair
    return None


def rdm_panels(record: dict) -> list[str]:
    """The model and neural RDM heatmaps of an RSA record side by side (one HTML block), or []."""
    pair = rdms(record)
    if pair is None:
        return []
    kept = (record.get("score") or {}).get("rdms") or {}
    n = kept.get("n_stimuli") if isinstance(kept, dict) else None
    blocks = f", {n} stimuli in {len(pair[0])} blocks" if isinstance(n, int) and n > len(pair[0]) else ""
    where = f"{record['benchmark']['identifier']} · {record.get('layer')}"
    return [f'<figure class="rdm-pair"><figcaption>RDMs, {escape(where)}{blocks}</figcaption>'
            f'{heatmap(pair[0], title="model RDM")}{heatmap(pair[1], title="neural RDM (mean of subjects)")}'
            "</figure>"]


def _curve(holder) -> tuple[list[float], list[float]] | None:
    if not isinstance(holder, dict):
        return None
    levels = holder.get("levels", holder.get("x"))
    accuracy = holder.get("accuracy", holder.get("y", holder.get("prediction")))
    if levels is None or accuracy is None or len(levels) != len(accuracy) or not len(levels):
        return None
    return [_float(v) for v in levels], [_float(v) for v in accuracy]


def _float(value) -> float:
    """A number of a record: JSON ``null`` (how records store NaN) is NaN."""
    return math.nan if value is None else float(value)


def psychometric_curves(record: dict) -> dict | None:
    """{"model": (levels, accuracy), "human", "fit": ... or None, "params": {name: value}, "log": bool, "chance"}."""
    holder = record.get("curve") if isinstance(record.get("curve"), dict) else record
    model = _curve(holder) or _curve(holder.get("model") if isinstance(holder.get("model"), dict) else None)
    if model is None:
        return None
    fit = holder.get("fit") if isinstance(holder.get("fit"), dict) else {}
    numeric = {k: v for k, v in fit.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    params = {k: numeric[k] for k in ("threshold", "width", "lapse") if k in numeric} or numeric
    human = _curve(holder.get("human")) or _curve({"levels": holder.get("levels"),
                                                   "accuracy": holder.get("human_accuracy")})
    return {"model": model, "human": human, "fit": _curve(fit), "params": params,
            "log": fit.get("scale") == "log", "chance": holder.get("chance")}


def _log10(curve):
    if curve is None:
        return None
    kept = [(math.log10(x), y) for x, y in zip(*curve) if x > 0]
    return [x for x, _ in kept], [y for _, y in kept]


def psychometric_chart(record: dict) -> str | None:
    """SVG of a psychometric record: the model's accuracy (and fit) over the human curve."""
    curves = psychometric_curves(record)
    if curves is None:
        return None
    if curves["log"]:
        curves = {**curves, **{k: _log10(curves[k]) for k in ("model", "human", "fit")}}
    own = "human" if is_reference_observer(record.get("model") or {}) else "model"
    series = [Series(own, *curves["model"], color=PALETTE[3 if own == "human" else 0],
                     dashed=curves["fit"] is not None)]
    if curves["fit"] is not None:
        series.append(Series(f"{own} fit", *curves["fit"], color=PALETTE[3 if own == "human" else 0], markers=False))
    if curves["human"] is not None and own == "model":
        series.append(Series("human", *curves["human"], color=PALETTE[3]))
    chance = [HLine(float(curves["chance"]), "chance")] if isinstance(curves["chance"], (int, float)) else []
    params = ", ".join(f"{k} {v:.3g}" for k, v in curves["params"].items())
    title = f"psychometric: {record['benchmark']['identifier']}" + (f" (fit: {params})" if params else "")
    return line_chart(series, lines=chance, title=title, x_label="log10 stimulus level" if curves["log"]
                      else "stimulus level", y_label="accuracy", y_range=(0.0, 1.0), width=480, height=280)


def epoch_chart(run: str, points: pd.DataFrame) -> str:
    """SVG of ``overall`` and each area's score against ``epoch`` (rows of one run, any order);
    optional ``AREA__low``/``AREA__high`` columns draw each area's interval as error bars."""
    points = points.sort_values("epoch")
    columns = ["overall"] + [c for c in points.columns if c not in ("overall", "epoch") and "__" not in c]
    colors = _colors(columns)

    def ends(c, end):
        return list(points[f"{c}__{end}"]) if f"{c}__{end}" in points else None

    series = [Series(c, list(points["epoch"]), list(points[c]), ends(c, "low"), ends(c, "high"), color=colors[c],
                     dashed=c != "overall")
              for c in columns if points[c].notna().any()]
    return line_chart(series, title=f"score vs training epoch: {run}", x_label="epoch",
                      y_label="ceiled score", width=560, height=280)
