"""Model decisions: the 16-class ImageNet mapping and the cross-validated readout."""

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import binom, norm

from brainalign.errors import DataError
from brainalign.psychometrics.decisions import limit_capacity, readout_decisions
from brainalign.psychometrics.imagenet16 import CATEGORIES, IMAGENET_INDICES, category_probabilities, decisions_16


def test_index_table_is_model_vs_humans():
    indices = [i for c in CATEGORIES for i in IMAGENET_INDICES[c]]
    assert len(indices) == 207 and len(set(indices)) == 207 and min(indices) >= 0 and max(indices) < 1000
    assert list(CATEGORIES) == sorted(CATEGORIES) and len(CATEGORIES) == 16
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    named = {c: [info.index_to_description(i).lower() for i in IMAGENET_INDICES[c]] for c in CATEGORIES}
    assert named["airplane"] == ["airliner"] and named["knife"][0].startswith("cleaver")
    assert named["oven"][0] == "rotisserie" and all("elephant" in n for n in named["elephant"])
    assert all("bottle" in n or "jug" in n for n in named["bottle"])
    assert all("clock" in n for n in named["clock"])
    assert [info.index_to_label_name(i) for i in IMAGENET_INDICES["bear"]] == [
        "n02132136", "n02133161", "n02134084", "n02134418"]


def test_category_probabilities_average_the_softmax():
    logits = np.random.default_rng(0).normal(size=(5, 1000))
    expected = np.stack([softmax(logits, axis=1)[:, IMAGENET_INDICES[c]].mean(axis=1) for c in CATEGORIES], axis=1)
    assert np.allclose(category_probabilities(logits), expected, atol=1e-12)
    one_hot = np.zeros((2, 1000))
    one_hot[0, 766], one_hot[1, 200] = 20, 20
    assert decisions_16(one_hot).tolist() == ["oven", "dog"]
    with pytest.raises(DataError, match="1000"):
        decisions_16(np.zeros((2, 10)))


def test_readout_accuracy_matches_the_ideal_observer():
    """Two Gaussian classes d' apart along one feature: accuracy = Phi(d'/2), within binomial error."""
    rng = np.random.default_rng(1)
    n, d_prime = 300, 1.5
    labels = np.repeat([0, 1], n)
    features = rng.standard_normal((2 * n, 5))
    features[:, 0] += d_prime * labels
    correct = readout_decisions(features, labels, seed=0) == labels
    low, high = binom.interval(0.999, 2 * n, norm.cdf(d_prime / 2))
    assert low <= correct.sum() <= high + 3


def test_readout_never_sees_the_tested_stimulus():
    """Labels unrelated to unique per-stimulus features: a memorising readout would be perfect."""
    rng = np.random.default_rng(2)
    labels = rng.permutation(np.repeat([0, 1], 60))
    correct = readout_decisions(rng.standard_normal((120, 400)), labels, seed=0) == labels
    assert binom.cdf(correct.sum(), 120, 0.5) > 0.0005 and binom.sf(correct.sum() - 1, 120, 0.5) > 0.0005


def test_limited_capacity():
    features = np.random.default_rng(3).standard_normal((50, 100))
    subset = limit_capacity(features, max_features=10, seed=0)
    assert subset.shape == (50, 10)
    assert np.array_equal(subset, limit_capacity(features, max_features=10, seed=0))
    noisy = limit_capacity(features, readout_noise=2.0, seed=0)
    assert np.std(noisy - features) == pytest.approx(2.0 * features.std(axis=0).mean(), rel=0.05)


def test_paired_stimuli_stay_in_one_fold():
    """Pairs of near-identical stimuli with opposite labels: splitting a pair across folds pushes
    decisions to the wrong class (below chance); grouped folds give chance."""
    rng = np.random.default_rng(4)
    base = rng.standard_normal((40, 30))
    features = np.concatenate([base, base + 0.01 * rng.standard_normal((40, 30))])
    labels, pairs = np.repeat([0, 1], 40), np.tile(np.arange(40), 2)
    grouped = np.mean(readout_decisions(features, labels, groups=pairs) == labels)
    split = np.mean(readout_decisions(features, labels) == labels)
    assert split < 0.3 and 0.3 < grouped < 0.7
