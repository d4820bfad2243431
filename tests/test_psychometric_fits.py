"""Psychometric fits (psignifit): a simulated observer with a known function is recovered."""

import numpy as np
import pytest
from psignifit import sigmoids

from brainalign.errors import DataError, InputError
from brainalign.psychometrics.fits import fit_psychometric


def _observer(name, levels, *, axis, threshold, width, guess, lapse, n, seed):
    """Binomial trials of an observer whose psi is psignifit's sigmoid ``name`` on ``axis``."""
    psi = sigmoids.sigmoid_by_name(name)(axis, threshold, width, guess, lapse)
    return np.random.default_rng(seed).binomial(n, psi)


@pytest.mark.parametrize("name, scale, increasing", [("weibull", "log", True), ("logistic", "linear", True),
                                                     ("norm", "linear", False)])
def test_simulated_observer_is_recovered_within_its_ci(name, scale, increasing):
    levels = np.geomspace(0.01, 0.64, 7) if scale == "log" else np.linspace(0.0, 0.9, 7)
    true_threshold = 0.08 if scale == "log" else 0.4
    axis = np.log(levels) if scale == "log" else levels
    axis = axis if increasing else -axis
    u_threshold = np.log(true_threshold) if scale == "log" else true_threshold
    u_threshold = u_threshold if increasing else -u_threshold
    width, lapse, n = (2.5 if scale == "log" else 0.5), 0.03, np.full(7, 120)
    k = _observer(name, levels, axis=axis, threshold=u_threshold, width=width, guess=0.5, lapse=lapse, n=n, seed=3)
    fit = fit_psychometric(levels, k, n, n_choices=2, sigmoid=name, scale=scale, increasing=increasing)
    assert fit.threshold_ci[0] <= true_threshold <= fit.threshold_ci[1]
    assert fit.width_ci[0] <= width <= fit.width_ci[1]
    assert fit.lapse_ci[0] <= lapse <= fit.lapse_ci[1]
    assert fit.guess == 0.5
    # psi at the threshold is half-way between guess and 1 - lapse, by definition of m
    assert float(fit.predict(fit.threshold)) == pytest.approx(0.5 + (1 - 0.5 - fit.lapse) / 2, abs=1e-9)


def test_credible_intervals_cover_the_truth_across_seeds():
    """95% intervals of 12 independent simulated observers (16-AFC, Weibull) miss the truth rarely."""
    levels = np.array([0.01, 0.03, 0.05, 0.1, 0.15, 0.3, 0.5, 1.0])
    hits = 0
    for seed in range(12):
        k = _observer("weibull", levels, axis=np.log(levels), threshold=np.log(0.07), width=2.5, guess=1 / 16,
                      lapse=0.1, n=np.full(8, 160), seed=seed)
        fit = fit_psychometric(levels, k, np.full(8, 160), n_choices=16, fix_eta=True)
        hits += fit.threshold_ci[0] <= 0.07 <= fit.threshold_ci[1]
    assert hits >= 10  # P(hits < 10) = 2% for a calibrated 95% interval


def test_bad_fit_input():
    with pytest.raises(DataError, match="at least 3 distinct levels"):
        fit_psychometric([0.1, 0.1, 0.2], [5, 6, 7], [10, 10, 10], n_choices=2)
    with pytest.raises(DataError, match="positive levels"):
        fit_psychometric([0.0, 0.1, 0.2], [5, 6, 7], [10, 10, 10], n_choices=2)
    with pytest.raises(DataError, match="n_correct"):
        fit_psychometric([0.1, 0.2, 0.3], [5, 16, 7], [10, 10, 10], n_choices=2)
    with pytest.raises(InputError, match="unknown sigmoid"):
        fit_psychometric([0.1, 0.2, 0.3], [5, 6, 7], [10, 10, 10], n_choices=2, sigmoid="probit")
