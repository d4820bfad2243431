"""Bootstrap confidence intervals of predictivity scores (seeded; the resamples depend on the seed alone)."""

from __future__ import annotations

import dataclasses

import numpy as np
from threadpoolctl import threadpool_limits

from ..metrics.bootstrap import bootstrap_samples, interval
from .ceilings import SplitHalfCeiling
from .options import ScoreOptions


def prediction_ci(result, Y: np.ndarray, splits, ceiling: SplitHalfCeiling, options: ScoreOptions,
                  convention: str) -> dict | None:
    """Bootstrap CIs of raw, ceiling and ceiled of a cross-validated ``result`` on targets ``Y`` (n_stimuli,
    n_neuroids), or None without replicates. The ceiling's replicates are drawn once per ``ceiling``
    (the resamples depend only on the seed, so every layer shares them)."""
    if options.n_boot == 0:
        return None
    with threadpool_limits(1):  # many small products: BLAS threads only add contention
        samples = bootstrap_samples(result.predictions, Y, splits,
                                    ceiling_halves=ceiling.halves if ceiling.samples is None else None,
                                    n_boot=options.n_boot, seed=options.bootstrap_seed, over=options.bootstrap_over)
    if ceiling.samples is None and samples.ceiling is not None:
        ceiling.samples = samples.ceiling
    samples = dataclasses.replace(samples, ceiling=ceiling.samples)
    ci = {"level": options.ci_level, "n_boot": options.n_boot, "seed": options.bootstrap_seed,
          "over": list(options.bootstrap_over), "raw": interval(samples.raw, options.ci_level)}
    if samples.ceiling is not None:
        ci["ceiling"] = interval(samples.ceiling, options.ci_level)
        ci["ceiled"] = interval(samples.ceiled(convention), options.ci_level)
    return ci


def unit_ci(per_unit: np.ndarray, options: ScoreOptions) -> dict | None:
    """Bootstrap over units of the median of ``per_unit`` (n_units,) scores, NaN units left out
    (the nayebi2023 protocol has no stimulus resampling); None without replicates."""
    if options.n_boot == 0:
        return None
    values = per_unit[np.isfinite(per_unit)]
    rng = np.random.default_rng(options.bootstrap_seed)
    samples = np.median(values[rng.integers(0, len(values), size=(options.n_boot, len(values)))], axis=1)
    return {"level": options.ci_level, "n_boot": options.n_boot, "seed": options.bootstrap_seed,
            "over": ["neuroids"], "raw": interval(samples, options.ci_level)}
