"""Results store, leaderboard tables, and the CSV / HTML / Markdown reports built from them.

Names are imported on first use, so listing records (:mod:`.store`) never imports pandas.
"""

from .._lazy import lazy_package

_LAZY = {"ResultsStore": "store", "area_scores": "leaderboard", "format_table": "leaderboard",
         "layer_table": "leaderboard", "leaderboard": "leaderboard", "summary": "leaderboard",
         "summary_long": "leaderboard"}

__all__ = sorted(_LAZY)

lazy_package(__name__, _LAZY)
