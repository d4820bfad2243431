"""Cross-validated predictivity, Brain-Score's splits and their aggregation."""

import warnings

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression as SklearnPLS
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from brainalign.errors import DataError, InputError
from brainalign.metrics.pls import linear_kernel
from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.splits import brainscore_aggregate, brainscore_splits


def _linear_gaussian(n_stimuli, n_features, n_neuroids, *, signal_var, noise_var, seed):
    """Y = X B + noise with var(X B) = signal_var per neuroid (X ~ N(0, I), unit-norm B columns)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_stimuli, n_features))
    B = rng.standard_normal((n_features, n_neuroids))
    B *= np.sqrt(signal_var) / np.linalg.norm(B, axis=0)
    return X, X @ B + np.sqrt(noise_var) * rng.standard_normal((n_stimuli, n_neuroids))


def _brainscore_reference(X, Y, splits, n_components):
    """Brain-Score's loop: sklearn PLS per split, scipy pearsonr per neuroid."""
    rows = []
    for train, test in splits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prediction = SklearnPLS(n_components, scale=False).fit(X[train], Y[train]).predict(X[test])
        rows.append([pearsonr(Y[test, j], prediction[:, j]).statistic for j in range(Y.shape[1])])
    return np.array(rows)


def test_predictivity_equals_brainscore_loop():
    X, Y = _linear_gaussian(80, 150, 7, signal_var=1.0, noise_var=2.0, seed=0)
    splits = brainscore_splits(80)
    result = cross_validated_predictivity(X.astype(np.float32), Y, splits=splits, n_components=6)
    expected = _brainscore_reference(X.astype(np.float32).astype(np.float64), Y, splits, 6)
    np.testing.assert_allclose(result.per_split_neuroid, expected, rtol=1e-6, atol=1e-9)
    per_split = np.median(expected, axis=1)
    np.testing.assert_allclose(result.per_split, per_split, rtol=1e-6)
    assert result.raw == pytest.approx(per_split.mean(), abs=1e-9)
    assert result.error == pytest.approx(per_split.std() / np.sqrt(10), abs=1e-9)


def test_positive_control_equals_brainscore_loop():
    # responses that are the features themselves: the power method converges slowly there
    rng = np.random.default_rng(6)
    latent = rng.standard_normal((120, 6))
    X = np.maximum(latent @ rng.standard_normal((6, 30)) + 0.3 * rng.standard_normal((120, 30)), 0)
    splits = brainscore_splits(120)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = cross_validated_predictivity(X, X, splits=splits, n_components=12)
    assert len(record) == len({(w.category, str(w.message)) for w in record})  # each at most once
    expected = _brainscore_reference(X, X, splits, 12)
    np.testing.assert_allclose(result.per_split_neuroid, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("signal_var, noise_var", [(1.0, 1.0), (1.0, 3.0), (4.0, 1.0)])
def test_predictivity_recovers_analytic_correlation(signal_var, noise_var):
    # with enough stimuli the fitted map is the true one and the held-out r per neuroid is
    # sqrt(signal variance / total variance)
    X, Y = _linear_gaussian(400, 8, 60, signal_var=signal_var, noise_var=noise_var, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the last component may hit max_iter, as in sklearn
        result = cross_validated_predictivity(X, Y, splits=brainscore_splits(400), n_components=8)
    assert result.raw == pytest.approx(np.sqrt(signal_var / (signal_var + noise_var)), abs=0.025)


def test_precomputed_gram_gives_identical_result():
    X, Y = _linear_gaussian(60, 90, 4, signal_var=1.0, noise_var=1.0, seed=2)
    splits = brainscore_splits(60)
    direct = cross_validated_predictivity(X, Y, splits=splits, n_components=5)
    reused = cross_validated_predictivity(X, Y, splits=splits, n_components=5, gram=linear_kernel(X))
    np.testing.assert_array_equal(direct.per_split_neuroid, reused.per_split_neuroid)


def test_constant_neuroid_is_nan_and_skipped_by_the_median():
    X, Y = _linear_gaussian(60, 90, 4, signal_var=1.0, noise_var=1.0, seed=3)
    Y[:, 2] = 5.0
    splits = brainscore_splits(60)
    result = cross_validated_predictivity(X, Y, splits=splits, n_components=5)
    assert np.isnan(result.per_split_neuroid[:, 2]).all()
    others = cross_validated_predictivity(X, Y[:, [0, 1, 3]], splits=splits, n_components=5)
    assert result.raw == pytest.approx(others.raw, abs=1e-12)
    with pytest.raises(DataError, match="no neuroid"), \
            pytest.warns(UserWarning, match="y residual is constant"):
        cross_validated_predictivity(X, np.ones((60, 3)), splits=splits, n_components=5)


def test_predictivity_rejects_bad_data():
    X, Y = _linear_gaussian(40, 30, 3, signal_var=1.0, noise_var=1.0, seed=4)
    splits = brainscore_splits(40)
    Y_nan = Y.copy()
    Y_nan[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN") as info:
        cross_validated_predictivity(X, Y_nan, splits=splits)
    assert "nanmean" in info.value.hint
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(DataError, match="features X"):
        cross_validated_predictivity(X_nan, Y, splits=splits)
    with pytest.raises(DataError, match="39"):
        cross_validated_predictivity(X[:39], Y, splits=splits)
    with pytest.raises(DataError, match="at least 2"):
        cross_validated_predictivity(X[:, :1], Y, splits=splits, n_components=1)
    with pytest.raises(InputError, match="number of features"):
        cross_validated_predictivity(X, Y, splits=splits, n_components=31)
    with pytest.raises(DataError, match="outside"):
        cross_validated_predictivity(X[:30], Y[:30], splits=splits, n_components=5)


def test_splits_equal_sklearn_shuffle_split():
    expected = ShuffleSplit(10, train_size=0.9, random_state=1).split(np.zeros(315))
    splits = brainscore_splits(315)
    assert len(splits) == 10
    for (train, test), (train_ref, test_ref) in zip(splits, expected):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)
    assert len(splits[0][1]) == 32


def test_stratified_splits_equal_sklearn():
    labels = np.repeat(["texture", "noise"], 60)
    expected = StratifiedShuffleSplit(10, train_size=0.9, random_state=1).split(
        np.zeros(120), labels)
    for (train, test), (train_ref, test_ref) in zip(brainscore_splits(120, stratify=labels), expected):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)


def test_splits_reject_too_few_stimuli_and_small_classes():
    assert len(brainscore_splits(20)[0][1]) == 2
    with pytest.raises(DataError, match="9 train and 1 test"):
        brainscore_splits(10)
    with pytest.raises(DataError, match="only 1"):
        brainscore_splits(40, stratify=np.r_[np.zeros(39), 1])


def test_aggregate_is_mean_of_nan_medians_with_sem():
    values = np.array([[0.1, 0.4, np.nan, 0.3], [0.2, 0.6, 0.5, 0.0]])
    center, error, per_split = brainscore_aggregate(values)
    np.testing.assert_allclose(per_split, [0.3, 0.35])
    assert center == pytest.approx(0.325)
    assert error == pytest.approx(0.025 / np.sqrt(2))


@pytest.mark.parametrize("n, n_splits, train_size, seed", [(315, 10, 0.9, 1), (640, 10, 0.9, 1), (10, 10, 0.5, 1),
                                                          (6, 3, 0.5, 0), (264, 1, 0.5, 0), (51, 4, 0.3, 7)])
def test_shuffle_split_draws_exactly_scikit_learns_splits(n, n_splits, train_size, seed):
    from brainalign.metrics.splits import shuffle_split

    ours = shuffle_split(n, n_splits=n_splits, train_size=train_size, random_state=seed)
    theirs = list(ShuffleSplit(n_splits, train_size=train_size, test_size=None, random_state=seed).split(np.zeros(n)))
    assert len(ours) == len(theirs) == n_splits
    for (train, test), (train_ref, test_ref) in zip(ours, theirs):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)
