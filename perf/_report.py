"""The convention every ``perf/bench_*.py`` script follows, so that ``perf/run_all.py`` can collect it.

1. ``--quick`` runs a smoke-level size (seconds to a minute on 2 cores). Its numbers only show
   that the script works; the README quotes full runs.
2. The last line the script prints to stdout is one JSON object, ``{"perf_rows": [ROW, ...]}``
   (:func:`emit`), where each ROW (:func:`row`) holds ``case`` (what was run), ``metric`` (what
   was measured), ``value`` (a number), ``unit``, ``target`` (e.g. ``">= 0.90"``, or None when
   the figure has no target), ``pass`` (True / False / None) and ``note`` (free text, e.g. the
   reference's time). Everything before that line is the script's own human-readable report.

A script without that line is listed by ``run_all.py`` as "no result row", not an error.
"""

from __future__ import annotations

import json
import operator

_COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def row(case: str, metric: str, value: float, *, unit: str = "", target: str | None = None,
        note: str = "") -> dict:
    """One result row; ``target`` like ``">= 0.90"`` sets ``pass`` by comparing ``value`` with it."""
    passed = None
    if target is not None:
        op, bound = target.split()
        passed = bool(_COMPARE[op](value, float(bound)))
    return {"case": case, "metric": metric, "value": float(value), "unit": unit, "target": target,
            "pass": passed, "note": note}


def emit(rows: list[dict]) -> None:
    """Print the rows as the script's last stdout line."""
    print(json.dumps({"perf_rows": rows}), flush=True)
