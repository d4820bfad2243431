"""Split-half internal-consistency ceiling."""

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.model_selection import ShuffleSplit

from brainalign.errors import DataError
from brainalign.metrics.ceiling import spearman_brown_split_half


def _simulated(n_repetitions, noise_sd, *, n_stimuli=400, n_neuroids=40, seed=0):
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_stimuli, n_neuroids))
    return signal + noise_sd * rng.standard_normal((n_repetitions, n_stimuli, n_neuroids))


@pytest.mark.parametrize("n_repetitions, noise_sd", [(10, 2.0), (4, 1.0), (20, 4.0)])
def test_ceiling_recovers_known_reliability(n_repetitions, noise_sd):
    # reliability of the n-repetition average: var_s / (var_s + sigma^2 / n)
    expected = 1.0 / (1.0 + noise_sd**2 / n_repetitions)
    result = spearman_brown_split_half(_simulated(n_repetitions, noise_sd))
    assert result.ceiling == pytest.approx(expected, abs=0.03)
    assert result.per_split.shape == (10,)
    assert result.per_neuroid.shape == (40,)
    assert np.nanmedian(result.per_neuroid) == pytest.approx(expected, abs=0.03)


def test_ceiling_equals_brainscore_loop():
    responses = _simulated(5, 1.5, n_stimuli=30, n_neuroids=6, seed=3)
    splits = ShuffleSplit(10, train_size=0.5, test_size=None, random_state=1).split(np.zeros(5))
    per_split = []
    for first, second in splits:
        half1, half2 = responses[first].mean(axis=0), responses[second].mean(axis=0)
        r = np.array([pearsonr(half1[:, j], half2[:, j]).statistic for j in range(6)])
        per_split.append(np.median(2 * r / (1 + r)))
    result = spearman_brown_split_half(responses)
    np.testing.assert_allclose(result.per_split, per_split, rtol=1e-12)
    assert result.ceiling == pytest.approx(np.mean(per_split), abs=1e-12)
    assert result.error == pytest.approx(np.std(per_split) / np.sqrt(10), abs=1e-12)


def test_ceiling_drops_stimulus_whose_half_is_missing():
    responses = _simulated(2, 1.0, n_stimuli=50, n_neuroids=5, seed=4)
    with_gap = responses.copy()
    with_gap[1, 0] = np.nan  # stimulus 0 lacks its second repetition
    expected = spearman_brown_split_half(responses[:, 1:])
    result = spearman_brown_split_half(with_gap)
    np.testing.assert_allclose(result.per_split_neuroid, expected.per_split_neuroid, rtol=1e-12)


def test_ceiling_with_nan_padded_repetitions_stays_close():
    responses = _simulated(12, 2.0, seed=5)
    rng = np.random.default_rng(6)
    n_valid = rng.integers(10, 13, size=responses.shape[1])  # 10 to 12 repetitions per stimulus
    responses[np.arange(12)[:, None] >= n_valid[None, :]] = np.nan
    result = spearman_brown_split_half(responses)
    expected = 1.0 / (1.0 + 4.0 / 11.0)
    assert np.isfinite(result.per_split_neuroid).all()
    assert result.ceiling == pytest.approx(expected, abs=0.04)


def test_single_repetition_is_a_data_error():
    with pytest.raises(DataError, match="at least 2 repetitions"):
        spearman_brown_split_half(np.ones((1, 10, 3)))
