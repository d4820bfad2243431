"""Gram matrices, HSIC and linear CKA (brainalign.metrics.cka): identities and direct formulas."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from brainalign.errors import DataError
from brainalign.metrics.cka import (
    center_gram,
    cka_from_grams,
    gram_from_squared_distances,
    gram_linear,
    hsic,
    linear_cka,
)


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 8))
    y = x @ rng.standard_normal((8, 5)) + 0.5 * rng.standard_normal((20, 5))
    return x, y


@pytest.mark.parametrize("unbiased", [False, True])
def test_cka_invariant_to_orthogonal_transform_and_scale(xy, unbiased):
    x, _ = xy
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((8, 8)))
    assert linear_cka(x, x @ q, unbiased=unbiased) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, 3.7 * x, unbiased=unbiased) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, -0.2 * x @ q, unbiased=unbiased) == pytest.approx(1.0, abs=1e-12)


def test_biased_cka_equals_direct_hsic_trace_formula(xy):
    x, y = xy
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    k, l = x @ x.T, y @ y.T
    hsic_kl = np.trace(k @ h @ l @ h) / (n - 1) ** 2
    assert hsic(k, l) == pytest.approx(hsic_kl, rel=1e-12)
    direct = hsic_kl / np.sqrt(np.trace(k @ h @ k @ h) * np.trace(l @ h @ l @ h)) * (n - 1) ** 2
    assert linear_cka(x, y) == pytest.approx(direct, rel=1e-12)          # feature-space route (p < n)
    assert cka_from_grams(k, l) == pytest.approx(direct, rel=1e-12)      # Gram route
    assert 0 < direct < 1


def test_unbiased_hsic_equals_u_statistic():
    """Song et al. 2012: HSIC_u = E[K_ij L_ij] + E[K_ij] E[L_qr] - 2 E[K_ij L_iq] over distinct indices."""
    rng = np.random.default_rng(2)
    n = 6
    k, l = gram_linear(rng.standard_normal((n, 3))), gram_linear(rng.standard_normal((n, 4)))
    pairs = list(itertools.permutations(range(n), 2))
    a = np.mean([k[i, j] * l[i, j] for i, j in pairs])
    b = np.mean([k[i, j] * l[q, r] for i, j, q, r in itertools.permutations(range(n), 4)])
    c = np.mean([k[i, j] * l[i, q] for i, j, q in itertools.permutations(range(n), 3)])
    assert hsic(k, l, unbiased=True) == pytest.approx(a + b - 2 * c, rel=1e-10)


def test_gram_from_squared_distances_equals_centred_gram(xy):
    x, _ = xy
    d = squareform(pdist(x, "sqeuclidean"))
    np.testing.assert_allclose(gram_from_squared_distances(d), center_gram(gram_linear(x)), atol=1e-10)


def test_gram_route_and_feature_route_agree_when_units_exceed_stimuli():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((10, 50)), rng.standard_normal((10, 4))
    xc, yc = x - x.mean(0), y - y.mean(0)
    expected = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))
    assert linear_cka(x, y) == pytest.approx(expected, rel=1e-10)


def test_degenerate_inputs_raise(xy):
    x, y = xy
    with pytest.raises(DataError, match="no positive variance"):
        linear_cka(np.ones((20, 3)), y)
    with pytest.raises(DataError, match="at least 4 stimuli"):
        linear_cka(x[:3], y[:3], unbiased=True)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        linear_cka(bad, y)
    with pytest.raises(DataError, match="different numbers of stimuli"):
        linear_cka(x, y[:-1])
