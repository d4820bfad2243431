"""The simulated benchmark's generative model of neurons, written as a torch module.

:class:`SimulatedCortex` maps grayscale 64 x 64 images to noise-free mean spike counts of eight
simulated areas. It is the ground truth of the embedded benchmark (``brainalign.neural.simulated``
draws noisy trials from it) and, registered as the zoo model ``sim_oracle``, the positive control
that goes through the same extraction path as any network.

Design
------
* Two log-Gabor quadrature filter banks (3 wavelengths x 6 orientations), applied by FFT
  (circular convolution) and sampled on a 32 x 32 lattice (2 px spacing), with divisive
  normalisation by the image's mean energy over all channels and pixels (Heeger 1992). The pool is
  computed from the power spectrum, so a texture and its spectrally matched noise get exactly the
  same normalisation (Parseval).
* Each area (submodule :class:`MixtureArea`) has a small set of shared *latent channels*
  (12-16), computed by the machinery below, and each of its neurons is a sparse non-negative
  mixture of 1-3 of them (mostly of one spatial scale or feature level), after a soft saturation
  of the latents, through a mild output exponent (1.2), with log-normal gains that vary little
  across neurons. Recorded populations have strongly correlated tuning and most of their
  stimulus-driven variance in a few dimensions (Stringer et al. 2019); so do these, which is what
  lets the oracle's own rates predict every neuron through the benchmark's 25-component PLS. The
  saturation keeps gratings, which put all of an image's energy into one channel, from dominating
  a neuron's variance.
* ``V1`` (primate bank, wavelengths 4-16 px, i.e. 1-4 c/deg at 16 px/deg): energy-model latents
  (Adelson & Bergen 1985). Simple latents half-square one phase of one channel at one lattice
  point; complex latents pool one channel's energy with a Gaussian of sigma = wavelength / 2.
  Latents are linear in normalised energy, so a texture and its matched noise drive them equally
  on average (modulation index near 0).
* ``V2``: each latent adds to pooled V1 energy a higher-order term, the pooled product of two V1
  energy maps of the two finer scales: the same channel (energy sparseness), a neighbouring
  orientation, or the other scale. Channels are nearly independent for phase-randomised noise,
  while the sharp edges and lines of textures co-activate them, so V2 prefers textures to their
  matched noise (Freeman et al. 2013). The drive is squared (expansive nonlinearity) and softly
  saturated, which bounds the responses to gratings.
* Mouse (``VISp`` .. ``VISam``): a low-spatial-frequency bank (wavelengths 8-32 px, broad tuning,
  behind a Gaussian optical blur) feeds a hierarchy of feature levels on coarsening lattices
  (stride 2, 4, 8, 8 px): level 0 pooled energy; level 1 cross-channel conjunctions; levels 2-3 a
  sparse signed channel mix, rectified, raised to 1.5 and normalised. ``VISp``'s latents are
  energy-model units on the bank; the higher areas, in the anatomical hierarchy order
  ``MOUSE_HIERARCHY`` (Harris et al. 2019; Siegle et al. 2021), have latents that read deeper
  levels through wider Gaussian windows with steeper exponents: receptive fields grow and features
  get more nonlinear.

Every parameter is drawn at construction from ``numpy.random.SeedSequence(seed)`` and stored as a
buffer (the module has no trainable parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..base import Preprocessing
from ..registry import ZooEntry, register_model

__all__ = ["AREAS", "MOUSE_HIERARCHY", "SimulatedCortex", "sim_oracle"]

#: Area submodules, in forward order; the last one is what ``forward`` returns.
AREAS = ("V1", "V2", "VISp", "VISl", "VISal", "VISrl", "VISam", "VISpm")
#: Mouse areas from lowest to highest (anatomical hierarchy score, Siegle et al. 2021).
MOUSE_HIERARCHY = ("VISp", "VISl", "VISrl", "VISal", "VISpm", "VISam")
SIZE = 64
LATTICE = 32  # the banks' sampling lattice (stride SIZE // LATTICE = 2 px)
N_ORIENTATIONS = 6
PRIMATE_WAVELENGTHS = (4.0, 8.0, 16.0)
MOUSE_WAVELENGTHS = (8.0, 16.0, 32.0)
PRIMATE_RADIAL_SIGMA = 0.65  # ~1.5 octaves
PRIMATE_ANGULAR_SIGMA = 0.3  # radians
MOUSE_RADIAL_SIGMA = 0.5  # ~2.4 octaves: broad mouse spatial-frequency tuning
MOUSE_ANGULAR_SIGMA = 0.45
MOUSE_OPTICS_SIGMA = 1.5  # px
SEMI_SATURATION = 2e-4  # of the normalisation pool, in squared grey levels
V1_POOLING = 0.5  # complex-cell pooling sigma, in wavelengths
V2_SCALES = 2  # V2 products use the finer PRIMATE_WAVELENGTHS
N_PRIMATE_NEURONS = 80
N_MOUSE_NEURONS = 50
#: Stride (px) of the mouse feature levels 0..3 and the Gaussian pooling (px) each level adds.
MOUSE_LEVEL_STRIDES = (2, 4, 8, 8)
MOUSE_LEVEL_SIGMAS = (2.0, 2.0, 4.0, 8.0)
MIXTURE_SIZES = (1, 2, 3)  # number of latents a neuron mixes ...
MIXTURE_PROBABILITIES = (0.25, 0.45, 0.3)  # ... and how often
GAIN_SIGMA = 0.25  # log-sd of the neurons' gains around their area's median
BASELINE_SIGMA = 0.5  # log-sd of the neurons' spontaneous counts


@dataclass(frozen=True)
class _AreaPopulation:
    """An area's population: latent count, latent saturation and the neurons' output stage.

    ``gain`` and ``baseline`` are the medians (spike counts) of log-normal draws; ``saturation``
    is that of :class:`MixtureArea` (``inf`` for V2, whose latents saturate themselves). The gains
    scale the rates to 2-5 spikes on average, which puts the median split-half reliability of the
    simulated trials (``brainalign.neural.simulated``) at about 0.75-0.9.
    """

    n_latents: int
    saturation: float
    gain: float
    baseline: float
    exponent: float = 1.2


_POPULATIONS = {
    "V1": _AreaPopulation(n_latents=16, saturation=1.0, gain=5.0, baseline=1.0),
    "V2": _AreaPopulation(n_latents=16, saturation=float("inf"), gain=0.7, baseline=1.0),
    "VISp": _AreaPopulation(n_latents=14, saturation=1.0, gain=8.0, baseline=0.5),
    "VISl": _AreaPopulation(n_latents=12, saturation=1.5, gain=7.0, baseline=0.5),
    "VISal": _AreaPopulation(n_latents=12, saturation=1.5, gain=7.0, baseline=0.5),
    "VISrl": _AreaPopulation(n_latents=12, saturation=1.5, gain=9.0, baseline=0.5),
    "VISam": _AreaPopulation(n_latents=12, saturation=1.5, gain=5.0, baseline=0.5),
    "VISpm": _AreaPopulation(n_latents=12, saturation=1.5, gain=6.0, baseline=0.5),
}


@dataclass(frozen=True)
class _MouseAreaSpec:
    """Which mouse feature levels an area's latents read, their window (px) and exponent."""

    levels: tuple[int, ...]
    readout_sigma: float
    exponent: float


_MOUSE_SPECS = {
    "VISl": _MouseAreaSpec(levels=(0, 1), readout_sigma=5.5, exponent=1.2),
    "VISrl": _MouseAreaSpec(levels=(1,), readout_sigma=6.5, exponent=1.3),
    "VISal": _MouseAreaSpec(levels=(1, 2), readout_sigma=7.5, exponent=1.4),
    "VISpm": _MouseAreaSpec(levels=(2,), readout_sigma=9.0, exponent=1.5),
    "VISam": _MouseAreaSpec(levels=(2, 3), readout_sigma=10.5, exponent=1.6),
}


class QuadratureBank(nn.Module):
    """Log-Gabor quadrature filters with global divisive normalisation, sampled every 2 px.

    Parameters
    ----------
    wavelengths : preferred wavelengths in pixels (one filter per wavelength and orientation).
    radial_sigma : log-Gabor radial width as a ratio (0.65 ~ 1.5 octaves, 0.5 ~ 2.4 octaves).
    angular_sigma : orientation tuning width in radians.
    semi_saturation : added to the mean energy in the normalisation pool (contrast response).
    optics_sigma : Gaussian optical blur in pixels, multiplied into every filter.

    Notes
    -----
    Channel ``c`` has wavelength ``wavelengths[c // N_ORIENTATIONS]`` and orientation
    ``(c % N_ORIENTATIONS) * 180 / N_ORIENTATIONS`` degrees (the direction of its wave vector).
    Each filter is one-sided in frequency, so its impulse response is complex: the real part is the
    even, the imaginary part the odd member of a quadrature pair. A grating of amplitude ``a`` at
    the preferred frequency gives responses of modulus ``a`` before normalisation.

    The lattice values are exact samples of the full-resolution circular convolution: the
    filtered spectrum is folded (aliased) onto 32 x 32 frequencies before the inverse FFT, as one
    contraction over the four aliases.
    """

    def __init__(self, wavelengths: tuple[float, ...], *, radial_sigma: float, angular_sigma: float,
                 semi_saturation: float, optics_sigma: float = 0.0):
        super().__init__()
        self.wavelengths = tuple(wavelengths)
        self.semi_saturation = semi_saturation
        gains = _log_gabor_gains(wavelengths, radial_sigma, angular_sigma) * _gaussian_gain(SIZE, optics_sigma)
        self.register_buffer("pool_gain", torch.from_numpy((gains ** 2).mean(axis=0) / SIZE ** 4))
        self.register_buffer("alias_gain", _aliases(torch.from_numpy(gains)).to(torch.complex64))

    @property
    def n_channels(self) -> int:
        return self.alias_gain.shape[0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map (batch, 1, 64, 64) images to normalised responses (batch, 2, channels, 32, 32).

        Index 0 / 1 of the second axis are the real (even) / imaginary (odd) parts; lattice point
        (i, j) is pixel (2 i, 2 j).
        """
        spectrum = torch.fft.fft2(images[:, 0])  # (B, 64, 64)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        pool = self.semi_saturation + (power * self.pool_gain).sum(dim=(1, 2))  # mean energy per image
        spectrum = spectrum / (4.0 * pool.sqrt()).view(-1, 1, 1)  # 4: the fold's 64^2 / 32^2 scaling
        folded = torch.einsum("bakl,cakl->bckl", _aliases(spectrum), self.alias_gain)
        response = torch.view_as_real(torch.fft.ifft2(folded))  # (B, C, 32, 32, 2)
        return response.movedim(-1, 1).contiguous()


def _log_gabor_gains(wavelengths, radial_sigma: float, angular_sigma: float) -> np.ndarray:
    """Frequency responses of a bank, float32 of shape (len(wavelengths) * 6, 64, 64)."""
    fy, fx = _frequencies(SIZE)
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    angle = np.arctan2(fy, fx)
    gains = []
    for wavelength in wavelengths:
        radial = np.exp(-np.log(radius * wavelength) ** 2 / (2 * np.log(radial_sigma) ** 2))
        for o in range(N_ORIENTATIONS):
            delta = np.angle(np.exp(1j * (angle - np.pi * o / N_ORIENTATIONS)))
            gain = 2.0 * radial * np.exp(-delta ** 2 / (2 * angular_sigma ** 2))
            gain[0, 0] = 0.0
            gains.append(gain)
    return np.stack(gains).astype(np.float32)


def _aliases(spectrum: torch.Tensor) -> torch.Tensor:
    """Split a 64-point spectrum (n, 64, 64) into its 4 aliases on 32 points, (n, 4, 32, 32).

    Frequencies k and k + 32 (per axis) land on the same lattice frequency, so summing over the
    second axis gives the spectrum of the signal sampled every 2 px (times 4).
    """
    n = spectrum.shape[0]
    blocks = spectrum.reshape(n, 2, LATTICE, 2, LATTICE).transpose(2, 3)
    return blocks.reshape(n, 4, LATTICE, LATTICE)


class EnergyReadout(nn.Module):
    """Energy-model latents (simple and complex subunits) read off a :class:`QuadratureBank`.

    A simple latent is ``2 [Re(q e^{-i phase})]_+^2`` at its lattice point; a complex latent is
    ``|q|^2`` pooled with a Gaussian window. Both are linear in normalised energy and 0 for a
    uniform image.

    Parameters
    ----------
    channel : int array (n_latents,), the bank channel of each latent.
    simple : bool array (n_latents,).
    phase : float array (n_latents,), radians (used by simple latents).
    window : float array (n_latents, 32, 32) on the lattice, each summing to 1 (one point for
        simple latents).
    """

    def __init__(self, channel, simple, phase, window):
        super().__init__()
        _register(self, channel=torch.as_tensor(channel, dtype=torch.long),
                  simple=torch.as_tensor(simple, dtype=torch.bool), phase=_f32(phase),
                  window=_f32(window).reshape(len(channel), -1))

    @property
    def n_latents(self) -> int:
        return self.channel.shape[0]

    def forward(self, quadrature: torch.Tensor) -> torch.Tensor:
        """Map bank output (batch, 2, channels, 32, 32) to latents (batch, n_latents) >= 0."""
        even = _read_channels(quadrature[:, 0], self.window, self.channel)
        odd = _read_channels(quadrature[:, 1], self.window, self.channel)
        energy = _read_channels(_energy(quadrature), self.window, self.channel)
        linear = torch.relu(even * torch.cos(self.phase) + odd * torch.sin(self.phase))
        return torch.where(self.simple, 2.0 * linear * linear, energy)


class TextureReadout(nn.Module):
    """V2 latents: pooled V1 energy plus the pooled product of two V1 energy maps.

    ``d = alpha * pool(E_a) + (1 - alpha) * pool(E_a * E_b)``, ``y = d ** 2`` and
    ``latent = y / (1 + y / saturation)``, where ``E_c = |q_c|^2`` is the normalised energy of
    bank channel ``c`` and ``pool`` the latent's Gaussian window. The expansive exponent amplifies
    the higher-order term; the saturation bounds the responses to gratings that match both
    channels.

    Parameters
    ----------
    channel_a, channel_b : int arrays (n_latents,); equal for a latent sensitive to energy sparseness.
    alpha : float array (n_latents,), weight of the linear (V1-like) term.
    window : float array (n_latents, 32, 32) on the lattice, each summing to 1.
    saturation : value of ``y`` at which the latent is half the linear extrapolation.
    """

    def __init__(self, channel_a, channel_b, alpha, window, saturation: float = 5.0):
        super().__init__()
        self.saturation = saturation
        _register(self, channel_a=torch.as_tensor(channel_a, dtype=torch.long),
                  channel_b=torch.as_tensor(channel_b, dtype=torch.long), alpha=_f32(alpha),
                  window=_f32(window).reshape(len(channel_a), -1))

    @property
    def n_latents(self) -> int:
        return self.channel_a.shape[0]

    def forward(self, quadrature: torch.Tensor) -> torch.Tensor:
        """Map bank output (batch, 2, channels, 32, 32) to latents (batch, n_latents) >= 0."""
        energy = _energy(quadrature).flatten(2)  # (B, C, 1024)
        linear = _read_channels(energy, self.window, self.channel_a)
        product = torch.stack([(energy[:, a] * energy[:, b]) @ window for a, b, window
                               in zip(self.channel_a, self.channel_b, self.window)], dim=1)
        drive = self.alpha * linear + (1.0 - self.alpha) * product
        expanded = drive * drive
        return expanded / (1.0 + expanded / self.saturation)


class MouseHierarchy(nn.Module):
    """Feature levels 0-3 of the simulated mouse stream, computed from a :class:`QuadratureBank`.

    * level 0 (stride 2 px): channel energy ``E = |q|^2``, Gaussian-pooled;
    * level 1 (stride 4 px): ``(E_c + sqrt(E_c E_partner(c))) / 2``, pooled, normalised;
    * levels 2, 3 (stride 8 px): ``[W x - threshold]_+^1.5`` for a sparse signed channel mix ``W``
      of the previous level, pooled, normalised.

    Pooling is a circular Gaussian of ``MOUSE_LEVEL_SIGMAS`` followed by 2 x 2 averaging where the
    stride grows, applied as separable matrices; normalisation divides each image's maps by 0.05
    plus their mean over channels and positions.

    Parameters
    ----------
    partner : int array (channels,), the partner channel of level 1.
    mixes : float array (2, channels, channels), the channel mixes of levels 2 and 3.
    threshold : rectification threshold of levels 2 and 3.
    """

    def __init__(self, partner, mixes, threshold: float = 0.2):
        super().__init__()
        self.threshold = threshold
        inputs = (SIZE // 2,) + tuple(SIZE // s for s in MOUSE_LEVEL_STRIDES[:-1])
        for k, (n_in, stride, sigma) in enumerate(zip(inputs, MOUSE_LEVEL_STRIDES, MOUSE_LEVEL_SIGMAS)):
            self.register_buffer(f"pool{k}", _f32(_pooling_matrix(n_in, SIZE // stride, sigma * n_in / SIZE)))
        _register(self, partner=torch.as_tensor(partner, dtype=torch.long), mixes=_f32(mixes))

    def forward(self, quadrature: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Map bank output (batch, 2, channels, 32, 32) to four levels (batch, channels, n_k, n_k).

        ``n_k = 64 / MOUSE_LEVEL_STRIDES[k]``: 32, 16, 8, 8.
        """
        level0 = self._pool(_energy(quadrature), 0)
        conjunction = 0.5 * (level0 + (level0 * level0[:, self.partner]).sqrt())
        levels = [level0, _normalise(self._pool(conjunction, 1))]
        for k, mix in enumerate(self.mixes, start=2):
            mixed = torch.einsum("dc,bchw->bdhw", mix, levels[-1])
            levels.append(_normalise(self._pool(torch.relu(mixed - self.threshold) ** 1.5, k)))
        return tuple(levels)

    def _pool(self, maps: torch.Tensor, level: int) -> torch.Tensor:
        matrix = getattr(self, f"pool{level}")
        return matrix @ maps @ matrix.T


class LevelReadout(nn.Module):
    """Mouse higher-area latents: a Gaussian-windowed, positively weighted pair of feature channels.

    ``latent = (w1 pool(F_k[c1]) + w2 pool(F_k[c2])) ** exponent`` for the latent's level ``k``.

    Parameters
    ----------
    level : int array (n_latents,), the feature level each latent reads.
    channels : int array (n_latents, 2).
    weights : float array (n_latents, 2), non-negative.
    centre : float array (n_latents, 2), window centre (row, column) in pixels.
    sigma : float array (n_latents,), window sigma in pixels.
    exponent : exponent of the area's latents.
    """

    def __init__(self, level, channels, weights, centre, sigma, exponent: float):
        super().__init__()
        self.exponent = exponent
        self.levels = tuple(sorted(set(np.asarray(level).tolist())))
        for k in self.levels:
            units = np.flatnonzero(np.asarray(level) == k)
            stride = MOUSE_LEVEL_STRIDES[k]
            windows = np.stack([_gaussian_window(SIZE // stride, np.asarray(centre[u]) / stride, sigma[u] / stride)
                                for u in units])
            _register(self, **{f"units{k}": torch.as_tensor(units), f"window{k}": _f32(windows).flatten(1)})
        _register(self, channels=torch.as_tensor(channels, dtype=torch.long), weights=_f32(weights))

    @property
    def n_latents(self) -> int:
        return self.channels.shape[0]

    def forward(self, levels: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Map the four levels of :class:`MouseHierarchy` to latents (batch, n_latents) >= 0."""
        drive = levels[0].new_zeros(levels[0].shape[0], self.n_latents)
        for k in self.levels:
            units, window = getattr(self, f"units{k}"), getattr(self, f"window{k}")
            pooled = levels[k].flatten(2) @ window.T  # (B, C, n_units)
            local = torch.arange(units.shape[0], device=units.device)
            for j in range(self.channels.shape[1]):
                drive[:, units] += self.weights[units, j] * pooled[:, self.channels[units, j], local]
        return drive ** self.exponent


class MixtureArea(nn.Module):
    """An area's neurons: sparse non-negative mixtures of the area's shared latent channels.

    ``rate = baseline + gain * (weights @ sat(z)) ** exponent`` with ``z = latents(inputs)`` the
    area's latent channels (batch, n_latents) and ``sat(z) = z / (1 + z / saturation)`` their
    soft saturation. Each neuron mixes a few latents with non-negative weights, so tuning is
    strongly correlated across the population and the rates lie close to an
    ``n_latents``-dimensional subspace (recorded populations are similarly low-dimensional,
    Stringer et al. 2019); the mild output exponent keeps them off it exactly. The saturation
    keeps a few stimuli (gratings that put all the image's energy into one channel) from
    dominating a neuron's variance. A uniform image gives ``z = 0``, so each neuron's rate is its
    ``baseline`` (spontaneous count).

    Parameters
    ----------
    latents : module mapping the area's input to latents (batch, n_latents) >= 0, with an
        ``n_latents`` attribute.
    weights : float array (n_neurons, n_latents), non-negative, sparse.
    exponent : float array (n_neurons,), output exponent of each neuron.
    gain, baseline : float arrays (n_neurons,), spike counts.
    saturation : latent value at which ``sat(z)`` is half of ``z`` (``inf``: no saturation).
    """

    def __init__(self, latents: nn.Module, weights, exponent, gain, baseline, *, saturation: float = float("inf")):
        super().__init__()
        self.latents = latents
        self.saturation = float(saturation)
        _register(self, weights=_f32(weights), exponent=_f32(exponent), gain=_f32(gain), baseline=_f32(baseline))

    def forward(self, inputs) -> torch.Tensor:
        """Map the area's input (what ``latents`` takes) to spike counts (batch, n_neurons)."""
        latents = self.latents(inputs)
        drive = (latents / (1.0 + latents / self.saturation)) @ self.weights.T
        return self.baseline + self.gain * drive ** self.exponent


class SimulatedCortex(nn.Module):
    """Noise-free mean spike counts of eight simulated visual areas.

    Parameters
    ----------
    seed : seed of every parameter (latent positions and channels, mixes, gains, baselines).

    Notes
    -----
    Submodules ``V1``, ``V2`` (80 units each), ``VISp``, ``VISl``, ``VISal``, ``VISrl``, ``VISam``,
    ``VISpm`` (50 units each) output (batch, n_neurons) spike counts >= 0, so forward hooks on
    them read every area from one :meth:`forward` call; each is a :class:`MixtureArea` whose
    ``latents`` submodule (e.g. ``V1.latents``) gives the area's latent channels. The shared
    stages are the submodules ``primate_bank``, ``mouse_bank`` and ``mouse_levels``. Rates to a
    uniform image equal each unit's ``baseline`` (its spontaneous count).

    Examples
    --------
    >>> model = SimulatedCortex(seed=0).eval()
    >>> rates = model.area_rates(torch.rand(2, 1, 64, 64))
    >>> tuple(rates["V1"].shape), tuple(rates["VISam"].shape)
    ((2, 80), (2, 50))
    >>> bool(all((r >= 0).all() for r in rates.values()))
    True
    """

    def __init__(self, seed: int = 0):
        super().__init__()
        self.seed = seed
        names = ("mouse_levels",) + AREAS
        rngs = dict(zip(names, map(np.random.default_rng, np.random.SeedSequence(seed).spawn(len(names)))))
        self.primate_bank = QuadratureBank(PRIMATE_WAVELENGTHS, radial_sigma=PRIMATE_RADIAL_SIGMA,
                                           angular_sigma=PRIMATE_ANGULAR_SIGMA, semi_saturation=SEMI_SATURATION)
        self.mouse_bank = QuadratureBank(MOUSE_WAVELENGTHS, radial_sigma=MOUSE_RADIAL_SIGMA,
                                         angular_sigma=MOUSE_ANGULAR_SIGMA, semi_saturation=SEMI_SATURATION,
                                         optics_sigma=MOUSE_OPTICS_SIGMA)
        self.mouse_levels = _build_mouse_hierarchy(self.mouse_bank.n_channels, rngs["mouse_levels"])
        self.V1 = _build_v1(rngs["V1"])
        self.V2 = _build_v2(rngs["V2"])
        self.VISp = _build_visp(rngs["VISp"])
        for area, spec in _MOUSE_SPECS.items():
            setattr(self, area, _build_mouse_area(area, spec, self.mouse_bank.n_channels, rngs[area]))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Compute every area; return the last one's counts (batch, 50) (``VISpm``)."""
        return self.area_rates(images)[AREAS[-1]]

    def area_rates(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Spike counts of every area, ``{area: tensor (batch, n_neurons)}`` in ``AREAS`` order.

        Parameters
        ----------
        images : tensor of shape (batch, 1 or 3, 64, 64), grayscale (or RGB, averaged) in [0, 1].
        """
        gray = _as_gray(images)
        primate = self.primate_bank(gray)
        mouse = self.mouse_bank(gray)
        levels = self.mouse_levels(mouse)
        rates = {"V1": self.V1(primate), "V2": self.V2(primate), "VISp": self.VISp(mouse)}
        rates.update({area: getattr(self, area)(levels) for area in _MOUSE_SPECS})
        return {area: rates[area] for area in AREAS}


def _as_gray(images: torch.Tensor) -> torch.Tensor:
    """(batch, 1 or 3, 64, 64) -> (batch, 1, 64, 64) float32; ValueError for other shapes."""
    if images.ndim != 4 or images.shape[1] not in (1, 3) or tuple(images.shape[-2:]) != (SIZE, SIZE):
        raise ValueError(f"SimulatedCortex expects (batch, 1 or 3, {SIZE}, {SIZE}) images, "
                         f"got shape {tuple(images.shape)}")
    return images.float().mean(dim=1, keepdim=True)


def _build_v1(rng: np.random.Generator) -> MixtureArea:
    """80 V1 neurons on 16 energy latents near the image centre: 30 % simple, 70 % complex
    (pooling sigma = wavelength / 2), the three wavelengths and a neuron's latents balanced as
    in :func:`_balanced` and :func:`_mixture_area` (one wavelength per neuron, as far as possible)."""
    k = _POPULATIONS["V1"].n_latents
    channel = _balanced(len(PRIMATE_WAVELENGTHS), k, rng) * N_ORIENTATIONS + rng.integers(0, N_ORIENTATIONS, k)
    wavelength = np.asarray(PRIMATE_WAVELENGTHS)[channel // N_ORIENTATIONS]
    simple = rng.random(k) < 0.3
    centres = SIZE / 2 + rng.normal(0.0, 3.0, (k, 2))
    window = np.stack([_lattice_window(c, 0.0 if s else V1_POOLING * w)
                       for c, s, w in zip(centres, simple, wavelength)])
    latents = EnergyReadout(channel, simple, rng.uniform(0, 2 * np.pi, k), window)
    return _mixture_area(latents, N_PRIMATE_NEURONS, _POPULATIONS["V1"], rng, groups=channel // N_ORIENTATIONS)


def _build_v2(rng: np.random.Generator) -> MixtureArea:
    """80 V2 neurons on 16 texture latents of the two finer scales, Gaussian windows of sigma
    4-7 px near the centre.

    Each latent's product pairs its channel with itself (30 %), a neighbouring orientation (40 %)
    or the other scale (30 %).
    """
    k = _POPULATIONS["V2"].n_latents
    scale = _balanced(V2_SCALES, k, rng)
    orientation = rng.integers(0, N_ORIENTATIONS, k)
    kind = rng.choice(["same", "orientation", "scale"], size=k, p=[0.3, 0.4, 0.3])
    partner_scale = np.where(kind == "scale", V2_SCALES - 1 - scale, scale)
    turn = np.where(kind == "orientation", rng.choice([-1, 1], k), 0)
    partner = partner_scale * N_ORIENTATIONS + (orientation + turn) % N_ORIENTATIONS
    centres = SIZE / 2 + rng.normal(0.0, 3.0, (k, 2))
    window = np.stack([_lattice_window(c, s) for c, s in zip(centres, rng.uniform(4.0, 7.0, k))])
    latents = TextureReadout(scale * N_ORIENTATIONS + orientation, partner, rng.uniform(0.0, 0.2, k), window)
    return _mixture_area(latents, N_PRIMATE_NEURONS, _POPULATIONS["V2"], rng, groups=scale)


def _build_visp(rng: np.random.Generator) -> MixtureArea:
    """50 VISp neurons on 14 energy latents of the mouse bank: 30 % simple, complex pooling
    sigma = 0.2 wavelength.

    Wavelengths 8, 16 and 32 px take shares 0.45, 0.4 and 0.15 of the latents.
    """
    k = _POPULATIONS["VISp"].n_latents
    scale = _balanced(len(MOUSE_WAVELENGTHS), k, rng, shares=(0.45, 0.4, 0.15))
    channel = scale * N_ORIENTATIONS + rng.integers(0, N_ORIENTATIONS, k)
    wavelength = np.asarray(MOUSE_WAVELENGTHS)[channel // N_ORIENTATIONS]
    simple = rng.random(k) < 0.3
    centres = SIZE / 2 + rng.normal(0.0, 6.0, (k, 2))
    window = np.stack([_lattice_window(c, 0.0 if s else 0.2 * w)
                       for c, s, w in zip(centres, simple, wavelength)])
    latents = EnergyReadout(channel, simple, rng.uniform(0, 2 * np.pi, k), window)
    return _mixture_area(latents, N_MOUSE_NEURONS, _POPULATIONS["VISp"], rng, groups=scale)


def _balanced(n_groups: int, n: int, rng: np.random.Generator, shares=None) -> np.ndarray:
    """``n`` group labels in random order, each group ``0..n_groups - 1`` appearing in proportion
    to ``shares`` (equal by default) as closely as rounding allows."""
    shares = np.full(n_groups, 1.0 / n_groups) if shares is None else np.asarray(shares, dtype=float)
    counts = np.floor(shares * n).astype(int)
    counts[np.argsort(counts - shares * n)[:n - counts.sum()]] += 1  # largest remainders first
    return rng.permutation(np.repeat(np.arange(n_groups), counts))


def _mixture_area(latents: nn.Module, n_neurons: int, population: _AreaPopulation, rng: np.random.Generator,
                  groups: np.ndarray | None = None) -> MixtureArea:
    """Neurons that each mix 1-3 distinct latents (``MIXTURE_SIZES``) with Dirichlet(2) weights;
    log-normal gains (log-sd ``GAIN_SIGMA``) and baselines (``BASELINE_SIGMA``).

    A neuron's first latent is drawn uniformly; with ``groups`` (one label per latent, e.g. its
    spatial scale) the others come from the first one's group, as far as it has enough.
    """
    groups = np.zeros(latents.n_latents, dtype=int) if groups is None else np.asarray(groups)
    weights = np.zeros((n_neurons, latents.n_latents))
    for row in weights:
        first = rng.integers(latents.n_latents)
        same = np.flatnonzero((groups == groups[first]) & (np.arange(latents.n_latents) != first))
        other = np.flatnonzero(groups != groups[first])
        n_more = rng.choice(MIXTURE_SIZES, p=MIXTURE_PROBABILITIES) - 1
        more = rng.permutation(same)[:n_more]
        more = np.concatenate([more, rng.permutation(other)[:n_more - len(more)]]).astype(int)
        inputs = np.concatenate([[first], more])
        row[inputs] = rng.dirichlet(np.full(len(inputs), 2.0))
    return MixtureArea(latents, weights, np.full(n_neurons, population.exponent),
                       gain=_lognormal(rng, population.gain, GAIN_SIGMA, n_neurons),
                       baseline=_lognormal(rng, population.baseline, BASELINE_SIGMA, n_neurons),
                       saturation=population.saturation)


def _build_mouse_hierarchy(n_channels: int, rng: np.random.Generator) -> MouseHierarchy:
    """Random level-1 partners (another channel) and sparse signed mixes for levels 2 and 3."""
    partner = (np.arange(n_channels) + rng.integers(1, n_channels, n_channels)) % n_channels
    mixes = np.stack([_sparse_mix(n_channels, rng) for _ in range(2)])
    return MouseHierarchy(partner, mixes)


def _sparse_mix(n_channels: int, rng: np.random.Generator) -> np.ndarray:
    """(channels, channels) mix: each output sums 3 inputs (weight 1/3) minus 2 others (weight 1/4)."""
    mix = np.zeros((n_channels, n_channels))
    for row in mix:
        inputs = rng.choice(n_channels, 5, replace=False)
        row[inputs[:3]], row[inputs[3:]] = 1 / 3, -1 / 4
    return mix


def _build_mouse_area(area: str, spec: _MouseAreaSpec, n_channels: int, rng: np.random.Generator) -> MixtureArea:
    """50 neurons on latents that read one of ``spec.levels`` through Gaussian windows around
    ``spec.readout_sigma``."""
    k = _POPULATIONS[area].n_latents
    level = np.asarray(spec.levels)[_balanced(len(spec.levels), k, rng)]
    channels = np.stack([rng.choice(n_channels, 2, replace=False) for _ in range(k)])
    weights = rng.dirichlet([2.0, 2.0], k)
    centres = SIZE / 2 + rng.normal(0.0, 6.0, (k, 2))
    sigma = spec.readout_sigma * rng.uniform(0.8, 1.25, k)
    latents = LevelReadout(level, channels, weights, centres, sigma, spec.exponent)
    return _mixture_area(latents, N_MOUSE_NEURONS, _POPULATIONS[area], rng, groups=level)


def _energy(quadrature: torch.Tensor) -> torch.Tensor:
    """|q|^2 of bank output (B, 2, C, n, n) -> (B, C, n, n)."""
    return quadrature[:, 0] * quadrature[:, 0] + quadrature[:, 1] * quadrature[:, 1]


def _read_channels(maps: torch.Tensor, window: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
    """Window-weighted sums of each unit's channel: maps (B, C, n, n) -> (B, n_units)."""
    flat = maps.flatten(2)
    out = maps.new_empty(maps.shape[0], channel.shape[0])
    for c in channel.unique():
        units = torch.nonzero(channel == c).flatten()
        out[:, units] = flat[:, c] @ window[units].T
    return out


def _normalise(maps: torch.Tensor) -> torch.Tensor:
    """Divide (B, C, n, n) maps by 0.05 + their per-image mean over channels and positions."""
    return maps / (0.05 + maps.mean(dim=(1, 2, 3), keepdim=True))


def _lattice_window(centre_px: np.ndarray, sigma_px: float) -> np.ndarray:
    """A window (32, 32) on the bank lattice: Gaussian, or the nearest point when sigma is 0."""
    stride = SIZE // LATTICE
    if sigma_px == 0.0:
        window = np.zeros((LATTICE, LATTICE))
        row, column = np.round(np.asarray(centre_px) / stride).astype(int) % LATTICE
        window[row, column] = 1.0
        return window
    return _gaussian_window(LATTICE, np.asarray(centre_px) / stride, sigma_px / stride)


def _gaussian_window(n: int, centre: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian (n, n) on an n-point torus at ``centre`` (row, column), summing to 1."""
    grid = np.arange(n)[None, :]
    offsets = (grid - np.asarray(centre, dtype=float)[:, None] + n / 2) % n - n / 2  # (2, n)
    window = np.exp(-(offsets[0][:, None] ** 2 + offsets[1][None, :] ** 2) / (2 * sigma ** 2))
    return window / window.sum()


def _pooling_matrix(n_in: int, n_out: int, sigma: float) -> np.ndarray:
    """(n_out, n_in) matrix: circular Gaussian blur (sigma in input samples), then block means."""
    offsets = (np.arange(n_in)[:, None] - np.arange(n_in)[None, :] + n_in / 2) % n_in - n_in / 2
    blur = np.exp(-offsets ** 2 / (2 * sigma ** 2))
    blur /= blur.sum(axis=1, keepdims=True)
    factor = n_in // n_out
    return blur.reshape(n_out, factor, n_in).mean(axis=1)


def _frequencies(n: int) -> tuple[np.ndarray, np.ndarray]:
    """FFT frequencies (cycles/px), fy and fx of shape (n, n)."""
    return np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")


def _gaussian_gain(n: int, sigma: float) -> np.ndarray:
    """Frequency response (n, n) of a circular Gaussian blur of ``sigma`` pixels."""
    fy, fx = _frequencies(n)
    return np.exp(-2 * (np.pi * sigma) ** 2 * (fx ** 2 + fy ** 2)).astype(np.float32)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _f32(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values), dtype=torch.float32)


def _register(module: nn.Module, **buffers: torch.Tensor) -> None:
    for name, value in buffers.items():
        module.register_buffer(name, value)


@register_model
def sim_oracle(seed: int = 0) -> ZooEntry:
    """Positive control: the simulator's own noise-free rates, one layer per simulated area."""
    return ZooEntry(module=SimulatedCortex(seed).eval(),
                    preprocessing=Preprocessing(input_size=64, mean=(0.0,), std=(1.0,), channels=1),
                    default_layers=AREAS,
                    description="positive control: the simulator's own noise-free rates")
