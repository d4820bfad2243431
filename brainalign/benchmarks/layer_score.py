"""What a predictivity protocol returns for one layer (:class:`LayerScore`), and the BLAS rule its fits share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .options import DEFAULT_PROTOCOL

# Below this many stimuli the per-split PLS fits are many small (n x n) products, where BLAS threads
# cost more in synchronisation than they gain: one thread ran the demo 2.8x faster on 2 cores.
SINGLE_THREAD_BELOW = 1024


def blas_threads(n_stimuli: int) -> int | None:
    """BLAS threads for fits on ``n_stimuli`` stimuli (``threadpoolctl.threadpool_limits``; None: all)."""
    return 1 if n_stimuli < SINGLE_THREAD_BELOW else None


@dataclass(frozen=True)
class LayerScore:
    """One layer's score on one benchmark (all values are Pearson r unless named ``ceiled``)."""

    layer: str
    raw: float
    error: float
    per_split: list
    ceiling: float
    ceiling_per_split: list
    ceiled: float
    convention: str
    n_stimuli: int
    n_neuroids: int
    n_units: int
    selection_raw: float
    heldout_raw: float
    heldout_ceiling: float
    heldout_ceiled: float
    n_selection: int
    n_heldout: int
    notes: list  # warnings raised while fitting (e.g. PLS power iterations that hit max_iter, as in sklearn)
    protocol: str = DEFAULT_PROTOCOL
    regression: str = "pls"
    ci: dict | None = None          # bootstrap CIs of raw, ceiling and ceiled on the full data
    heldout_ci: dict | None = None  # the same on the held-out part
    ceiling_note: str | None = None  # why the ceiling is NaN, when it is
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
