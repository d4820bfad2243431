"""Ceiling conventions: how a raw score r and a ceiling c combine into a ceiled score.

Every stored score keeps raw, ceiling and the convention's name next to the ceiled value.

========  ===========================  ==========================================================
name      formula                      where it is used
========  ===========================  ==========================================================
``r2/c``  sign(r) * r**2 / c           Brain-Score since Jan 2026; brainalign's default. A model
                                       equal to the true rates scores 1 in expectation, because
                                       the split-half ceiling c estimates the reliability that r**2
                                       reaches at best.
``r/c``   r / c                        Brain-Score until 2023
``(r/c)2`` sign(r) * (r / c)**2        Brain-Score 2024-2025
========  ===========================  ==========================================================

The sign is kept so that a model worse than chance stays visibly negative. The module imports
numpy only when it combines scores, so the CLI reads :data:`CONVENTIONS` for free.
"""

from __future__ import annotations

from ..errors import InputError

CONVENTIONS = ("r2/c", "r/c", "(r/c)2")
DEFAULT_CONVENTION = "r2/c"


def ceiled_score(raw, ceiling, convention: str = DEFAULT_CONVENTION):
    """Combine ``raw`` r and ``ceiling`` c under ``convention``; NaN when c <= 0 or is NaN.

    Examples
    --------
    >>> round(float(ceiled_score(0.6, 0.9, "r2/c")), 6)
    0.4
    >>> round(float(ceiled_score(0.6, 0.8, "r/c")), 6)
    0.75
    """
    import numpy as np

    if convention not in CONVENTIONS:
        raise InputError(f"unknown ceiling convention {convention!r}", hint=f"use one of {', '.join(CONVENTIONS)}")
    raw = np.asarray(raw, dtype=float)
    ceiling = np.asarray(ceiling, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = ceiling > 0
        if convention == "r/c":
            value = raw / ceiling
        elif convention == "r2/c":
            value = np.sign(raw) * raw**2 / ceiling
        else:
            value = np.sign(raw) * (raw / ceiling) ** 2
    return np.where(valid, value, np.nan)
