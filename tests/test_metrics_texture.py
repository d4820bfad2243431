"""Texture-selectivity properties, binned-KS similarity, and the sim-texture.V2 benchmark end to end."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from brainalign.errors import DataError
from brainalign.metrics.texture import (
    PROPERTY_BINS,
    _histograms,
    distribution_similarity,
    ks_similarity,
    rectify_baseline,
    sparseness,
    texture_modulation_index,
    texture_properties,
    variance_ratio,
)


def test_modulation_index_known_values():
    texture = np.array([[[4.0, 2.0, 0.0, 3.0]], [[2.0, 2.0, 0.0, 0.0]]])   # 2 families x 1 sample x 4 units
    noise = np.array([[[1.0, 2.0, 0.0, 0.0]], [[2.0, 2.0, 0.0, 0.0]]])
    mi = texture_modulation_index(texture, noise)
    # unit 0: (4-1)/(4+1) = 0.6 and 0 -> 0.3; unit 1: no modulation; unit 2: silent -> NaN;
    # unit 3: only family 0 defined (noise silent) -> 1
    np.testing.assert_allclose(mi[[0, 1, 3]], [0.3, 0.0, 1.0])
    assert np.isnan(mi[2])


def test_baseline_is_subtracted_and_rectified():
    np.testing.assert_allclose(rectify_baseline(np.array([[1.0, 5.0], [3.0, 0.0]]), np.array([2.0, 1.0])),
                               [[0.0, 4.0], [1.0, 0.0]])


def test_sparseness_limits_and_formula():
    rng = np.random.default_rng(0)
    r = rng.gamma(1.0, size=(30, 3))
    n = 30
    expected = (1 - (r.sum(0) / n) ** 2 / ((r ** 2).sum(0) / n)) / (1 - 1 / n)
    np.testing.assert_allclose(sparseness(r), expected)
    one_hot, flat = np.eye(30)[:, :1], np.ones((30, 1))
    assert sparseness(one_hot)[0] == pytest.approx(1.0) and sparseness(flat)[0] == pytest.approx(0.0)
    assert np.isnan(sparseness(np.zeros((30, 1)))[0])


def test_variance_ratio_components_match_one_way_anova():
    """The F statistic implied by the variance components equals scipy's one-way ANOVA across families."""
    rng = np.random.default_rng(1)
    a, b = 7, 6
    texture = rng.normal(size=(a, 1, 1)) * 2 + rng.normal(size=(a, b, 1))
    ratio = variance_ratio(texture)[0]
    f = scipy.stats.f_oneway(*texture[:, :, 0]).statistic
    # with s = within-family mean square, family = (F s - s) / b: ratio = (fam/tot + .02) / (s/tot + .02)
    s = 1.0
    fam = (f * s - s) / b
    tot = s + fam
    assert ratio == pytest.approx((fam / tot + 0.02) / (s / tot + 0.02), rel=1e-10)


def test_variance_ratio_extremes():
    families_only = np.repeat(np.arange(5.0)[:, None, None], 6, axis=1)
    assert variance_ratio(families_only)[0] == pytest.approx(1.02 / 0.02)
    rng = np.random.default_rng(2)
    samples_only = rng.normal(size=(1, 6, 1)).repeat(5, axis=0)  # the same samples in every family
    assert variance_ratio(samples_only)[0] == pytest.approx((-1 / 5 + 0.02) / (6 / 5 + 0.02))


def test_ks_similarity_extremes():
    q = np.array([0.25, 0.5, 0.25])
    assert ks_similarity(q, q) == pytest.approx(1.0)
    # KS_max: the largest gap any histogram can have from q is all mass in the first or last bin
    assert ks_similarity(np.array([1.0, 0.0, 0.0]), q) == pytest.approx(0.0)
    assert ks_similarity(np.array([0.0, 0.0, 1.0]), q) == pytest.approx(0.0)
    assert 0 < ks_similarity(np.array([0.5, 0.5, 0.0]), q) < 1


def test_histograms_equal_numpy():
    bins = PROPERTY_BINS["texture_modulation_index"]
    samples = np.clip(np.random.default_rng(3).normal(0, 0.6, size=(4, 50)), -1, 1)
    samples[0, :3] = [-1.0, 1.0, bins[5]]  # both range ends and an inner edge
    expected = np.stack([np.histogram(s, bins=bins)[0] / 50 for s in samples])
    np.testing.assert_allclose(_histograms(samples, bins), expected)


def test_distribution_similarity_of_data_with_itself_is_its_ceiling():
    rng = np.random.default_rng(4)
    data = rng.normal(0.1, 0.3, 80)
    bins = PROPERTY_BINS["texture_modulation_index"]
    same = distribution_similarity(data, data, bins, n_bootstrap=200, seed=0)
    shifted = distribution_similarity(data + 0.8, data, bins, n_bootstrap=200, seed=0)
    assert 0.8 < same.center < 1.0 and shifted.center < 0.3
    assert distribution_similarity(data, data, bins, n_bootstrap=200, seed=0).center == same.center  # seeded
    with pytest.raises(DataError, match="no model unit"):
        distribution_similarity(np.full(5, np.nan), data, bins)


def test_properties_refuse_nan():
    with pytest.raises(DataError, match="NaN"):
        texture_properties(np.full((2, 2, 1), np.nan), np.ones((2, 2, 1)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_sim_texture_benchmark_neurons_as_model_reach_the_ceiling():
    """Activations equal to the recorded neurons (blank = their baseline) give raw == ceiling, ceiled == 1;
    shuffling the stimulus labels of those activations lowers the score."""
    from brainalign.benchmarks.registry import load_benchmark
    from brainalign.benchmarks.texture import BLANK_ID, score_texture

    benchmark = load_benchmark("sim-texture.V2")
    responses, baseline = benchmark.load_responses()
    ids = np.r_[responses.index.to_numpy(dtype=str), [BLANK_ID]]
    values = np.r_[responses.to_numpy(), baseline[None]]
    shuffled = values.copy()
    shuffled[:-1] = values[:-1][np.random.default_rng(0).permutation(len(values) - 1)]
    make = lambda v: xr.DataArray(v, dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", ids)})  # noqa
    same, scrambled = score_texture(benchmark, {"neurons": make(values), "scrambled": make(shuffled)})
    assert same.score["raw"] == pytest.approx(same.score["ceiling"], abs=1e-12)
    assert same.score["ceiled"] == pytest.approx(1.0, abs=1e-12)
    assert same.layer_selection["heldout_ceiled"] == pytest.approx(1.0, abs=1e-12)
    assert scrambled.score["ceiled"] < 0.9
    assert set(same.score["per_property"]) == set(PROPERTY_BINS)


def test_streamed_unit_sample_scores_like_sampling_in_memory():
    """Layers streamed past the memory budget keep only the benchmark's seeded unit sample: same scores."""
    import dataclasses

    from brainalign.activations.features import sampled_features
    from brainalign.benchmarks.registry import load_benchmark
    from brainalign.models import load_model
    from brainalign.models.options import ExtractionOptions

    benchmark = load_benchmark("sim-texture.V2")
    benchmark = dataclasses.replace(benchmark, protocol=dataclasses.replace(benchmark.protocol, max_units=200,
                                                                            n_bootstrap=100))
    model, stimuli = load_model("alexnet_bn64"), benchmark.load_stimuli()
    options = ExtractionOptions(batch_size=16, progress=False)
    whole = sampled_features(model, stimuli, ["features.3"], benchmark.unit_sample, options, stream=False)
    streamed = sampled_features(model, stimuli, ["features.3"], benchmark.unit_sample, options, stream=True)
    assert whole["features.3"].shape[1] == 3136 and streamed["features.3"].shape[1] == 200
    assert streamed["features.3"].attrs["units_sampled"] and streamed["features.3"].attrs["n_units"] == 3136
    [a], [b] = benchmark.score(whole), benchmark.score(streamed)
    for key in ("raw", "ceiling", "ceiled"):
        assert b.score[key] == pytest.approx(a.score[key], abs=1e-12)
    assert b.score["per_property"] == a.score["per_property"]
    assert b.score["n_units"] == 3136 and b.score["n_units_used"] == 200
    assert "200 of 3136 units sampled (seed 0)" in b.score["notes"] and b.score["notes"] == a.score["notes"]
