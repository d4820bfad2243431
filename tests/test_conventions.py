"""Ceiling conventions."""

import numpy as np
import pytest

from brainalign.errors import InputError
from brainalign.metrics.conventions import ceiled_score


def test_conventions_on_known_values():
    assert ceiled_score(0.6, 0.9, "r2/c") == pytest.approx(0.4)
    assert ceiled_score(0.6, 0.8, "r/c") == pytest.approx(0.75)
    assert ceiled_score(0.6, 0.8, "(r/c)2") == pytest.approx(0.5625)
    assert ceiled_score(-0.3, 0.9, "r2/c") == pytest.approx(-0.1)


def test_perfect_model_scores_one_under_r2_over_c():
    # a model equal to the true rates reaches r^2 = reliability, which the split-half ceiling estimates
    reliability = 0.64
    assert ceiled_score(np.sqrt(reliability), reliability, "r2/c") == pytest.approx(1.0)


def test_nonpositive_ceiling_gives_nan_and_unknown_convention_raises():
    assert np.isnan(ceiled_score(0.5, 0.0))
    with pytest.raises(InputError):
        ceiled_score(0.5, 0.5, "r")
