"""Results store and leaderboard tables."""

from .leaderboard import format_table, layer_table, leaderboard, summary
from .store import ResultsStore

__all__ = ["ResultsStore", "format_table", "layer_table", "leaderboard", "summary"]
