"""RDMs, RDM comparisons and noise ceilings (brainalign.metrics.rsa) against direct formulas, and RSA scoring."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from scipy.spatial.distance import pdist, squareform

from brainalign.benchmarks.rsa import RSABenchmark, RSAProtocol, score_rsa
from brainalign.errors import DataError, InputError
from brainalign.metrics.rsa import (
    compare_rdms,
    noise_ceiling,
    rdm_from_features,
    rdms_from_matrices,
    select_stimuli,
    stimulus_ids_of,
)


def _ids(n):
    return np.array([f"s{i:02d}" for i in range(n)])


@pytest.fixture(scope="module")
def features():
    return np.random.default_rng(0).standard_normal((12, 30))


def test_correlation_rdm_is_one_minus_pearson(features):
    rdm = rdm_from_features(features, _ids(12), method="correlation")
    np.testing.assert_allclose(rdm.get_matrices()[0], 1 - np.corrcoef(features), atol=1e-12)
    assert list(stimulus_ids_of(rdm)) == list(_ids(12))


def test_euclidean_rdm_is_squared_distance_per_channel(features):
    rdm = rdm_from_features(features, _ids(12), method="euclidean")
    np.testing.assert_allclose(rdm.get_vectors()[0], pdist(features, "sqeuclidean") / features.shape[1],
                               rtol=1e-10)


def test_repeated_ids_are_averaged(features):
    ids = np.r_[_ids(12), _ids(12)]
    rdm = rdm_from_features(np.r_[features, features + 2 * features], ids, method="euclidean")
    np.testing.assert_allclose(rdm.get_vectors()[0], pdist(2 * features, "sqeuclidean") / 30, rtol=1e-10)


def test_crossnobis_two_folds_is_product_of_fold_differences(features):
    rng = np.random.default_rng(1)
    fold1, fold2 = features + rng.standard_normal(features.shape), features + rng.standard_normal(features.shape)
    order = rng.permutation(24)  # rows in any order: the RDM is named by id
    x, ids, folds = np.r_[fold1, fold2][order], np.r_[_ids(12), _ids(12)][order], np.r_[[0] * 12, [1] * 12][order]
    rdm = rdm_from_features(x, ids, method="crossnobis", folds=folds)
    rdm = select_stimuli(rdm, _ids(12))
    d1 = fold1[:, None, :] - fold1[None, :, :]
    d2 = fold2[:, None, :] - fold2[None, :, :]
    expected = 0.5 * (np.einsum("ijk,ijk->ij", d1, d2) + np.einsum("ijk,ijk->ij", d2, d1)) / 30
    np.testing.assert_allclose(rdm.get_matrices()[0], expected, atol=1e-10)


@pytest.mark.parametrize("bad, message", [
    ("constant", "constant across channels"), ("nan", "NaN"), ("two", "at least 3 stimuli"),
])
def test_degenerate_features_raise(features, bad, message):
    x, ids = features.copy(), _ids(12)
    if bad == "constant":
        x[3] = 1.5
    elif bad == "nan":
        x[0, 0] = np.nan
    else:
        x, ids = x[:2], ids[:2]
    with pytest.raises(DataError, match=message):
        rdm_from_features(x, ids)


def test_crossnobis_needs_folds_and_complete_folds(features):
    ids = np.r_[_ids(12), _ids(12)]
    with pytest.raises(DataError, match="fold"):
        rdm_from_features(np.r_[features, features], ids, method="crossnobis")
    with pytest.raises(DataError, match="lacks stimulus"):
        rdm_from_features(np.r_[features, features][:-1], ids[:-1], method="crossnobis",
                          folds=np.r_[[0] * 12, [1] * 11])


def test_unknown_method_is_an_input_error(features):
    with pytest.raises(InputError, match="use one of"):
        rdm_from_features(features, _ids(12), method="mahalanobis")


def _tau_a_brute_force(x, y):
    n = len(x)
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i, j in itertools.combinations(range(n), 2))
    return s / (n * (n - 1) / 2)


def test_kendall_tau_a_on_ties_equals_pair_count():
    rng = np.random.default_rng(3)
    a = squareform(rng.integers(0, 3, 28).astype(float))  # 8 stimuli, dissimilarities with many ties
    b = squareform(rng.integers(0, 4, 28).astype(float))
    model, target = rdms_from_matrices(a, _ids(8)), rdms_from_matrices(b, _ids(8))
    expected = _tau_a_brute_force(squareform(a), squareform(b))
    value = compare_rdms(model, target, method="tau-a")[0]
    assert value == pytest.approx(expected, abs=1e-12)
    # tau-a differs from tau-b (the default of scipy) exactly when there are ties
    assert abs(value - scipy.stats.kendalltau(squareform(a), squareform(b)).statistic) > 1e-3


@pytest.mark.parametrize("method, reference", [
    ("spearman", lambda x, y: scipy.stats.spearmanr(x, y).statistic),
    ("corr", lambda x, y: np.corrcoef(x, y)[0, 1]),
    ("cosine", lambda x, y: x @ y / np.linalg.norm(x) / np.linalg.norm(y)),
])
def test_comparisons_equal_direct_formulas(features, method, reference):
    a = rdm_from_features(features, _ids(12))
    b = rdm_from_features(features ** 2, _ids(12), method="euclidean")
    assert compare_rdms(a, b, method=method)[0] == pytest.approx(reference(a.get_vectors()[0], b.get_vectors()[0]),
                                                                 abs=1e-10)


def test_comparison_aligns_by_stimulus_id_not_position(features):
    a = rdm_from_features(features, _ids(12))
    order = np.random.default_rng(4).permutation(12)
    shuffled = rdm_from_features(features[order], _ids(12)[order])
    for method in ("spearman", "corr_cov", "tau-a"):
        assert compare_rdms(a, shuffled, method=method)[0] == pytest.approx(1.0, abs=1e-10)


def test_comparison_refuses_other_stimuli(features):
    a = rdm_from_features(features, _ids(12))
    other = rdm_from_features(features, np.r_[_ids(11), ["extra"]])
    with pytest.raises(DataError, match="different stimuli"):
        compare_rdms(a, other)


def _subjects(n_subjects=4, noise=1.0, seed=5, n_stimuli=15):
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal((n_stimuli, 40))
    matrices = [1 - np.corrcoef(truth + noise * rng.standard_normal(truth.shape)) for _ in range(n_subjects)]
    return truth, rdms_from_matrices(np.stack(matrices), _ids(n_stimuli), subjects=[f"p{i}" for i in range(n_subjects)])


def test_noise_ceiling_is_leave_one_subject_out_of_mean_rdm():
    """METHODS.md: upper = mean_s compare(mean of all, s), lower = the same with the others' mean
    (Pearson; rsatoolbox z-scores each RDM before pooling)."""
    _, target = _subjects()
    vectors = target.get_vectors()
    z = (vectors - vectors.mean(axis=1, keepdims=True)) / vectors.std(axis=1, keepdims=True)
    upper = np.mean([np.corrcoef(z.mean(axis=0), v)[0, 1] for v in vectors])
    lower = np.mean([np.corrcoef(np.delete(z, s, axis=0).mean(axis=0), v)[0, 1] for s, v in enumerate(vectors)])
    assert noise_ceiling(target, method="corr") == pytest.approx((lower, upper), abs=1e-10)
    assert lower < upper


def test_noise_ceiling_of_identical_subjects_is_one():
    _, target = _subjects(noise=0.0)
    assert noise_ceiling(target, method="spearman") == pytest.approx((1.0, 1.0), abs=1e-12)


def test_noise_ceiling_needs_two_subjects():
    _, target = _subjects(n_subjects=1)
    with pytest.raises(DataError, match="at least 2 subjects"):
        noise_ceiling(target)


def test_target_rdms_are_checked():
    good = 1 - np.corrcoef(np.random.default_rng(0).standard_normal((5, 9)))
    with pytest.raises(DataError, match="not symmetric"):
        rdms_from_matrices(good + np.triu(np.ones((5, 5)), 1), _ids(5))
    with pytest.raises(DataError, match="diagonal"):
        rdms_from_matrices(np.corrcoef(np.random.default_rng(0).standard_normal((5, 9))), _ids(5))
    with pytest.raises(DataError, match="NaN"):
        rdms_from_matrices(np.where(np.eye(5) == 1, 0, np.nan), _ids(5))


def _benchmark(target, stimuli_ids, protocol=RSAProtocol()):
    return RSABenchmark(identifier="test.rsa", version="0", region="IT", species="test", description="",
                        load_target=lambda: target, load_stimuli=lambda: None, protocol=protocol)


def _activations(x, ids):
    return xr.DataArray(x, dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", ids)})


def test_rsa_score_of_the_true_patterns_lies_within_the_noise_ceiling():
    truth, target = _subjects(noise=1.5)
    shuffled = np.random.default_rng(9).permutation(15)  # activations in another order
    records = score_rsa(_benchmark(target, _ids(15)), {"true": _activations(truth[shuffled], _ids(15)[shuffled]),
                                                       "noise": _activations(np.random.default_rng(8).standard_normal(
                                                           (15, 40)), _ids(15))})
    true, noise = records[0].score, records[1].score
    assert true["ceiling_lower"] < true["raw"] < true["ceiling_upper"]
    assert true["ceiled"] == pytest.approx(true["raw"] / true["ceiling_upper"])
    assert true["convention"] == "r/c"
    model = rdm_from_features(truth, _ids(15))
    expected = [scipy.stats.spearmanr(model.get_vectors()[0], v).statistic for v in target.get_vectors()]
    np.testing.assert_allclose(list(true["per_subject"].values()), expected, atol=1e-12)
    assert true["error"] == pytest.approx(np.std(expected, ddof=1) / 2)
    assert abs(noise["raw"]) < 0.25 < true["raw"]
    selection = records[0].layer_selection
    assert selection["n_selection"] + selection["n_heldout"] == 15 and selection["selection_raw"] > 0.25
    # the committed layer (best on the selection stimuli) keeps its RDM and the target's mean RDM, in the
    # benchmark's stimulus order, for the report's heatmaps; the other layer keeps none
    kept = true["rdms"]
    assert "rdms" not in noise and kept["layer"] == "true" and kept["n_stimuli"] == 15
    np.testing.assert_allclose(kept["model"], model.get_matrices()[0], atol=5e-5)
    np.testing.assert_allclose(kept["neural"], target.get_matrices().mean(axis=0), atol=5e-5)


def test_paired_rsa_comparison_on_the_heldout_stimuli():
    from brainalign.benchmarks.rsa import compare_rsa

    truth, target = _subjects(noise=0.7, n_stimuli=40)
    ids = _ids(40)
    benchmark = _benchmark(target, ids)
    true, noise = _activations(truth, ids), _activations(np.random.default_rng(8).standard_normal((40, 40)), ids)
    out = compare_rsa(benchmark, {"true": true}, {"noise": noise}, n_boot=300, seed=1)
    a, b = out["models"]["A"], out["models"]["B"]
    heldout_raw = {r.layer: r.layer_selection["heldout_raw"] for r in score_rsa(benchmark, {"true": true, "noise": noise})}
    assert a["raw"] == pytest.approx(heldout_raw["true"], abs=1e-12) and b["raw"] == pytest.approx(heldout_raw["noise"], abs=1e-12)
    assert out["difference"]["difference"] == pytest.approx(a["raw"] - b["raw"])
    assert out["difference"]["ci"][0] > 0 and out["difference"]["p_value"] < 0.01
    assert list(out["difference"]["over"]) == ["stimuli"] and out["n_stimuli"] == 20
    both = compare_rsa(benchmark, {"noise": noise, "true": true}, {"true": true}, n_boot=100, seed=1)
    assert both["models"]["A"]["layer"] == "true"     # committed on the selection stimuli
    assert both["difference"]["difference"] == 0 and both["difference"]["p_value"] == 1.0
    with pytest.raises(InputError, match="bootstrap replicates"):
        compare_rsa(benchmark, {"true": true}, {"noise": noise}, n_boot=0)


def test_rsa_score_refuses_activations_missing_stimuli():
    truth, target = _subjects()
    with pytest.raises(DataError, match="lack 1 of the benchmark's 15"):
        score_rsa(_benchmark(target, _ids(15)), {"l": _activations(truth[:14], _ids(14))})


def test_single_subject_target_has_nan_ceiling_with_a_note():
    truth, target = _subjects(n_subjects=1)
    score = score_rsa(_benchmark(target, _ids(15)), {"l": _activations(truth, _ids(15))})[0].score
    assert np.isnan(score["ceiling"]) and np.isnan(score["ceiled"]) and np.isnan(score["error"])
    assert any("single-subject" in note for note in score["notes"])


def test_sim_rsa_oracle_own_area_lies_within_the_ceiling_and_wins():
    """Positive control: the generator's noise-free VISp rates score between the animals' lower and upper
    noise ceiling on sim-rsa.VISp, above every other area's rates."""
    from brainalign.activations import extract_activations
    from brainalign.benchmarks.registry import load_benchmark
    from brainalign.models import load_model

    benchmark = load_benchmark("sim-rsa.VISp")
    activations = extract_activations(load_model("sim_oracle"), benchmark.load_stimuli(), ["VISp", "V1", "VISam"],
                                      progress=False)
    scores = {r.layer: r.score for r in benchmark.score(activations)}
    own = scores["VISp"]
    assert own["n_subjects"] == 3 and own["n_stimuli"] == 264
    assert own["ceiling_lower"] < own["raw"] < own["ceiling_upper"]
    assert own["ceiled"] > 0.85
    assert own["raw"] > max(scores["V1"]["raw"], scores["VISam"]["raw"]) + 0.3


def test_cka_comparison_of_euclidean_rdms_equals_linear_cka_of_features(features):
    """-1/2 H D H of a squared-Euclidean RDM is the centred Gram of the features, so the RDM route and the
    feature route of linear CKA agree, whatever the row order of the second RDM."""
    from brainalign.metrics.cka import linear_cka

    other = np.tanh(features @ np.random.default_rng(6).standard_normal((30, 20)))
    order = np.random.default_rng(7).permutation(12)
    a = rdm_from_features(features, _ids(12), method="euclidean")
    b = rdm_from_features(other[order], _ids(12)[order], method="euclidean")
    assert compare_rdms(a, b, method="cka")[0] == pytest.approx(linear_cka(features, other), rel=1e-10)


def test_cka_noise_ceiling_is_leave_one_out_of_mean_rdm():
    from brainalign.metrics.cka import cka_from_grams, gram_from_squared_distances

    _, target = _subjects()
    m = target.get_matrices()
    cka = lambda d1, d2: cka_from_grams(gram_from_squared_distances(d1), gram_from_squared_distances(d2))  # noqa
    upper = np.mean([cka(m.mean(0), m[s]) for s in range(4)])
    lower = np.mean([cka(np.delete(m, s, 0).mean(0), m[s]) for s in range(4)])
    assert noise_ceiling(target, method="cka") == pytest.approx((lower, upper), abs=1e-12)
    _, same = _subjects(noise=0.0)
    assert noise_ceiling(same, method="cka") == pytest.approx((1.0, 1.0), abs=1e-12)


def test_rdms_from_assembly_one_rdm_per_animal():
    """Per-animal RDMs from a (presentation x neuroid) assembly in shuffled presentation order: correlation
    RDMs of the repetition means, and crossnobis RDMs equal to the product of the two repetitions' differences."""
    from brainalign.benchmarks.rsa import rdms_from_assembly

    rng = np.random.default_rng(10)
    n_stim, n_rep, n_neur = 6, 2, 8
    trials = rng.standard_normal((n_rep, n_stim, n_neur))
    order = rng.permutation(n_rep * n_stim)
    assembly = xr.DataArray(
        trials.reshape(-1, n_neur)[order], dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", np.tile(_ids(n_stim), n_rep)[order]),
                "repetition": ("presentation", np.repeat(np.arange(n_rep), n_stim)[order]),
                "neuroid_id": ("neuroid", [f"n{i}" for i in range(n_neur)]),
                "animal": ("neuroid", ["a"] * 5 + ["b"] * 3)})
    correlation = rdms_from_assembly(assembly, method="correlation")
    crossnobis = rdms_from_assembly(assembly, method="crossnobis")
    assert correlation.rdm_descriptors["subject"] == ["a", "b"] == crossnobis.rdm_descriptors["subject"]
    for k, units in enumerate((slice(0, 5), slice(5, 8))):
        part = trials[:, :, units]
        np.testing.assert_allclose(correlation.get_matrices()[k], 1 - np.corrcoef(part.mean(axis=0)), atol=1e-12)
        d = part[:, :, None, :] - part[:, None, :, :]
        expected = np.einsum("ijk,ijk->ij", d[0], d[1]) / part.shape[-1]
        np.testing.assert_allclose(select_stimuli(crossnobis, _ids(n_stim)).get_matrices()[k], expected, atol=1e-12)


def test_stimulus_bootstrap_ci_brackets_raw_and_is_one_for_a_perfect_model():
    truth, target = _subjects(noise=1.5)
    record = score_rsa(_benchmark(target, _ids(15)), {"true": _activations(truth, _ids(15))})[0].score
    assert record["ci"][0] < record["raw"] < record["ci"][1] and record["ci_level"] == 0.95
    again = score_rsa(_benchmark(target, _ids(15)), {"true": _activations(truth, _ids(15))})[0].score
    assert again["ci"] == record["ci"]                                   # seeded
    model = rdm_from_features(truth, _ids(15))
    exact = rdms_from_matrices(np.repeat(model.get_matrices(), 2, axis=0), _ids(15), subjects=["a", "b"])
    from brainalign.metrics.rsa import bootstrap_comparisons
    for method in ("spearman", "corr", "cosine"):  # (tau-a of a vector with itself is < 1 once resampling ties it)
        np.testing.assert_allclose(bootstrap_comparisons(model, exact, method=method, n_bootstrap=20), 1.0,
                                   atol=1e-12)


@pytest.mark.parametrize("method", ["spearman", "corr", "cosine", "tau-a"])
def test_bootstrap_samples_equal_rsatoolbox_on_the_resampled_pairs(method):
    """The counting shortcut for ranks (and the pair bookkeeping) gives rsatoolbox's value on every sample."""
    from rsatoolbox.rdm import compare

    from brainalign.metrics.rsa import bootstrap_comparisons

    rng = np.random.default_rng(11)
    n = 10
    model = rdms_from_matrices(squareform(rng.integers(0, 6, 45).astype(float)), _ids(n))   # many ties
    target = rdms_from_matrices(np.stack([squareform(rng.integers(0, 4, 45).astype(float)) for _ in range(3)]),
                                _ids(n), subjects=["a", "b", "c"])
    got = bootstrap_comparisons(model, target, method=method, n_bootstrap=15, seed=3)
    draw = np.random.default_rng(3)
    for b in range(15):
        idx = np.sort(draw.integers(0, n, n))
        m, t = model.get_matrices()[0][np.ix_(idx, idx)], target.get_matrices()[:, idx][:, :, idx]
        i, j = np.triu_indices(n, 1)
        keep = idx[i] != idx[j]
        expected = compare(m[i[keep], j[keep]][None], t[:, i[keep], j[keep]], method=method).reshape(-1)
        np.testing.assert_allclose(got[b], expected, atol=1e-12)
