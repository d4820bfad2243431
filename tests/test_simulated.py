"""The embedded simulated benchmark: procedural stimuli, SimulatedCortex and noisy assemblies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from brainalign.metrics.ceiling import spearman_brown_split_half
from brainalign.metrics.conventions import ceiled_score
from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.splits import brainscore_splits
from brainalign.models.registry import list_zoo, zoo_factory
from brainalign.models.zoo.simulated_cortex import AREAS, MOUSE_HIERARCHY, SimulatedCortex
from brainalign.neural.assembly import validate_assembly
from brainalign.neural.simulated import PRIMATE_AREAS, simulate_assemblies, simulated_rates
from brainalign.stimuli.procedural import grating, phase_scramble, simulated_stimuli

METADATA_COLUMNS = ["stimulus_id", "kind", "family", "sample", "texture_type", "orientation_deg", "spatial_frequency"]


@pytest.fixture(scope="module")
def stimuli():
    return simulated_stimuli(seed=0)


@pytest.fixture(scope="module")
def rates(stimuli):
    return simulated_rates(stimuli[0], model_seed=0)


@pytest.fixture(scope="module")
def assemblies(stimuli):
    return simulate_assemblies(*stimuli, seed=0, model_seed=0)


@pytest.fixture(scope="module")
def model():
    return SimulatedCortex(seed=0).eval()


def _blank_rates(model: SimulatedCortex) -> dict[str, np.ndarray]:
    """Each area's response to a uniform mid-grey image (the spontaneous baseline), (n_neurons,)."""
    with torch.no_grad():
        return {a: r[0].double().numpy() for a, r in model.area_rates(torch.full((1, 1, 64, 64), 0.5)).items()}


# ---------------------------------------------------------------------------------------------
# stimuli


def test_stimuli_shapes_and_metadata(stimuli):
    images, metadata = stimuli
    assert images.dtype == np.float32 and images.shape[1:] == (64, 64)
    assert 250 <= len(images) <= 300 and len(metadata) == len(images)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert list(metadata.columns) == METADATA_COLUMNS
    assert metadata["stimulus_id"].is_unique
    assert set(metadata["kind"]) == {"texture", "noise", "grating", "natural"}
    pairs = metadata[metadata["kind"].isin(["texture", "noise"])]
    assert (pairs["texture_type"] == pairs["kind"]).all()
    counts = pairs.groupby(["family", "kind"]).size().unstack()
    assert 12 <= len(counts) <= 15 and (counts["texture"] == counts["noise"]).all()
    others = metadata[~metadata["kind"].isin(["texture", "noise"])]
    assert (others["family"] == others["kind"]).all() and (others["texture_type"] == others["kind"]).all()
    is_grating = metadata["kind"] == "grating"
    assert metadata.loc[is_grating, ["orientation_deg", "spatial_frequency"]].notna().all().all()
    assert metadata.loc[~is_grating, ["orientation_deg", "spatial_frequency"]].isna().all().all()


def test_stimuli_are_deterministic(stimuli):
    images, metadata = simulated_stimuli(seed=0)
    np.testing.assert_array_equal(images, stimuli[0])
    pd.testing.assert_frame_equal(metadata, stimuli[1])
    small0, _ = simulated_stimuli(seed=0, size=32)
    small1, _ = simulated_stimuli(seed=1, size=32)
    assert small0.shape == small1.shape == (len(images), 32, 32)
    assert not np.array_equal(small0, small1)


def test_noise_is_spectrally_matched_to_its_texture(stimuli):
    images, metadata = stimuli
    ids = list(metadata["stimulus_id"])
    textures = metadata.index[metadata["kind"] == "texture"]
    partners = [ids.index(ids[i].replace("tex-", "noise-")) for i in textures]
    texture, noise = images[textures].astype(np.float64), images[partners].astype(np.float64)
    # Fourier amplitudes per pixel (the DC term is the mean grey level)
    np.testing.assert_allclose(np.abs(np.fft.fft2(noise)) / 64 ** 2, np.abs(np.fft.fft2(texture)) / 64 ** 2, atol=1e-4)
    np.testing.assert_allclose(noise.mean(axis=(1, 2)), texture.mean(axis=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(noise.std(axis=(1, 2)), texture.std(axis=(1, 2)), atol=1e-5)
    assert not np.allclose(noise, texture, atol=0.05)


def test_phase_scramble_keeps_amplitude_and_mean():
    rng = np.random.default_rng(3)
    image = rng.random((32, 32))
    scrambled = phase_scramble(image, rng)
    assert scrambled.dtype == np.float64 and scrambled.shape == image.shape
    np.testing.assert_allclose(np.abs(np.fft.fft2(scrambled)), np.abs(np.fft.fft2(image)), atol=1e-9)
    assert scrambled.mean() == pytest.approx(image.mean())
    assert np.corrcoef(scrambled.ravel(), image.ravel())[0, 1] < 0.5


def test_grating_orientation_and_range():
    vertical = grating(64, 0.0, 8.0, 0.0)
    horizontal = grating(64, 90.0, 8.0, 0.0)
    assert vertical.min() >= -1 and vertical.max() <= 1
    np.testing.assert_allclose(vertical, vertical[:1].repeat(64, axis=0))  # stripes along the columns
    np.testing.assert_allclose(horizontal, horizontal[:, :1].repeat(64, axis=1))
    spectrum = np.abs(np.fft.fft2(vertical))
    assert np.unravel_index(spectrum.argmax(), spectrum.shape) in [(0, 8), (0, 56)]


# ---------------------------------------------------------------------------------------------
# SimulatedCortex


def test_forward_hooks_see_each_area_submodule_output(model, stimuli):
    images = torch.from_numpy(stimuli[0][:12])[:, None]
    captured = {}
    handles = [getattr(model, area).register_forward_hook(
        lambda module, inputs, output, area=area: captured.__setitem__(area, output)) for area in AREAS]
    try:
        with torch.no_grad():
            out = model(images)
            rates = model.area_rates(images)
            primate, mouse = model.primate_bank(images), model.mouse_bank(images)
            direct = {"V1": model.V1(primate), "V2": model.V2(primate), "VISp": model.VISp(mouse)}
            levels = model.mouse_levels(mouse)
            direct.update({area: getattr(model, area)(levels) for area in MOUSE_HIERARCHY[1:]})
    finally:
        for handle in handles:
            handle.remove()
    assert list(rates) == list(AREAS)
    torch.testing.assert_close(out, rates["VISpm"])
    for area in AREAS:
        torch.testing.assert_close(captured[area], rates[area])
        torch.testing.assert_close(direct[area], rates[area])
        n_neurons = 80 if area in PRIMATE_AREAS else 50
        assert rates[area].shape == (12, n_neurons) and bool((rates[area] >= 0).all())


def test_cortex_is_deterministic_and_averages_rgb(model, stimuli):
    images = torch.from_numpy(stimuli[0][:4])[:, None]
    same, other = SimulatedCortex(seed=0).eval(), SimulatedCortex(seed=1).eval()
    with torch.no_grad():
        torch.testing.assert_close(same(images), model(images))
        assert not torch.allclose(other(images), model(images))
        torch.testing.assert_close(model(images.repeat(1, 3, 1, 1)), model(images))
    with pytest.raises(ValueError, match="64"):
        model(torch.zeros(1, 1, 32, 32))


def test_sim_oracle_is_registered():
    assert "sim_oracle" in list_zoo()
    entry = zoo_factory("sim_oracle")(seed=0)
    assert isinstance(entry.module, SimulatedCortex) and not entry.module.training
    assert entry.default_layers == AREAS
    rgb = torch.rand(2, 3, 64, 64)
    x = entry.preprocessing(rgb)
    assert x.shape == (2, 1, 64, 64) and float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def _modulation_index(rates: np.ndarray, baseline: np.ndarray, metadata: pd.DataFrame) -> np.ndarray:
    """Per-neuron texture modulation index (METHODS.md): mean over families of
    (R_tex - R_noise) / (R_tex + R_noise), responses baseline-subtracted with negatives set to 0."""
    evoked = np.clip(rates - baseline, 0.0, None)
    indices = []
    for family in sorted(metadata.loc[metadata["kind"] == "texture", "family"].unique()):
        texture = evoked[((metadata["family"] == family) & (metadata["kind"] == "texture")).to_numpy()].mean(axis=0)
        noise = evoked[((metadata["family"] == family) & (metadata["kind"] == "noise")).to_numpy()].mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            indices.append((texture - noise) / (texture + noise))
    return np.nanmean(np.stack(indices), axis=0)


def test_v2_prefers_textures_to_matched_noise_and_v1_does_not(model, stimuli, rates):
    blank = _blank_rates(model)
    v1 = _modulation_index(rates["V1"], blank["V1"], stimuli[1])
    v2 = _modulation_index(rates["V2"], blank["V2"], stimuli[1])
    assert v2.mean() > 0.1
    assert abs(v1.mean()) < 0.05
    assert (v2 > 0).mean() > 0.75


def _receptive_field_sizes(model: SimulatedCortex, step: int = 8, side: int = 4) -> dict[str, np.ndarray]:
    """Per-neuron RF size (px): spatial spread of the evoked response to small bright/dark squares.

    Squares of ``side`` px are flashed on a grid of ``step`` px; the size is the root mean square
    distance (per axis) of the response map from its weighted centre, on the torus.
    """
    positions, probes = [], []
    for row in range(0, 64, step):
        for column in range(0, 64, step):
            positions.append((row + (side - 1) / 2, column + (side - 1) / 2))
            for sign in (1.0, -1.0):
                probe = np.full((64, 64), 0.5, dtype=np.float32)
                probe[row:row + side, column:column + side] += 0.4 * sign
                probes.append(probe)
    positions = np.array(positions)
    with torch.no_grad():
        rates = model.area_rates(torch.from_numpy(np.stack(probes))[:, None])
    blank = _blank_rates(model)
    sizes = {}
    for area, response in rates.items():
        maps = np.clip(response.double().numpy() - blank[area], 0, None).reshape(len(positions), 2, -1).mean(axis=1)
        spread = []
        for weights in maps.T:
            offsets = (positions - positions[weights.argmax()] + 32) % 64 - 32
            offsets -= weights @ offsets / weights.sum()
            spread.append(np.sqrt(weights @ (offsets ** 2).sum(axis=1) / weights.sum() / 2))
        sizes[area] = np.array(spread)
    return sizes


def test_mouse_receptive_fields_grow_along_the_hierarchy(model):
    sizes = _receptive_field_sizes(model)
    medians = [np.median(sizes[area]) for area in MOUSE_HIERARCHY]
    assert np.all(np.diff(medians) > 0), dict(zip(MOUSE_HIERARCHY, np.round(medians, 2)))
    assert np.median(sizes["V2"]) > np.median(sizes["V1"])


def test_area_rates_are_low_dimensional(rates):
    """Each area's tuning is shared: 20 principal components of its noise-free rates hold nearly
    all of every neuron's stimulus-driven variance, and a 25-component PLS fit (the benchmark's
    regression) from the area's own rates on 200 stimuli predicts every neuron on the rest."""
    held_out = np.random.default_rng(0).permutation(len(rates["V1"]))
    train, test = held_out[:200], held_out[200:]
    for area, values in rates.items():
        centred = values - values.mean(axis=0)
        u = np.linalg.svd(centred, full_matrices=False)[0][:, :20]
        residual = centred - u @ (u.T @ centred)
        explained = 1.0 - (residual ** 2).sum(axis=0) / (centred ** 2).sum(axis=0)
        assert explained.min() > 0.98, (area, explained.min())
        splits = [(train, test)]
        result = cross_validated_predictivity(values, values, splits=splits, n_components=25)
        assert np.nanmin(result.per_split_neuroid) > 0.98, (area, np.nanmin(result.per_split_neuroid))


def test_oracle_rates_predict_their_area_up_to_the_ceiling(assemblies, rates, stimuli):
    """The positive control: an area's own noise-free rates, through the benchmark's protocol
    (PLS-25, stratified 90/10 splits, median Pearson r, split-half ceiling), score r^2/c near 1."""
    metadata = stimuli[1]
    for area, assembly in assemblies.items():
        trials = _trials(assembly)  # stimuli in sorted stimulus_id order
        order = np.argsort(metadata["stimulus_id"].to_numpy())
        splits = brainscore_splits(len(order), stratify=metadata["kind"].to_numpy()[order])
        raw = cross_validated_predictivity(rates[area][order], np.nanmean(trials, axis=0), splits=splits).raw
        ceiling = spearman_brown_split_half(trials).ceiling
        assert ceiled_score(raw, ceiling) > 0.9, (area, raw, ceiling)


# ---------------------------------------------------------------------------------------------
# assemblies


def _trials(assembly) -> np.ndarray:
    """(n_repetitions, n_stimuli, n_neuroids) counts, stimuli in sorted stimulus_id order."""
    stimulus_ids, stimulus = np.unique(assembly["stimulus_id"].values, return_inverse=True)
    repetition = assembly["repetition"].values
    trials = np.full((repetition.max() + 1, len(stimulus_ids), assembly.sizes["neuroid"]), np.nan)
    trials[repetition, stimulus] = assembly.values
    return trials


def _split_half_reliability(trials: np.ndarray, rng: np.random.Generator, n_splits: int = 10) -> np.ndarray:
    """Spearman-Brown corrected split-half r per neuroid, mean over random halves of repetitions."""
    n_repetitions = trials.shape[0]
    corrected = []
    for _ in range(n_splits):
        order = rng.permutation(n_repetitions)
        halves = [trials[order[:n_repetitions // 2]].mean(axis=0), trials[order[n_repetitions // 2:]].mean(axis=0)]
        a, b = (h - h.mean(axis=0) for h in halves)
        r = (a * b).sum(axis=0) / np.sqrt((a ** 2).sum(axis=0) * (b ** 2).sum(axis=0))
        corrected.append(2 * r / (1 + r))
    return np.mean(corrected, axis=0)


def test_split_half_reliability_is_useful_but_imperfect(assemblies):
    rng = np.random.default_rng(0)
    for area, assembly in assemblies.items():
        reliability = np.median(_split_half_reliability(_trials(assembly), rng))
        assert 0.5 < reliability < 0.92, (area, reliability)


def test_repetition_average_tracks_noise_free_rates(assemblies, rates, stimuli):
    order = np.argsort(stimuli[1]["stimulus_id"].to_numpy())
    for area, assembly in assemblies.items():
        mean = np.nanmean(_trials(assembly), axis=0)
        np.testing.assert_allclose(mean.mean(), rates[area].mean(), rtol=0.05)
        r = [np.corrcoef(mean[:, n], rates[area][order, n])[0, 1] for n in range(mean.shape[1])]
        assert np.median(r) > 0.7, area


def test_assembly_schema(assemblies, stimuli):
    images, metadata = stimuli
    assert list(assemblies) == list(AREAS)
    for area, assembly in assemblies.items():
        primate = area in PRIMATE_AREAS
        n_repetitions = 20 if primate else 10
        assert assembly.dims == ("presentation", "neuroid") and assembly.dtype == np.float32
        assert assembly.sizes["presentation"] == len(images) * n_repetitions
        assert len(assembly.xindexes) == 0
        for column in METADATA_COLUMNS + ["repetition"]:
            assert assembly[column].dims == ("presentation",)
        for column in ("neuroid_id", "region", "animal"):
            assert assembly[column].dims == ("neuroid",)
        assert assembly["stimulus_id"].dtype.kind == "U" and assembly["repetition"].dtype.kind == "i"
        assert (assembly.values >= 0).all() and np.array_equal(assembly.values, np.round(assembly.values))
        pairs = pd.MultiIndex.from_arrays([assembly["stimulus_id"].values, assembly["repetition"].values])
        assert pairs.is_unique and set(assembly["repetition"].values) == set(range(n_repetitions))
        by_id = metadata.set_index("stimulus_id").loc[assembly["stimulus_id"].values]
        np.testing.assert_array_equal(assembly["family"].values, by_id["family"].to_numpy().astype(str))
        assert pd.Index(assembly["neuroid_id"].values).is_unique
        assert set(assembly["region"].values) == {area}
        assert len(set(assembly["animal"].values)) == (1 if primate else 3)
        assert assembly.attrs == {"identifier": f"sim.{area}", "seed": 0, "model_seed": 0,
                                  "species": "macaque" if primate else "mouse", "unit": "spike count"}
        validate_assembly(assembly)


def test_assemblies_are_deterministic(stimuli):
    images, metadata = stimuli[0][:24], stimuli[1].iloc[:24]
    kwargs = dict(n_repetitions_primate=4, n_repetitions_mouse=4, n_animals_mouse=2)
    first = simulate_assemblies(images, metadata, seed=5, **kwargs)
    again = simulate_assemblies(images, metadata, seed=5, **kwargs)
    other = simulate_assemblies(images, metadata, seed=6, **kwargs)
    for area in AREAS:
        np.testing.assert_array_equal(first[area].values, again[area].values)
        np.testing.assert_array_equal(first[area]["stimulus_id"].values, again[area]["stimulus_id"].values)
        assert not np.array_equal(first[area].values, other[area].values)
    assert sorted(set(first["VISam"]["animal"].values)) == ["mouse1", "mouse2"]
