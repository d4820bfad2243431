"""The ``brainscore`` protocol end to end against a reference built from scikit-learn and scipy,
and the degenerate inputs of the scoring pipeline."""

import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression as SklearnPLS
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from brainalign.benchmarks.predictivity import NeuralBenchmark
from brainalign.benchmarks.options import ScoreOptions
from brainalign.benchmarks.scoring import score_layers
from brainalign.errors import DataError, InputError


def _population(n_stimuli=60, n_reps=4, n_neuroids=9, n_features=40, seed=0, missing=0):
    """Shuffled presentations of (stimulus, repetition) with responses driven by a few features."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"img{rng.integers(1e6):06d}-{i}" for i in range(n_stimuli)])
    features = rng.standard_normal((n_stimuli, n_features))
    rates = features[:, :4] @ rng.standard_normal((4, n_neuroids))
    trials = rates + 1.5 * rng.standard_normal((n_reps, n_stimuli, n_neuroids))
    stim, rep = np.meshgrid(np.arange(n_stimuli), np.arange(n_reps))
    order = rng.permutation(stim.size)
    stim, rep = stim.ravel()[order], rep.ravel()[order]
    keep = np.ones(len(stim), bool)
    keep[rng.choice(len(stim), missing, replace=False)] = False  # NaN-padded repeats: presentations absent
    stim, rep = stim[keep], rep[keep]
    labels = np.where(np.arange(n_stimuli) % 2 == 0, "texture", "noise")
    assembly = xr.DataArray(
        trials[rep, stim], dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", ids[stim]), "repetition": ("presentation", rep),
                "kind": ("presentation", labels[stim]),
                "neuroid_id": ("neuroid", [f"n{j}" for j in range(n_neuroids)]),
                "region": ("neuroid", ["V4"] * n_neuroids)})
    activations = xr.DataArray(features.astype(np.float32), dims=("stimulus", "unit"),
                               coords={"stimulus_id": ("stimulus", ids)})
    return assembly, activations


def _benchmark(assembly, stratify=None):
    return NeuralBenchmark(identifier="test.V4", version="1", region="V4", species="macaque", description="",
                           load_assembly=lambda: assembly, load_stimuli=lambda: None, stratify_coord=stratify)


def _brainscore_reference(assembly, activations, *, stratify=None, n_components=10):
    """Brain-Score's definition: average repetitions (groups sorted by stimulus_id), 10 splits
    over that order, sklearn PLS per split, scipy pearsonr per neuroid, median, mean, sem; ceiling
    over sorted unique repetitions with ShuffleSplit(train 0.5), nan-averaged halves, pearsonr, SB."""
    averaged = assembly.groupby("stimulus_id").mean("presentation", skipna=True)
    ids = averaged["stimulus_id"].values
    Y = averaged.transpose("stimulus_id", "neuroid").values
    X = activations.sel(stimulus=activations["stimulus_id"].to_index().get_indexer(ids)).values.astype(np.float64)
    kwargs = dict(n_splits=10, train_size=0.9, test_size=None, random_state=1)
    if stratify is None:
        splits = ShuffleSplit(**kwargs).split(np.zeros(len(ids)))
    else:
        labels = assembly[stratify].to_series().groupby(assembly["stimulus_id"].values).first()[ids].values
        splits = StratifiedShuffleSplit(**kwargs).split(np.zeros(len(ids)), labels)
    per_split = []
    for train, test in splits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prediction = SklearnPLS(n_components, scale=False).fit(X[train], Y[train]).predict(X[test])
        per_split.append(np.median([pearsonr(prediction[:, j], Y[test, j])[0] for j in range(Y.shape[1])]))
    raw, error = np.mean(per_split), np.std(per_split) / np.sqrt(10)

    reps = np.unique(assembly["repetition"].values)
    ceilings = []
    for first, second in ShuffleSplit(10, train_size=0.5, test_size=None, random_state=1).split(reps):
        halves = []
        for part in (first, second):
            chosen = assembly.isel(presentation=np.isin(assembly["repetition"].values, reps[part]))
            halves.append(chosen.groupby("stimulus_id").mean("presentation", skipna=True).reindex(stimulus_id=ids)
                          .transpose("stimulus_id", "neuroid").values)
        both = np.isfinite(halves[0]) & np.isfinite(halves[1])  # a stimulus absent from a half: left out
        r = [pearsonr(halves[0][both[:, j], j], halves[1][both[:, j], j])[0] for j in range(Y.shape[1])]
        ceilings.append(np.median([2 * v / (1 + v) for v in r]))
    return raw, error, np.mean(ceilings)


@pytest.mark.parametrize("stratify", [None, "kind"])
def test_brainscore_protocol_equals_reference(stratify):
    assembly, activations = _population(seed=1 if stratify else 0)
    raw, error, ceiling = _brainscore_reference(assembly, activations, stratify=stratify)
    benchmark = _benchmark(assembly, stratify)
    object.__setattr__(benchmark.protocol, "n_components", 10)  # the frozen default is 25
    [score] = score_layers(benchmark, {"layer": activations}, options=ScoreOptions(protocol="brainscore", n_boot=0))
    assert score.raw == pytest.approx(raw, abs=1e-4)
    assert score.error == pytest.approx(error, abs=1e-4)
    assert score.ceiling == pytest.approx(ceiling, abs=1e-4)
    assert np.isnan(score.heldout_raw) and score.n_heldout == 0  # brainscore: no selection split


def test_ridge_metric_and_bootstrap_on_the_pipeline():
    assembly, activations = _population(seed=2)
    options = ScoreOptions(protocol="brainalign", regression="ridge", n_boot=200)
    [score] = score_layers(_benchmark(assembly), {"layer": activations}, options=options)
    low, high = score.ci["raw"]
    assert low < score.raw < high and high - low < 0.5
    assert score.ci["ceiling"][0] < score.ceiling < score.ci["ceiling"][1]
    assert score.heldout_ci["raw"][0] < score.heldout_raw < score.heldout_ci["raw"][1]
    assert score.details["ridge_alpha_median"] > 0


def test_single_repetition_gives_nan_ceiling_with_reason():
    assembly, activations = _population(n_reps=1, seed=3)
    [score] = score_layers(_benchmark(assembly), {"layer": activations}, options=ScoreOptions(n_boot=0))
    assert np.isfinite(score.raw)
    assert np.isnan(score.ceiling) and np.isnan(score.ceiled)
    assert "1 repetition" in score.ceiling_note


def test_constant_neuroid_is_named_and_left_out():
    assembly, activations = _population(seed=4)
    assembly = assembly.copy()
    assembly.values[:, 2] = 3.0
    [score] = score_layers(_benchmark(assembly), {"layer": activations},
                           options=ScoreOptions(protocol="brainscore", n_boot=0))
    assert any("1 constant neuroid" in note and "[2]" in note for note in score.notes)
    [without] = score_layers(_benchmark(assembly.isel(neuroid=[0, 1, 3, 4, 5, 6, 7, 8])), {"layer": activations},
                             options=ScoreOptions(protocol="brainscore", n_boot=0))
    assert score.raw == pytest.approx(without.raw, abs=1e-12)


def test_missing_repeats_nan_padded_are_averaged_out():
    assembly, activations = _population(seed=5, missing=40)
    raw, _, ceiling = _brainscore_reference(assembly, activations)
    benchmark = _benchmark(assembly)
    object.__setattr__(benchmark.protocol, "n_components", 10)
    [score] = score_layers(benchmark, {"layer": activations}, options=ScoreOptions(protocol="brainscore", n_boot=0))
    assert score.raw == pytest.approx(raw, abs=1e-4)
    # where a half lacks a stimulus that stimulus is left out of the correlation (Brain-Score gives NaN)
    assert score.ceiling == pytest.approx(ceiling, abs=1e-4)


def test_too_few_stimuli_and_bad_options_are_clear_errors():
    assembly, activations = _population(n_stimuli=12, seed=6)
    with pytest.raises(DataError, match="test stimuli"):
        score_layers(_benchmark(assembly), {"layer": activations}, options=ScoreOptions(n_boot=0))
    with pytest.raises(InputError, match="protocol"):
        ScoreOptions(protocol="bogus")
    with pytest.raises(InputError, match="PLS only"):
        ScoreOptions(protocol="nayebi2023", regression="ridge")
    with pytest.raises(InputError, match="resample units only"):
        ScoreOptions(protocol="nayebi2023", bootstrap_over=("stimuli",))


def _nayebi_population(seed=7):
    """(benchmark, true features, noise features, assembly, rep) for 60 stimuli x 8 trials x 18 units of 3 animals."""
    from brainalign.benchmarks.protocols import NayebiProtocol

    rng = np.random.default_rng(seed)
    n_stimuli, n_reps = 60, 8
    latent = rng.standard_normal((n_stimuli, 3))
    rates = latent @ rng.standard_normal((3, 18))
    trials = rates + 1.0 * rng.standard_normal((n_reps, n_stimuli, 18))
    stim, rep = np.meshgrid(np.arange(n_stimuli), np.arange(n_reps))
    stim, rep = stim.ravel(), rep.ravel()
    ids = np.array([f"s{i:03d}" for i in range(n_stimuli)])
    assembly = xr.DataArray(trials[rep, stim], dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", ids[stim]), "repetition": ("presentation", rep),
                                    "neuroid_id": ("neuroid", [f"n{j}" for j in range(18)]),
                                    "animal": ("neuroid", np.repeat(["a", "b", "c"], 6))})
    benchmark = NeuralBenchmark(identifier="test.VISp", version="1", region="VISp", species="mouse", description="",
                                load_assembly=lambda: assembly, load_stimuli=lambda: None,
                                protocol=NayebiProtocol(n_components=3, n_splits=2, n_halves=4,
                                                        min_unit_percentile=0))
    features = xr.DataArray(latent, dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", ids)})
    noise = xr.DataArray(rng.standard_normal((n_stimuli, 3)), dims=("stimulus", "unit"),
                         coords={"stimulus_id": ("stimulus", ids)})
    return benchmark, features, noise, assembly, rep


def test_nayebi_protocol_through_the_pipeline_with_animals():
    benchmark, features, noise, assembly, rep = _nayebi_population()
    truth, junk = score_layers(benchmark, {"truth": features, "junk": noise},
                               options=ScoreOptions(protocol="nayebi2023", n_boot=100))
    assert truth.raw == pytest.approx(1.0, abs=0.1) and junk.raw < 0.5
    assert truth.ceiling == pytest.approx(1.0, abs=0.1) and truth.details["ceiling_animals"] == ["a", "b", "c"]
    assert truth.ci["over"] == ["neuroids"] and truth.ci["raw"][0] <= truth.raw <= truth.ci["raw"][1]
    single = assembly.isel(presentation=rep == 0)
    benchmark_single = NeuralBenchmark(identifier="t", version="1", region="VISp", species="mouse", description="",
                                       load_assembly=lambda: single, load_stimuli=lambda: None)
    with pytest.raises(DataError, match="single-trial"):
        score_layers(benchmark_single, {"truth": features}, options=ScoreOptions(protocol="nayebi2023", n_boot=0))


def test_nayebi_paired_comparison_over_units():
    from brainalign.benchmarks.compare import compare_layers

    benchmark, features, noise, _, _ = _nayebi_population()
    options = ScoreOptions(protocol="nayebi2023", n_boot=500)
    out = compare_layers(benchmark, {"truth": features}, {"junk": noise}, options=options)
    a, b = out["models"]["A"], out["models"]["B"]
    truth, junk = score_layers(benchmark, {"truth": features, "junk": noise}, options=ScoreOptions(
        protocol="nayebi2023", n_boot=0))
    assert a["raw"] == pytest.approx(truth.heldout_raw, abs=1e-12) and b["raw"] == pytest.approx(junk.heldout_raw, abs=1e-12)
    assert out["difference"]["difference"] == pytest.approx(a["raw"] - b["raw"])
    assert out["difference"]["ci"][0] > 0 and out["difference"]["p_value"] < 0.01
    assert list(out["difference"]["over"]) == ["neuroids"] and out["n_units"] == 18 and out["stimuli"] == "held-out"
    assert a["ceiled"] == pytest.approx(a["raw"] ** 2 / out["ceiling"])
    both = compare_layers(benchmark, {"truth": features, "junk": noise}, {"truth": features}, options=options)
    assert both["models"]["A"]["layer"] == "truth"     # committed on the selection stimuli
    assert both["difference"]["difference"] == 0 and both["difference"]["p_value"] == 1.0


def test_nan_responses_and_nan_features_are_clear_errors():
    assembly, activations = _population(seed=8)
    assembly = assembly.copy()
    first = assembly["stimulus_id"].values[0]
    assembly.values[assembly["stimulus_id"].values == first, 0] = np.nan  # never recorded for neuroid 0
    with pytest.raises(DataError, match="NaN"):
        score_layers(_benchmark(assembly), {"layer": activations}, options=ScoreOptions(n_boot=0))
    _, activations = _population(seed=8)
    clean, _ = _population(seed=8)
    activations = activations.copy()
    activations.values[3, 1] = np.nan
    with pytest.raises(DataError, match="activations of layer 'layer' contain NaN"):
        score_layers(_benchmark(clean), {"layer": activations}, options=ScoreOptions(n_boot=0))
