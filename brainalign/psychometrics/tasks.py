"""Procedurally generated parametric tasks: n-AFC discriminations whose difficulty is a level.

Each task draws ``n_per_class`` stimuli per class at each level from one seed; the classes are
paired (stimulus i of each class shares its phase or texture sample). The same seed is
used at every level (common random numbers: the same grating phases, pixel noise and texture
samples), so a curve changes only with the level. Images are float32 (n, size, size, 3) in
[0, 1], mean grey 0.5, with additive Gaussian pixel noise (``pixel_noise``, sd 0.1 for the
gratings, 0.03 for the textures of RMS contrast up to 0.12) that keeps thresholds finite for a
deterministic model.

* ``grating-contrast``: a vertical grating of known phase vs blank (signal known exactly, the
  classic detection task); level = Michelson contrast. Only the pixel noise varies between trials.
* ``spatial-frequency``: the same detection task at several spatial frequencies (variants, in
  cycles per image); the thresholds give a contrast sensitivity function (1 / threshold).
* ``orientation``: gratings at 45 - d/2 vs 45 + d/2 degrees; level = orientation difference d.
* ``texture-naturalness``: a texture (``stimuli.procedural`` families) vs the same texture with its
  Fourier phases randomised by a fraction (level; 1 = spectrally matched noise), the V2
  "naturalness" discrimination of Freeman et al. 2013.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import DataError, InputError
from ..stimuli.procedural import TEXTURE_FAMILIES, grating, render_texture
from .conditions import check_distinct_levels, check_levels, phase_offsets


@dataclass(frozen=True)
class ParametricTask:
    """A task: a stimulus generator, its default levels and how a fit treats them.

    ``generate(level, variant, n_per_class, rng, size)`` returns images (n, size, size) before noise
    and the class labels (n,), classes in blocks of ``n_per_class``; image i of every class forms
    pair i. ``pixel_noise`` is the task's default noise standard deviation.
    """

    name: str
    generate: Callable
    levels: tuple[float, ...]
    variants: tuple[float, ...]
    variant_unit: str
    n_classes: int
    scale: str
    increasing: bool
    unit: str
    description: str
    pixel_noise: float = 0.1


def _labels(n_classes: int, n_per_class: int) -> np.ndarray:
    return np.repeat(np.arange(n_classes), n_per_class)


def _detection(level, variant, n, rng, size):
    present = np.repeat(0.5 * level * grating(size, 0.0, variant, 0.0)[None], n, axis=0)
    return np.concatenate([np.zeros_like(present), present]) + 0.5, _labels(2, n)


def _orientation(level, variant, n, rng, size):
    phases = rng.uniform(0, 2 * np.pi, n)
    images = [0.5 + 0.5 * 0.3 * grating(size, 45.0 + sign * level / 2, variant, p)
              for sign in (-1, 1) for p in phases]
    return np.stack(images), _labels(2, n)


def _texture_naturalness(level, variant, n, rng, size):
    families = rng.integers(0, len(TEXTURE_FAMILIES), n)
    textures = np.stack([render_texture(TEXTURE_FAMILIES[f], size, rng) for f in families])
    textures = (textures - textures.mean(axis=(1, 2), keepdims=True)) / textures.std(axis=(1, 2), keepdims=True)
    spectra = np.fft.fft2(textures, axes=(1, 2))
    scrambled = np.real(np.fft.ifft2(spectra * np.exp(1j * phase_offsets(textures.shape, level, rng)), axes=(1, 2)))
    # RMS contrast 0.12, shrunk by one factor per pair where needed so that both images fit [0.05, 0.95]
    extent = np.maximum(np.abs(textures).max(axis=(1, 2)), np.abs(scrambled).max(axis=(1, 2)))[:, None, None]
    gain = np.minimum(0.12, 0.45 / extent)
    return 0.5 + np.concatenate([gain * textures, gain * scrambled]), _labels(2, n)


TASKS: dict[str, ParametricTask] = {t.name: t for t in (
    ParametricTask("grating-contrast", _detection, (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32), (8.0,),
                   "cycles/image", 2, "log", True, "Michelson contrast", "grating vs blank detection"),
    ParametricTask("spatial-frequency", _detection, (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32),
                   (2.0, 4.0, 8.0, 16.0), "cycles/image", 2, "log", True, "Michelson contrast",
                   "grating detection per spatial frequency (contrast sensitivity)"),
    ParametricTask("orientation", _orientation, (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0), (8.0,), "cycles/image", 2,
                   "log", True, "orientation difference (deg)", "two-orientation discrimination"),
    ParametricTask("texture-naturalness", _texture_naturalness, (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0), (0.0,), "",
                   2, "log", True, "phase randomisation fraction", "texture vs phase-randomised texture",
                   pixel_noise=0.03),
)}


def get_task(name: str) -> ParametricTask:
    """The parametric task ``name``; InputError listing the known ones otherwise."""
    if name not in TASKS:
        raise InputError(f"unknown parametric task {name!r}", hint=f"known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def task_stimuli(task: ParametricTask, level: float, *, variant: float | None = None, n_per_class: int = 32,
                 size: int = 64, pixel_noise: float | None = None,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stimuli of ``task`` at ``level`` (``pixel_noise`` None: the task's default).

    Returns
    -------
    images : float32 ndarray of shape (n_classes * n_per_class, size, size, 3) in [0, 1], with pixel noise
    labels : int ndarray of shape (n_classes * n_per_class,)
    clean : float64 ndarray of shape (n_classes * n_per_class, size, size), the images before noise
    """
    rng = np.random.default_rng(seed)
    variant = task.variants[0] if variant is None else variant
    clean, labels = task.generate(float(level), float(variant), n_per_class, rng, size)
    noise = task.pixel_noise if pixel_noise is None else pixel_noise
    noisy = clean + noise * rng.standard_normal(clean.shape)
    images = np.repeat(np.clip(noisy, 0, 1)[..., None], 3, axis=-1).astype(np.float32)
    return images, labels, clean


def stimuli_per_level(task: ParametricTask, levels, **options) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """{level: (images, labels)} of :func:`task_stimuli` for each level, after two checks on the
    noise-free images: every level must show different images in its classes, and no two levels
    may give identical stimuli (DataError otherwise)."""
    out, clean = {}, {}
    for level in check_levels(levels, task.name):
        images, labels, noise_free = task_stimuli(task, level, **options)
        blocks = [noise_free[labels == c] for c in np.unique(labels)]
        if all(np.allclose(b, blocks[0], atol=1e-9) for b in blocks[1:]):
            raise DataError(f"level {level:g} of task {task.name!r} gives identical stimuli in every class",
                            hint="drop that level: accuracy there is chance by construction")
        out[float(level)], clean[float(level)] = (images, labels), noise_free
    check_distinct_levels(clean, task.name)
    return out
