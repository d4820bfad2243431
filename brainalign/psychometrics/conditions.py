"""Image conditions of model-vs-human: transforms with a strength parameter, applicable to any images.

Every transform takes a batch of images, float of shape (n, H, W, 3) in [0, 1], a level and a
``numpy.random.Generator``, and returns a new batch of the same shape in [0, 1]. Following
Geirhos et al. (2018), every condition except the colour ones works on grayscale images
(ITU-R 601 luma copied to three channels). The default levels are those of model-vs-human
(METHODS.md); ``human_labels`` maps a level to the ``condition`` value of the human CSVs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from ..errors import DataError, InputError

_LUMA = np.array([0.299, 0.587, 0.114])
GREY = 0.5


def grayscale(images: np.ndarray) -> np.ndarray:
    """Luma of (n, H, W, 3) images, copied to three channels."""
    luma = images @ _LUMA
    return np.repeat(luma[..., None], 3, axis=-1)


def _contrast(images, level, rng):
    """Michelson-style contrast reduction about mid grey: x' = c x + (1 - c) / 2 (level c in (0, 1])."""
    return level * grayscale(images) + (1 - level) / 2


def _uniform_noise(images, level, rng):
    """Contrast 0.3, then additive uniform noise in [-w, w] per pixel (same on the three channels), clipped."""
    low = _contrast(images, 0.3, rng)
    noise = rng.uniform(-level, level, size=low.shape[:-1])[..., None] if level > 0 else 0.0
    return np.clip(low + noise, 0, 1)


def _gaussian(images: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma, 0), mode="reflect")


def _low_pass(images, level, rng):
    """Gaussian blur with standard deviation ``level`` pixels (0: unchanged)."""
    gray = grayscale(images)
    return gray if level == 0 else np.clip(_gaussian(gray, level), 0, 1)


def _high_pass(images, level, rng):
    """Image minus its Gaussian blur (sigma ``level`` px), plus the image mean; inf: unchanged."""
    gray = grayscale(images)
    if np.isinf(level):
        return gray
    mean = gray.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip(gray - _gaussian(gray, level) + mean, 0, 1)


def phase_offsets(shape: tuple[int, int, int], fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Random Fourier phase offsets, uniform in [-fraction * pi, fraction * pi], odd-symmetric.

    Returns an array of ``shape`` (n, H, W) such that ``ifft2(fft2(x) * exp(1j * offsets))`` is real
    for real ``x`` and keeps its amplitude spectrum: the offsets are the phases of white noise
    (odd-symmetric, uniform), scaled, and 0 at the self-conjugate frequencies (DC, Nyquist).
    """
    offsets = np.angle(np.fft.fft2(rng.standard_normal(shape), axes=(1, 2))) * fraction
    rows = [0] + ([shape[1] // 2] if shape[1] % 2 == 0 else [])
    cols = [0] + ([shape[2] // 2] if shape[2] % 2 == 0 else [])
    offsets[:, np.array(rows)[:, None], np.array(cols)[None, :]] = 0.0
    return offsets


def _phase_noise(images, level, rng):
    """Add uniform noise in [-w, w] degrees to every Fourier phase (odd-symmetric, so the image stays real)."""
    gray = grayscale(images)[..., 0]
    spectrum = np.fft.fft2(gray, axes=(1, 2))
    offsets = phase_offsets(gray.shape, level / 180.0, rng)
    out = np.real(np.fft.ifft2(spectrum * np.exp(1j * offsets), axes=(1, 2)))
    return np.repeat(np.clip(out, 0, 1)[..., None], 3, axis=-1)


def _rotation(images, level, rng):
    """Rotation by a multiple of 90 degrees (counter-clockwise)."""
    if level % 90:
        raise InputError(f"rotation levels must be multiples of 90 degrees; got {level}")
    return np.rot90(grayscale(images), k=int(level // 90) % 4, axes=(1, 2))


def _colour(images, level, rng):
    """level 1: the colour image; level 0: grayscale (the ``cr``/``bw`` conditions)."""
    return images.copy() if level else grayscale(images)


def _false_colour(images, level, rng):
    """level 1: opponent colours inverted at constant luma (x' = 2 luma - x, clipped); 0: unchanged."""
    if not level:
        return images.copy()
    luma = (images @ _LUMA)[..., None]
    return np.clip(2 * luma - images, 0, 1)


def _power_equalisation(images, level, rng):
    """level 1: every image gets the batch's mean Fourier amplitude spectrum (own phases), grayscale."""
    gray = grayscale(images)[..., 0]
    if not level:
        return grayscale(images)
    spectra = np.fft.fft2(gray - gray.mean(axis=(1, 2), keepdims=True), axes=(1, 2))
    amplitude = np.abs(spectra).mean(axis=0, keepdims=True)
    out = np.real(np.fft.ifft2(amplitude * np.exp(1j * np.angle(spectra)), axes=(1, 2)))
    out += gray.mean(axis=(1, 2), keepdims=True)
    return np.repeat(np.clip(out, 0, 1)[..., None], 3, axis=-1)


@dataclass(frozen=True)
class Condition:
    """A named image transform with its levels.

    Attributes
    ----------
    name : CLI/task name.
    transform : ``transform(images (n, H, W, 3), level, rng) -> images``.
    levels : model-vs-human levels, weakest distortion first.
    experiment : the model-vs-human experiment with these conditions.
    human_labels : level -> the CSV ``condition`` label.
    scale, increasing : how a psychometric fit treats the levels (see ``fits``); None: no fit (categorical).
    unit : what a level measures.
    """

    name: str
    transform: Callable
    levels: tuple[float, ...]
    experiment: str
    human_labels: dict
    scale: str | None
    increasing: bool
    unit: str

    def apply(self, images: np.ndarray, level: float, *, seed: int = 0) -> np.ndarray:
        """Transformed copy of ``images`` (n, H, W, 3) at ``level``; the noise comes from ``seed`` only."""
        images = np.asarray(images, dtype=np.float64)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise DataError(f"conditions apply to images of shape (n, H, W, 3); got {images.shape}")
        rng = np.random.default_rng(seed)
        return self.transform(images, float(level), rng).astype(np.float32)


def _labels(levels, fmt) -> dict:
    return {float(level): fmt(level) for level in levels}


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("contrast", _contrast, (1.0, 0.5, 0.3, 0.15, 0.1, 0.05, 0.03, 0.01), "contrast",
              _labels((1.0, 0.5, 0.3, 0.15, 0.1, 0.05, 0.03, 0.01), lambda c: f"c{round(c * 100):02d}"),
              "log", True, "contrast (fraction)"),
    Condition("noise", _uniform_noise, (0.0, 0.03, 0.05, 0.1, 0.2, 0.35, 0.6, 0.9), "uniform-noise",
              _labels((0.0, 0.03, 0.05, 0.1, 0.2, 0.35, 0.6, 0.9), lambda w: str(float(w))),
              "linear", False, "noise width"),
    Condition("low-pass", _low_pass, (0.0, 1.0, 3.0, 5.0, 7.0, 10.0, 15.0, 40.0), "low-pass",
              _labels((0, 1, 3, 5, 7, 10, 15, 40), lambda s: str(int(s))), "linear", False, "filter sigma (px)"),
    Condition("high-pass", _high_pass, (np.inf, 3.0, 1.5, 1.0, 0.7, 0.55, 0.45, 0.4), "high-pass",
              _labels((np.inf, 3.0, 1.5, 1.0, 0.7, 0.55, 0.45, 0.4), lambda s: "inf" if np.isinf(s) else str(float(s))),
              "log", True, "filter sigma (px)"),
    Condition("phase-noise", _phase_noise, (0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 180.0), "phase-scrambling",
              _labels((0, 30, 60, 90, 120, 150, 180), lambda w: str(int(w))), "linear", False,
              "phase noise width (deg)"),
    Condition("rotation", _rotation, (0.0, 90.0, 180.0, 270.0), "rotation",
              _labels((0, 90, 180, 270), lambda r: str(int(r))), None, True, "rotation (deg)"),
    Condition("grayscale", _colour, (1.0, 0.0), "colour", {1.0: "cr", 0.0: "bw"}, None, True,
              "colour (1) or grayscale (0)"),
    Condition("false-colour", _false_colour, (0.0, 1.0), "false-colour", {0.0: "True", 1.0: "False"}, None, True,
              "false colour (1) or true colour (0)"),
    Condition("power-equalisation", _power_equalisation, (0.0, 1.0), "power-equalisation", {0.0: "0", 1.0: "pow"},
              None, True, "power-equalised (1) or original (0)"),
)}


def get_condition(name: str) -> Condition:
    """The condition called ``name``; InputError listing the known ones otherwise."""
    if name not in CONDITIONS:
        raise InputError(f"unknown condition {name!r}", hint=f"known conditions: {', '.join(CONDITIONS)}")
    return CONDITIONS[name]


def check_distinct_levels(batches: dict, task: str) -> None:
    """DataError when two levels give identical stimuli (a curve over them would measure nothing).

    ``batches`` maps each level to its stimuli (arrays of one shape); arrays equal within 1e-9 at
    two levels fail.
    """
    levels = list(batches)
    for i, first in enumerate(levels):
        for second in levels[i + 1:]:
            if np.allclose(batches[first], batches[second], rtol=0, atol=1e-9):
                raise DataError(f"levels {first:g} and {second:g} of task {task!r} give identical stimuli",
                                hint="choose levels that change the images (e.g. orientation differences "
                                     "that differ modulo 360 deg)")


def stimulus_digest(images: np.ndarray) -> str:
    """sha256 of ``images`` rounded to 5 decimals: equal for stimuli that differ only by float noise."""
    return hashlib.sha256(np.ascontiguousarray(np.round(np.asarray(images, dtype=np.float64), 5)).tobytes()).hexdigest()


def check_levels(levels, task: str) -> list[float]:
    """``levels`` as floats; InputError if empty or if a level repeats."""
    values = [float(v) for v in levels]
    if not values:
        raise InputError(f"task {task!r} needs at least one level")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise DataError(f"level {repeated[0]:g} of task {task!r} is given twice, so two levels give identical stimuli",
                        hint="give each level once")
    return values
