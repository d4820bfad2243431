"""Results store, leaderboard tables, and the CSV / HTML / Markdown reports built from them."""

from .leaderboard import area_scores, format_table, layer_table, leaderboard, summary, summary_long
from .store import ResultsStore

__all__ = ["ResultsStore", "area_scores", "format_table", "layer_table", "leaderboard", "summary", "summary_long"]
