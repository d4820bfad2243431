"""Image conditions and parametric tasks: transforms with known effects, and bad levels."""

import numpy as np
import pytest

from brainalign.errors import DataError, InputError
from brainalign.psychometrics import humans
from brainalign.psychometrics.conditions import CONDITIONS, get_condition, grayscale
from brainalign.psychometrics.tasks import TASKS, stimuli_per_level, task_stimuli


@pytest.fixture(scope="module")
def images():
    """Four smooth, low-contrast colour images (no clipping under any condition)."""
    rng = np.random.default_rng(0)
    from scipy import ndimage
    noise = ndimage.gaussian_filter(rng.standard_normal((4, 32, 32, 3)), (0, 2, 2, 0))
    return 0.5 + 0.1 * noise / np.abs(noise).max()


def test_contrast_scales_deviations_about_mid_grey(images):
    gray = grayscale(images)
    for level in (1.0, 0.3, 0.05):
        out = get_condition("contrast").apply(images, level)
        assert np.allclose(out - 0.5, level * (gray - 0.5), atol=1e-6)


def test_undistorted_levels_leave_the_grayscale_image(images):
    gray = grayscale(images)
    for name, level in (("low-pass", 0.0), ("high-pass", np.inf), ("phase-noise", 0.0), ("rotation", 0.0)):
        assert np.allclose(get_condition(name).apply(images, level), gray, atol=1e-6), name
    assert np.allclose(get_condition("grayscale").apply(images, 1.0), images, atol=1e-6)
    assert np.allclose(get_condition("rotation").apply(images, 180.0), gray[:, ::-1, ::-1], atol=1e-6)


def test_phase_noise_keeps_the_amplitude_spectrum(images):
    gray = grayscale(images)[..., 0]
    out = get_condition("phase-noise").apply(images, 90.0, seed=1)[..., 0]
    assert np.allclose(np.abs(np.fft.fft2(out)), np.abs(np.fft.fft2(gray)), atol=1e-3)
    assert not np.allclose(out, gray, atol=1e-3)
    assert np.array_equal(out, get_condition("phase-noise").apply(images, 90.0, seed=1)[..., 0])  # seeded


def test_power_equalisation_gives_every_image_the_mean_spectrum(images):
    out = get_condition("power-equalisation").apply(images, 1.0)[..., 0]
    amplitude = np.abs(np.fft.fft2(out - out.mean(axis=(1, 2), keepdims=True)))
    assert np.allclose(amplitude, amplitude[0], atol=1e-3)


def test_false_colour_keeps_luma(images):
    out = get_condition("false-colour").apply(images, 1.0)
    assert np.allclose(grayscale(out), grayscale(images), atol=1e-6)
    assert not np.allclose(out, images, atol=1e-3)


def test_uniform_noise_width(images):
    out = get_condition("noise").apply(images, 0.1, seed=0)
    residual = out - get_condition("noise").apply(images, 0.0)
    assert np.abs(residual).max() <= 0.1 + 1e-6 and residual.std() == pytest.approx(0.1 / np.sqrt(3), rel=0.05)


def test_unknown_condition_and_task_names():
    with pytest.raises(InputError, match="unknown condition 'blur'"):
        get_condition("blur")
    from brainalign.psychometrics.tasks import get_task
    with pytest.raises(InputError, match="known tasks"):
        get_task("vernier")


@pytest.mark.shared_data("model-vs-human")
def test_condition_labels_match_the_human_csvs(shared_data):
    for condition in CONDITIONS.values():
        found = set(humans.load_experiment(condition.experiment)["condition"])
        assert set(condition.human_labels.values()) == found, condition.name


def test_grating_detection_contrast_is_the_level():
    images, labels, clean = task_stimuli(TASKS["grating-contrast"], 0.2, n_per_class=4, pixel_noise=0.0)
    present, blank = clean[labels == 1], clean[labels == 0]
    assert np.allclose(blank, 0.5)
    spectrum = np.fft.fft2(present[0]) / present[0].size        # 8 cycles/image, vertical stripes
    amplitude = 2 * np.abs(spectrum[0, 8])
    assert amplitude / spectrum[0, 0].real == pytest.approx(0.2, abs=1e-9)   # Michelson = amplitude / mean
    assert np.abs(spectrum).sum() == pytest.approx(spectrum[0, 0].real + amplitude, abs=1e-9)  # nothing else


@pytest.mark.parametrize("cycles", TASKS["spatial-frequency"].variants)
def test_spatial_frequency_variants_are_gratings_of_that_frequency(cycles):
    images, labels, clean = task_stimuli(TASKS["spatial-frequency"], 0.1, variant=cycles, n_per_class=2,
                                         pixel_noise=0.0)
    spectrum = np.fft.fft2(clean[labels == 1][0]) / clean[0].size
    peak = np.unravel_index(np.argmax(np.abs(spectrum) * (np.arange(spectrum.size) > 0).reshape(spectrum.shape)),
                            spectrum.shape)
    assert peak in ((0, int(cycles)), (0, spectrum.shape[1] - int(cycles)))   # vertical stripes, `cycles` per image
    assert 2 * np.abs(spectrum[0, int(cycles)]) / spectrum[0, 0].real == pytest.approx(0.1, abs=1e-9)


def test_levels_that_give_identical_stimuli_are_refused():
    with pytest.raises(DataError, match="identical stimuli in every class"):
        stimuli_per_level(TASKS["orientation"], [0.0, 8.0], n_per_class=4)
    with pytest.raises(DataError, match="levels 4 and 724 .* identical stimuli"):
        stimuli_per_level(TASKS["orientation"], [4.0, 724.0], n_per_class=4)
    with pytest.raises(DataError, match="given twice"):
        stimuli_per_level(TASKS["grating-contrast"], [0.1, 0.1], n_per_class=4)
    with pytest.raises(DataError, match="identical stimuli in every class"):
        stimuli_per_level(TASKS["texture-naturalness"], [0.0], n_per_class=4)


def test_texture_naturalness_signal_grows_with_phase_randomisation():
    """A higher-order observer (pixel kurtosis, edge energy) tells textures from their phase-randomised
    copies at full randomisation but not at 5%: the level controls the naturalness signal."""
    from scipy.stats import kurtosis

    from brainalign.psychometrics.decisions import readout_decisions

    accuracy = {}
    for level, (images, labels) in stimuli_per_level(TASKS["texture-naturalness"], [0.05, 1.0],
                                                     n_per_class=32).items():
        gray = images[..., 0]
        features = np.c_[kurtosis(gray.reshape(len(gray), -1), axis=1), np.abs(np.diff(gray, axis=1)).mean(axis=(1, 2)),
                         np.abs(np.diff(gray, axis=2)).mean(axis=(1, 2))]
        pairs = np.tile(np.arange(32), 2)
        accuracy[level] = np.mean(readout_decisions(features, labels, groups=pairs) == labels)
    assert accuracy[1.0] > 0.85 and accuracy[0.05] < 0.7


def test_texture_pairs_keep_the_amplitude_spectrum():
    _, labels, clean = task_stimuli(TASKS["texture-naturalness"], 1.0, n_per_class=3, pixel_noise=0.0)
    texture, scrambled = clean[labels == 0], clean[labels == 1]
    assert np.abs(clean - 0.5).max() <= 0.45 + 1e-9             # no clipping, so spectra are intact
    assert np.allclose(np.abs(np.fft.fft2(texture)), np.abs(np.fft.fft2(scrambled)), atol=1e-6)
