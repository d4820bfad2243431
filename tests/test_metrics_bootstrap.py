"""Bootstrap intervals over stimuli and neuroids, and the paired comparison."""

import numpy as np
import pytest
from scipy.stats import pearsonr

from brainalign.errors import InputError
from brainalign.metrics.bootstrap import _weighted_pearson, bootstrap_samples, interval, paired_comparison
from brainalign.metrics.splits import brainscore_splits


def _predictions(Y, splits, noise, seed):
    rng = np.random.default_rng(seed)
    return [Y[test] + noise * rng.standard_normal(Y[test].shape) for _, test in splits]


def test_weighted_pearson_equals_pearsonr_on_the_resample():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((25, 3))
    b = a + rng.standard_normal((25, 3))
    b[4, 1] = np.nan  # pairwise-complete: that row leaves column 1 only
    draw = rng.integers(0, 25, 25)
    weights = np.bincount(draw, minlength=25)[None].astype(float)
    r = _weighted_pearson(weights, a, b)[0]
    for j in range(3):
        keep = draw[np.isfinite(b[draw, j])]
        assert r[j] == pytest.approx(pearsonr(a[keep, j], b[keep, j])[0], abs=1e-10)


def test_interval_covers_the_truth_and_no_resampling_is_a_point():
    rng = np.random.default_rng(1)
    Y = rng.standard_normal((200, 30))
    splits = brainscore_splits(200)
    predictions = _predictions(Y, splits, 1.0, seed=2)  # true r = 1/sqrt(2)
    samples = bootstrap_samples(predictions, Y, splits, n_boot=500, seed=0)
    low, high = interval(samples.raw)
    assert low < 1 / np.sqrt(2) < high and high - low < 0.15
    neuroids_only = bootstrap_samples(predictions, Y, splits, n_boot=50, over=("neuroids",))
    stimuli_only = bootstrap_samples(predictions, Y, splits, n_boot=50, over=("stimuli",))
    assert np.ptp(neuroids_only.raw) > 0 and np.ptp(stimuli_only.raw) > 0
    with pytest.raises(InputError, match="resample"):
        bootstrap_samples(predictions, Y, splits, over=("trials",))


def test_paired_comparison_detects_a_better_model_and_not_an_identical_one():
    rng = np.random.default_rng(3)
    Y = rng.standard_normal((150, 20))
    splits = brainscore_splits(150)
    good, bad = _predictions(Y, splits, 1.0, seed=4), _predictions(Y, splits, 2.0, seed=5)
    raw = [np.mean([np.median([pearsonr(p[:, j], Y[t, j])[0] for j in range(20)]) for p, (_, t) in zip(m, splits)])
           for m in (good, bad)]
    a, b = (bootstrap_samples(m, Y, splits, n_boot=400, seed=7) for m in (good, bad))
    result = paired_comparison(raw[0], raw[1], a, b)
    assert result.difference == pytest.approx(raw[0] - raw[1]) and result.difference > 0.2
    assert result.ci[0] > 0 and result.p_value < 0.01
    same = paired_comparison(raw[0], raw[0], a, a)
    assert same.difference == 0 and same.ci == [0.0, 0.0] and same.p_value == 1.0
    with pytest.raises(InputError, match="share"):
        paired_comparison(raw[0], raw[1], a, bootstrap_samples(bad, Y, splits, n_boot=400, seed=8))
