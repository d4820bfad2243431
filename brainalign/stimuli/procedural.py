"""Procedural stimuli of the embedded simulated benchmark, generated from a seed.

The set mirrors the design of FreemanZiemba2013 at small scale: texture families with strong
higher-order (phase) structure, each texture paired with a spectrally matched noise image (same
Fourier amplitude spectrum, random phase), plus sinusoidal gratings and dead-leaves patches with
natural-image-like occlusion edges and a roughly 1/f^2 power spectrum.

Conventions: images are float arrays of shape (size, size) in [0, 1]; pixel (row, column) is
(y, x) with y pointing down; an orientation ``theta`` (degrees) is the direction
(cos theta, sin theta) in (x, y). Textures and dead-leaves patches are rendered on a torus, so they
tile seamlessly. All randomness goes through ``numpy.random.Generator`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "TEXTURE_FAMILIES", "ElementFamily", "ThresholdFamily", "dead_leaves", "grating",
    "phase_scramble", "render_texture", "simulated_stimuli",
]

N_TEXTURE_SAMPLES = 6
GRATING_ORIENTATIONS_DEG = (0.0, 30.0, 60.0, 90.0, 120.0, 150.0)
GRATING_CYCLES_PER_IMAGE = (4.0, 8.0, 16.0)
GRATING_PHASES = (0.0, np.pi)
N_NATURAL = 60
TEXTURE_RMS_CONTRAST = 0.14  # std of pixel values before the pair is shrunk to fit [0, 1]
_UNIT_RANGE_MARGIN = 0.49  # largest allowed |pixel - 0.5| after fitting


@dataclass(frozen=True)
class ElementFamily:
    """A texture of scattered elements (bars, crosses, ellipses, rings) on a uniform background.

    Attributes
    ----------
    shape : ``"bar"``, ``"cross"`` (two bars at right angles), ``"ellipse"`` or ``"ring"``.
    orientation_deg : mean element orientation.
    jitter_deg : half-width of the uniform orientation jitter (180 gives isotropic elements).
    length : bar length, ellipse major axis or ring diameter, in pixels (at size 64).
    width : line width or ellipse minor axis, in pixels (at size 64).
    count : number of elements per image (at size 64).
    polarity : +1 for bright elements on a dark background, -1 for dark on bright.
    """

    shape: str
    orientation_deg: float
    jitter_deg: float
    length: float
    width: float
    count: int
    polarity: int


@dataclass(frozen=True)
class ThresholdFamily:
    """A binary texture with sharp edges: band-pass noise thresholded at a quantile.

    Attributes
    ----------
    orientation_deg : preferred orientation of the noise's wave vectors.
    concentration : von Mises concentration of the orientation spectrum (0 = isotropic).
    wavelength : peak wavelength of the band-pass spectrum, in pixels (at size 64).
    quantile : fraction of pixels below the threshold.
    polarity : sign of the foreground.
    """

    orientation_deg: float
    concentration: float
    wavelength: float
    quantile: float
    polarity: int


TEXTURE_FAMILIES: tuple[ElementFamily | ThresholdFamily, ...] = (
    ElementFamily("bar", 0.0, 8.0, length=12.0, width=1.5, count=60, polarity=1),
    ElementFamily("bar", 45.0, 5.0, length=20.0, width=1.5, count=35, polarity=-1),
    ElementFamily("bar", 90.0, 15.0, length=9.0, width=3.0, count=55, polarity=1),
    ElementFamily("bar", 135.0, 10.0, length=6.0, width=1.5, count=110, polarity=-1),
    ElementFamily("bar", 0.0, 180.0, length=10.0, width=1.5, count=80, polarity=1),
    ElementFamily("cross", 0.0, 5.0, length=9.0, width=1.5, count=50, polarity=1),
    ElementFamily("cross", 45.0, 5.0, length=12.0, width=2.0, count=35, polarity=-1),
    ElementFamily("ellipse", 0.0, 180.0, length=4.0, width=4.0, count=100, polarity=1),
    ElementFamily("ellipse", 30.0, 10.0, length=14.0, width=5.0, count=35, polarity=-1),
    ElementFamily("ring", 0.0, 0.0, length=10.0, width=1.5, count=40, polarity=1),
    ThresholdFamily(60.0, concentration=4.0, wavelength=10.0, quantile=0.5, polarity=1),
    ThresholdFamily(0.0, concentration=0.0, wavelength=8.0, quantile=0.75, polarity=-1),
    ThresholdFamily(0.0, concentration=0.0, wavelength=24.0, quantile=0.5, polarity=1),
    ElementFamily("bar", 20.0, 15.0, length=40.0, width=1.2, count=25, polarity=-1),
)


def simulated_stimuli(*, seed: int = 0, size: int = 64) -> tuple[np.ndarray, pd.DataFrame]:
    """Generate the simulated benchmark's images and their metadata.

    Parameters
    ----------
    seed : seed of the one ``numpy.random.default_rng`` that draws every random choice.
    size : image side in pixels; element sizes and counts are given at 64 and scaled.

    Returns
    -------
    images : ndarray of shape (n_stimuli, size, size), float32 in [0, 1]
        14 texture families x 6 samples, each followed by its spectrally matched noise image
        (168 images), 36 gratings (6 orientations x 3 spatial frequencies x 2 phases) and
        60 dead-leaves patches: 264 images.
    metadata : pandas.DataFrame with one row per image
        ``stimulus_id`` (unique str, e.g. ``tex-f03-s2``, ``noise-f03-s2``,
        ``grating-o030-c08-p1``, ``natural-s07``), ``kind`` (texture / noise / grating /
        natural), ``family`` (``f00``..``f13`` for texture/noise pairs, else the kind),
        ``sample`` (int), ``texture_type`` (texture / noise for the pairs, else the kind),
        ``orientation_deg`` and ``spatial_frequency`` (cycles per image) for gratings, NaN
        otherwise.

    Examples
    --------
    >>> images, metadata = simulated_stimuli(seed=0)
    >>> images.shape, images.dtype.name
    ((264, 64, 64), 'float32')
    >>> sorted(metadata["kind"].unique())
    ['grating', 'natural', 'noise', 'texture']
    """
    rng = np.random.default_rng(seed)
    parts = [_texture_pairs(size, rng), _gratings(size), _naturals(size, rng)]
    images = np.concatenate([p[0] for p in parts]).astype(np.float32)
    metadata = pd.DataFrame([row for p in parts for row in p[1]])
    return images, metadata.reset_index(drop=True)


def _row(stimulus_id: str, kind: str, family: str, sample: int, texture_type: str,
         orientation_deg: float = np.nan, spatial_frequency: float = np.nan) -> dict:
    return {"stimulus_id": stimulus_id, "kind": kind, "family": family, "sample": sample,
            "texture_type": texture_type, "orientation_deg": orientation_deg,
            "spatial_frequency": spatial_frequency}


def _texture_pairs(size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Texture images each followed by its matched noise; shape (2 * n_families * 6, size, size)."""
    images, rows = [], []
    for f, family in enumerate(TEXTURE_FAMILIES):
        for s in range(N_TEXTURE_SAMPLES):
            texture = _standardise(render_texture(family, size, rng))
            texture, noise = _fit_pair_to_unit_range(texture, phase_scramble(texture, rng))
            images += [texture, noise]
            rows += [_row(f"tex-f{f:02d}-s{s}", "texture", f"f{f:02d}", s, "texture"),
                     _row(f"noise-f{f:02d}-s{s}", "noise", f"f{f:02d}", s, "noise")]
    return np.stack(images), rows


def _gratings(size: int) -> tuple[np.ndarray, list[dict]]:
    """Full-field gratings, shape (6 * 3 * 2, size, size), Michelson contrast 0.8."""
    images, rows = [], []
    for o in GRATING_ORIENTATIONS_DEG:
        for c in GRATING_CYCLES_PER_IMAGE:
            for p, phase in enumerate(GRATING_PHASES):
                images.append(0.5 + 0.4 * grating(size, o, c, phase))
                rows.append(_row(f"grating-o{o:03.0f}-c{c:02.0f}-p{p}", "grating", "grating", len(rows),
                                 "grating", orientation_deg=o, spatial_frequency=c))
    return np.stack(images), rows


def _naturals(size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Dead-leaves patches, shape (N_NATURAL, size, size)."""
    images = np.stack([dead_leaves(size, rng) for _ in range(N_NATURAL)])
    rows = [_row(f"natural-s{i:02d}", "natural", "natural", i, "natural") for i in range(N_NATURAL)]
    return images, rows


def grating(size: int, orientation_deg: float, cycles_per_image: float, phase: float) -> np.ndarray:
    """A sinusoidal grating in [-1, 1].

    Parameters
    ----------
    size : image side in pixels.
    orientation_deg : direction of the wave vector (luminance varies along it); 0 gives
        vertical stripes, 90 horizontal stripes.
    cycles_per_image : spatial frequency in cycles per image width.
    phase : phase in radians at the image centre.

    Returns
    -------
    ndarray of shape (size, size), float64 in [-1, 1]

    Examples
    --------
    >>> g = grating(8, 0.0, 2.0, 0.0)
    >>> bool(np.allclose(g[0], g[-1]))  # vertical stripes: every row is the same
    True
    """
    y, x = _centred_grid(size)
    theta = np.deg2rad(orientation_deg)
    along = x * np.cos(theta) + y * np.sin(theta)
    return np.cos(2 * np.pi * cycles_per_image * along / size + phase)


def phase_scramble(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep an image's Fourier amplitude spectrum and mean, randomise its phases.

    The random phases are those of the FFT of a white-noise image, so they are Hermitian
    symmetric and the result is real with exactly the same amplitude at every frequency (the
    Nyquist and DC terms keep their amplitude too); the DC term keeps its phase, hence the mean.

    Parameters
    ----------
    image : ndarray of shape (height, width)
    rng : generator drawing the white noise.

    Returns
    -------
    ndarray of shape (height, width), float64, with the same mean and RMS contrast.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = rng.random((16, 16))
    >>> out = phase_scramble(img, rng)
    >>> bool(np.allclose(np.abs(np.fft.fft2(out)), np.abs(np.fft.fft2(img))))
    True
    """
    spectrum = np.fft.fft2(image)
    phase = np.angle(np.fft.fft2(rng.standard_normal(image.shape)))
    phase[0, 0] = np.angle(spectrum[0, 0])
    return np.real(np.fft.ifft2(np.abs(spectrum) * np.exp(1j * phase)))


def render_texture(family: ElementFamily | ThresholdFamily, size: int, rng: np.random.Generator) -> np.ndarray:
    """One sample of a texture family: foreground coverage times polarity.

    Parameters
    ----------
    family : the family's recipe.
    size : image side in pixels.
    rng : generator for element positions/orientations or the noise.

    Returns
    -------
    ndarray of shape (size, size), float64 in [-1, 1] (before contrast normalisation).
    """
    if isinstance(family, ThresholdFamily):
        return family.polarity * _threshold_texture(family, size, rng)
    return family.polarity * _element_texture(family, size, rng)


def _element_texture(family: ElementFamily, size: int, rng: np.random.Generator) -> np.ndarray:
    """Union of anti-aliased elements scattered on a torus; shape (size, size) in [0, 1]."""
    scale = size / 64
    count = max(1, round(family.count * scale ** 2))
    cx, cy = rng.uniform(0, size, count), rng.uniform(0, size, count)
    theta = np.deg2rad(family.orientation_deg + rng.uniform(-family.jitter_deg, family.jitter_deg, count))
    dx, dy = _torus_offsets(size, cx, cy)
    length, width = family.length * scale, family.width * scale
    if family.shape == "bar":
        coverage = _bar(dx, dy, theta, length, width)
    elif family.shape == "cross":
        coverage = np.maximum(_bar(dx, dy, theta, length, width), _bar(dx, dy, theta + np.pi / 2, length, width))
    elif family.shape == "ellipse":
        coverage = _ellipse(dx, dy, theta, length / 2, width / 2)
    elif family.shape == "ring":
        coverage = np.clip(width / 2 - np.abs(np.hypot(dx, dy) - length / 2) + 0.5, 0.0, 1.0)
    else:
        raise ValueError(f"unknown element shape {family.shape!r}")
    return coverage.max(axis=0)


def _threshold_texture(family: ThresholdFamily, size: int, rng: np.random.Generator) -> np.ndarray:
    """Band-pass noise passed through a steep sigmoid at a quantile; shape (size, size) in [0, 1]."""
    fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    peak = 1.0 / (family.wavelength * size / 64)
    gain = np.exp(-np.log(radius / peak) ** 2 / (2 * np.log(1.6) ** 2))
    angle = np.arctan2(fy, fx)
    gain *= np.exp(family.concentration * (np.cos(2 * (angle - np.deg2rad(family.orientation_deg))) - 1))
    gain[0, 0] = 0.0
    field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * gain))
    field /= field.std()
    threshold = np.quantile(field, family.quantile)
    return 1.0 / (1.0 + np.exp(-(field - threshold) / 0.08))


def _torus_offsets(size: int, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrapped pixel-centre offsets from each element centre: dx (n, 1, size), dy (n, size, 1)."""
    centres = np.arange(size) + 0.5
    dx = (centres[None, None, :] - cx[:, None, None] + size / 2) % size - size / 2
    dy = (centres[None, :, None] - cy[:, None, None] + size / 2) % size - size / 2
    return dx, dy


def _rotate(dx: np.ndarray, dy: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along (u) and across (v) each element's axis; shapes broadcast to (n, size, size)."""
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    return dx * cos + dy * sin, -dx * sin + dy * cos


def _bar(dx, dy, theta, length: float, width: float) -> np.ndarray:
    """Anti-aliased coverage of line segments, shape (n, size, size) in [0, 1]."""
    u, v = _rotate(dx, dy, theta)
    distance = np.hypot(np.maximum(np.abs(u) - length / 2, 0.0), v)
    return np.clip(width / 2 - distance + 0.5, 0.0, 1.0)


def _ellipse(dx, dy, theta, semi_major: float, semi_minor: float) -> np.ndarray:
    """Anti-aliased coverage of filled ellipses, shape (n, size, size) in [0, 1]."""
    u, v = _rotate(dx, dy, theta)
    radius = np.hypot(u / semi_major, v / semi_minor)
    return np.clip((1.0 - radius) * semi_minor + 0.5, 0.0, 1.0)


def _standardise(image: np.ndarray) -> np.ndarray:
    """Mean 0.5 and RMS contrast TEXTURE_RMS_CONTRAST (the pair fit may shrink it later)."""
    deviation = image - image.mean()
    return 0.5 + deviation * (TEXTURE_RMS_CONTRAST / max(deviation.std(), 1e-12))


def _fit_pair_to_unit_range(texture: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shrink both images' contrast about 0.5 by one factor so that both lie inside [0, 1].

    One common factor keeps the pair's amplitude spectra, means and RMS contrasts equal.
    """
    extent = max(np.abs(texture - 0.5).max(), np.abs(noise - 0.5).max())
    factor = min(1.0, _UNIT_RANGE_MARGIN / extent)
    return 0.5 + (texture - 0.5) * factor, 0.5 + (noise - 0.5) * factor


def dead_leaves(size: int, rng: np.random.Generator, *, n_leaves: int = 500, min_radius: float = 1.5,
                max_radius: float = 24.0, blur_sigma: float = 0.6) -> np.ndarray:
    """A dead-leaves patch: occluding ellipses with a 1/r^3 radius density, slightly blurred.

    Scale-invariant leaf sizes give a power spectrum close to 1/f^2 and natural-image-like
    occlusion edges. Leaves wrap around the borders (a torus); the last drawn is on top.

    Parameters
    ----------
    size : image side in pixels (radii are given at 64 and scaled).
    rng : generator for leaf positions, shapes and grey levels.
    n_leaves : number of leaves; 500 covers a 64 x 64 image almost surely.
    min_radius, max_radius : radius range in pixels (at size 64).
    blur_sigma : Gaussian optical blur in pixels, which also anti-aliases the edges.

    Returns
    -------
    ndarray of shape (size, size), float64 in [0, 1]

    Examples
    --------
    >>> patch = dead_leaves(32, np.random.default_rng(0))
    >>> patch.shape, bool(patch.min() >= 0 and patch.max() <= 1)
    ((32, 32), True)
    """
    scale = size / 64
    lo, hi = (min_radius * scale) ** -2, (max_radius * scale) ** -2
    radius = (lo - rng.random(n_leaves) * (lo - hi)) ** -0.5  # inverse CDF of p(r) ~ r^-3
    aspect = rng.uniform(1.0, 2.5, n_leaves)
    theta = rng.uniform(0.0, np.pi, n_leaves)
    grey = rng.uniform(0.05, 0.95, n_leaves)
    dx, dy = _torus_offsets(size, rng.uniform(0, size, n_leaves), rng.uniform(0, size, n_leaves))
    inside = _ellipse_quadratic_form(dx, dy, theta, radius, radius / aspect) <= 1.0  # (n_leaves, size, size)
    label = np.max(inside * np.arange(1, n_leaves + 1, dtype=np.int16)[:, None, None], axis=0)  # last leaf on top
    image = np.concatenate([[0.5], grey])[label]  # label 0: no leaf, mean grey
    return np.clip(_gaussian_blur(image, blur_sigma * scale), 0.0, 1.0)


def _ellipse_quadratic_form(dx: np.ndarray, dy: np.ndarray, theta: np.ndarray, semi_major: np.ndarray,
                            semi_minor: np.ndarray) -> np.ndarray:
    """(u / semi_major)^2 + (v / semi_minor)^2 in float32, shape (n, size, size).

    ``dx`` (n, 1, size) and ``dy`` (n, size, 1) are offsets from each centre; (u, v) are the offsets
    along and across each ellipse's axis. Expanding the quadratic form keeps only one full-size
    product, which makes it cheap for hundreds of ellipses.
    """
    a, b = semi_major ** -2.0, semi_minor ** -2.0
    cos, sin = np.cos(theta), np.sin(theta)
    xx, yy, xy = a * cos ** 2 + b * sin ** 2, a * sin ** 2 + b * cos ** 2, 2 * (a - b) * cos * sin
    dx, dy = dx.astype(np.float32), dy.astype(np.float32)
    return _per_element(xx) * dx ** 2 + _per_element(yy) * dy ** 2 + (_per_element(xy) * dx) * dy


def _per_element(values: np.ndarray) -> np.ndarray:
    """(n,) -> float32 (n, 1, 1), to broadcast against per-element maps."""
    return values.astype(np.float32)[:, None, None]


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Circular Gaussian blur through the FFT; shape preserved."""
    fy, fx = np.meshgrid(np.fft.fftfreq(image.shape[0]), np.fft.fftfreq(image.shape[1]), indexing="ij")
    gain = np.exp(-2 * (np.pi * sigma) ** 2 * (fx ** 2 + fy ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(image) * gain))


def _centred_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates relative to the image centre: y (size, 1), x (1, size)."""
    coords = np.arange(size) - (size - 1) / 2
    return coords[:, None], coords[None, :]
