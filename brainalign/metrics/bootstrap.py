"""Bootstrap confidence intervals over stimuli and neuroids, and paired model comparisons.

One bootstrap sample draws the stimuli with replacement (as integer weights over all the
stimuli) and the neuroids with replacement. Held out from the fitted maps, every statistic is
recomputed on that sample *without refitting*: the per-split held-out Pearson r becomes a
weighted r over the split's test stimuli (weights = how often each was drawn), the median over
neuroids runs over the drawn neuroids, and the split-half ceiling's r uses the same stimulus
weights over all stimuli. So raw score, ceiling and ceiled score share each sample, and two
models scored with the same splits share it too (a paired bootstrap).

Intervals are percentile intervals. The paired p-value is two-sided:
``min(1, 2 * min(#(d_b <= 0) + 1, #(d_b >= 0) + 1) / (n_boot + 1))`` for the bootstrap
differences ``d_b``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from brainalign.errors import InputError
from brainalign.metrics.conventions import ceiled_score
from brainalign.metrics.correlation import spearman_brown

__all__ = ["BootstrapSamples", "bootstrap_samples", "interval", "paired_comparison"]

OVER = ("stimuli", "neuroids")


@dataclass(frozen=True)
class BootstrapSamples:
    """Bootstrap replicates of a score: ``raw`` and ``ceiling`` (n_boot,) and the settings."""

    raw: np.ndarray
    ceiling: np.ndarray | None
    n_boot: int
    seed: int
    over: tuple

    def ceiled(self, convention):
        return None if self.ceiling is None else ceiled_score(self.raw, self.ceiling, convention)


def bootstrap_samples(predictions, Y, splits, *, ceiling_halves=None, n_boot=1000, seed=0, over=OVER):
    """Replicates of the raw score (and ceiling) under resampling of stimuli and/or neuroids.

    Parameters
    ----------
    predictions : list of ndarray of shape (n_test, n_neuroids)
        Held-out predictions per split (``PredictivityResult.predictions``).
    Y : ndarray of shape (n_stimuli, n_neuroids)
        The responses the predictions were scored against.
    splits : sequence of (ndarray, ndarray)
        The ``(train_idx, test_idx)`` of each prediction.
    ceiling_halves : list of (ndarray, ndarray), default=None
        Half-averaged responses (n_stimuli, n_neuroids) of each ceiling split; when given the
        Spearman-Brown split-half ceiling is resampled too.
    n_boot : int, default=1000
    seed : int, default=0
    over : tuple of {"stimuli", "neuroids"}, default=("stimuli", "neuroids")

    Returns
    -------
    samples : BootstrapSamples

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Y = rng.standard_normal((40, 5))
    >>> splits = [(np.arange(20), np.arange(20, 40))]
    >>> predictions = [Y[20:] + rng.standard_normal((20, 5))]
    >>> samples = bootstrap_samples(predictions, Y, splits, n_boot=200)
    >>> samples.raw.shape
    (200,)
    """
    over = _check_over(over)
    Y = np.asarray(Y, dtype=np.float64)
    n_stimuli, n_neuroids = Y.shape
    rng = np.random.default_rng(seed)
    if "stimuli" in over:
        draws = rng.integers(0, n_stimuli, size=(n_boot, n_stimuli))
        weights = np.zeros((n_boot, n_stimuli))
        np.add.at(weights, (np.arange(n_boot)[:, None], draws), 1.0)
    else:
        weights = np.ones((n_boot, n_stimuli))
    neuroids = (rng.integers(0, n_neuroids, size=(n_boot, n_neuroids)) if "neuroids" in over
                else np.broadcast_to(np.arange(n_neuroids), (n_boot, n_neuroids)))
    raw = np.mean([_median_over(_weighted_pearson(weights[:, test], prediction, Y[test]), neuroids)
                   for prediction, (_, test) in zip(predictions, splits)], axis=0)
    ceiling = None
    if ceiling_halves is not None:
        ceiling = np.mean([_median_over(spearman_brown(_weighted_pearson(weights, a, b)), neuroids)
                           for a, b in ceiling_halves], axis=0)
    return BootstrapSamples(raw=raw, ceiling=ceiling, n_boot=n_boot, seed=seed, over=over)


def interval(samples, level=0.95):
    """Percentile interval ``[low, high]`` of bootstrap replicates (NaN replicates skipped)."""
    samples = np.asarray(samples, dtype=np.float64)
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return [float(low), float(high)]


@dataclass(frozen=True)
class PairedComparison:
    """Model A minus model B on the same stimuli, splits and bootstrap samples."""

    difference: float
    ci: list
    p_value: float
    level: float
    n_boot: int
    seed: int
    over: tuple

    def to_dict(self):
        return asdict(self)


def paired_comparison(observed_a, observed_b, samples_a, samples_b, *, level=0.95):
    """Difference of two scores, its percentile CI and a two-sided bootstrap p-value.

    ``samples_a`` and ``samples_b`` must come from :func:`bootstrap_samples` with the same
    seed, ``n_boot``, ``over``, splits and responses (so that replicate b is the same resample
    for both models).
    """
    if (samples_a.seed, samples_a.n_boot, samples_a.over) != (samples_b.seed, samples_b.n_boot, samples_b.over):
        raise InputError("paired bootstrap samples must share seed, n_boot and resampled axes")
    differences = samples_a.raw - samples_b.raw
    differences = differences[np.isfinite(differences)]
    n = len(differences)
    below, above = np.sum(differences <= 0) + 1, np.sum(differences >= 0) + 1
    p_value = float(min(1.0, 2 * min(below, above) / (n + 1)))
    return PairedComparison(difference=float(observed_a - observed_b), ci=interval(differences, level),
                            p_value=p_value, level=level, n_boot=samples_a.n_boot, seed=samples_a.seed,
                            over=samples_a.over)


def _weighted_pearson(weights, a, b):
    """Pearson r per column with per-sample weights: weights (n_boot, n), a, b (n, c) -> (n_boot, c).

    Rows where ``a`` or ``b`` is NaN get weight 0 in that column (pairwise-complete). All the
    weighted moments come from one product of the weights with the stacked columns.
    """
    usable = np.isfinite(a) & np.isfinite(b)
    complete = bool(usable.all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = np.where(usable, a - np.nanmean(np.where(usable, a, np.nan), axis=0), 0.0)
        b = np.where(usable, b - np.nanmean(np.where(usable, b, np.nan), axis=0), 0.0)
    columns = [a, b, a * b, a * a, b * b] + ([] if complete else [usable.astype(np.float64)])
    moments = (weights @ np.concatenate(columns, axis=1)).reshape(len(weights), len(columns), -1)
    total = weights.sum(axis=1, keepdims=True) if complete else moments[:, 5]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a, mean_b, mean_ab, mean_aa, mean_bb = (moments[:, k] / total for k in range(5))
        var_a, var_b = mean_aa - mean_a ** 2, mean_bb - mean_b ** 2
        r = (mean_ab - mean_a * mean_b) / np.sqrt(var_a * var_b)
        count = usable.sum(axis=0)
        scale_a, scale_b = (a * a).sum(axis=0) / count, (b * b).sum(axis=0) / count
    r[~((var_a > 1e-12 * scale_a) & (var_b > 1e-12 * scale_b))] = np.nan
    return np.clip(r, -1.0, 1.0)


def _median_over(values, neuroids):
    """Median over each replicate's drawn neuroids: values (n_boot, n_neuroids)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.take_along_axis(values, neuroids, axis=1), axis=1)


def _check_over(over):
    over = tuple(over)
    if not over or any(o not in OVER for o in over):
        raise InputError(f"bootstrap over {over!r}", hint="resample 'stimuli', 'neuroids' or both")
    return over
