"""The nayebi2023 protocol: exact against a scikit-learn loop, and ~1 for the true features."""

import warnings

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression as SklearnPLS

from brainalign.errors import DataError
from brainalign.metrics.nayebi import (
    interanimal_consistency,
    nayebi_image_splits,
    noise_corrected_predictivity,
    noise_corrected_rsa,
    trial_halves,
)


def _population(n_images=60, n_trials=10, n_units=12, noise=1.5, seed=0, n_latent=4):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_images, n_latent))
    rates = latent @ rng.standard_normal((n_latent, n_units))
    return latent, rates, rates + noise * rng.standard_normal((n_trials, n_images, n_units))


def _sb(r):
    return 2 * r / (1 + r)


def test_equals_sklearn_reference_loop():
    latent, _, trials = _population(n_images=40, n_trials=8, n_units=7)
    X = np.c_[latent, np.random.default_rng(1).standard_normal((40, 26))]
    result = noise_corrected_predictivity(X, trials, n_components=5, n_splits=3, n_halves=4)
    reference = np.empty((3, 4, 7))
    for s, (train, test) in enumerate(nayebi_image_splits(40, n_splits=3)):
        assert len(train) == 20 and set(train) | set(test) == set(range(40))
        for h in range(4):
            order = list(range(8))
            np.random.RandomState(h).shuffle(order)
            T1, T2 = trials[order[:4]].mean(0), trials[order[4:]].mean(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                P1 = SklearnPLS(5, scale=False).fit(X[train], T1[train]).predict(X[test])
                P2 = SklearnPLS(5, scale=False).fit(X[train], T2[train]).predict(X[test])
            for u in range(7):
                with np.errstate(invalid="ignore"):
                    reference[s, h, u] = pearsonr(P1[:, u], T2[test, u])[0] / np.sqrt(
                        _sb(pearsonr(P1[:, u], P2[:, u])[0]) * _sb(pearsonr(T1[test, u], T2[test, u])[0]))
    np.testing.assert_allclose(result.values, reference, rtol=1e-8, atol=1e-10, equal_nan=True)
    assert result.score == pytest.approx(np.nanmedian(np.nanmean(reference, axis=(0, 1))), abs=1e-12)


def test_true_features_score_one_and_noise_features_do_not():
    # ground truth: the rates are linear in 4 latent features; trials add known noise (trial-half
    # reliability ~0.9, so an uncorrected r would be ~0.95 at best); the estimator is slightly
    # biased low as the noise grows (0.99 / 0.96 / 0.93 at noise 1 / 2 / 3 here)
    latent, rates, trials = _population(n_images=118, n_trials=20, n_units=30, noise=2.0, seed=2)
    truth = noise_corrected_predictivity(latent, trials, n_components=4, n_splits=3, n_halves=10)
    assert truth.score == pytest.approx(1.0, abs=0.05)
    assert truth.n_nan_units == 0 and truth.values.shape == (3, 10, 30)
    junk = np.random.default_rng(3).standard_normal((118, 4))
    assert noise_corrected_predictivity(junk, trials, n_components=4, n_splits=3, n_halves=10).score < 0.3


def test_interanimal_consistency_of_shared_rates_is_one():
    rng = np.random.default_rng(4)
    latent = rng.standard_normal((80, 3))
    animals = {f"m{i}": latent @ rng.standard_normal((3, 10)) + 1.0 * rng.standard_normal((12, 80, 10))
               for i in range(3)}
    result, used = interanimal_consistency(animals, n_components=3, n_splits=2, n_halves=6,
                                           min_unit_percentile=0)
    assert used == ["m0", "m1", "m2"] and result.values.shape == (2, 6, 30)
    assert result.score == pytest.approx(1.0, abs=0.08)
    with pytest.raises(DataError, match="at least 2 animals"):
        interanimal_consistency({"m0": animals["m0"]}, n_components=3)


def test_rsa_variant_and_halves():
    latent, rates, trials = _population(n_images=50, n_trials=16, n_units=40, noise=2.0, seed=5)
    score, per_half = noise_corrected_rsa(rates, trials, n_halves=8)
    assert per_half.shape == (8,) and score == pytest.approx(1.0, abs=0.1)
    first, second = trial_halves(7, n_halves=1)[0]
    assert len(first) == 3 and sorted(np.r_[first, second]) == list(range(7))


def test_single_trial_is_a_clear_error():
    latent, _, trials = _population()
    with pytest.raises(DataError, match="at least 2"):
        noise_corrected_predictivity(latent, trials[:1], n_components=4)
