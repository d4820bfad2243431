"""pearson_columns and spearman_brown."""

import numpy as np
import pytest
from scipy.stats import pearsonr

from brainalign.errors import DataError, InputError
from brainalign.metrics.correlation import pearson_columns, spearman_brown


def test_pearson_columns_equals_scipy_per_column():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 25)).astype(np.float32)
    b = a * rng.uniform(-1, 1, 25) + rng.standard_normal((40, 25))
    expected = [pearsonr(a[:, j].astype(np.float64), b[:, j]).statistic for j in range(25)]
    np.testing.assert_allclose(pearson_columns(a, b), expected, rtol=1e-12, atol=1e-14)


def test_pearson_columns_constant_column_is_nan_and_others_unaffected():
    a = np.array([[1.0, 2.0], [2.0, 2.0], [4.0, 2.0]])
    b = np.array([[1.0, 0.0], [3.0, 1.0], [2.0, 5.0]])
    r = pearson_columns(a, b)
    assert np.isnan(r[1])
    assert r[0] == pytest.approx(pearsonr(a[:, 0], b[:, 0]).statistic, abs=1e-14)


def test_pearson_columns_nan_policy():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((30, 3)), rng.standard_normal((30, 3))
    a[4, 0] = np.nan
    b[7, 0] = np.nan
    assert np.isnan(pearson_columns(a, b)[0])
    omitted = pearson_columns(a, b, nan_policy="omit")
    keep = np.setdiff1d(np.arange(30), [4, 7])
    assert omitted[0] == pytest.approx(pearsonr(a[keep, 0], b[keep, 0]).statistic, abs=1e-13)
    assert omitted[1] == pytest.approx(pearsonr(a[:, 1], b[:, 1]).statistic, abs=1e-13)


def test_pearson_columns_rejects_bad_input():
    with pytest.raises(DataError, match="same shape"):
        pearson_columns(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(InputError, match="nan_policy"):
        pearson_columns(np.ones((4, 2)), np.ones((4, 2)), nan_policy="raise")


def test_spearman_brown_values():
    assert spearman_brown(0.5) == pytest.approx(2 / 3, abs=1e-15)
    np.testing.assert_allclose(spearman_brown(np.array([0.0, 1.0, 0.25]), n=4),
                               [0.0, 1.0, 4 * 0.25 / (1 + 3 * 0.25)], rtol=1e-15)
