"""Simulated neural assemblies: noisy trials drawn from :class:`SimulatedCortex` rates.

Trial counts follow a modulated Poisson process (Goris, Movshon & Simoncelli 2014): on each
presentation a neuron fires ``Poisson(rate * G)`` spikes, where the gain ``G`` (mean 1) is
log-normal and combines a private fluctuation with one shared by all neurons of the same animal on
that presentation (neurons of one animal are recorded simultaneously). The variance is therefore
``rate + s^2 rate^2``: over-dispersed like cortical counts, with weak noise correlations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..models.zoo.simulated_cortex import AREAS, SimulatedCortex

__all__ = ["PRIMATE_AREAS", "simulate_assemblies", "simulated_rates"]

PRIMATE_AREAS = ("V1", "V2")
SHARED_GAIN_SIGMA = 0.15  # log-sd of the gain shared by one animal's neurons on a presentation
PRIVATE_GAIN_SIGMA = (0.2, 0.6)  # range of each neuron's private log-sd
_BATCH = 64


def simulate_assemblies(images: np.ndarray, metadata: pd.DataFrame, *, seed: int = 0, model_seed: int = 0,
                        n_repetitions_primate: int = 20, n_repetitions_mouse: int = 10,
                        n_animals_mouse: int = 3) -> dict[str, xr.DataArray]:
    """Draw one noisy assembly per simulated area.

    Parameters
    ----------
    images : ndarray of shape (n_stimuli, 64, 64), grayscale in [0, 1].
    metadata : pandas.DataFrame with one row per image, in image order, with a unique
        ``stimulus_id`` column; every column becomes a presentation coordinate.
    seed : seed of the trial noise and the presentation order (the only randomness here).
    model_seed : seed of the :class:`SimulatedCortex` that gives the noise-free rates.
    n_repetitions_primate, n_repetitions_mouse : repetitions of every stimulus.
    n_animals_mouse : mouse neurons of each area are split into this many animals (contiguous
        blocks of neuron index); animal ``k`` is the same mouse in every area and its neurons share
        the trial gain fluctuation. V1 and V2 come from one monkey.

    Returns
    -------
    dict mapping each area of ``AREAS`` to an xarray.DataArray
        dims (``presentation``, ``neuroid``), float32 spike counts, with
        ``n_stimuli * n_repetitions`` presentations: every repetition shows all stimuli, each
        repetition in its own random order. Plain (non-index) coordinates: on ``presentation``
        ``stimulus_id``, ``repetition`` and every other metadata column; on ``neuroid``
        ``neuroid_id`` (e.g. ``V1-n007``), ``region`` and ``animal``. Attributes ``identifier``
        (``sim.<area>``), ``seed``, ``model_seed``, ``species`` and ``unit``.

    Examples
    --------
    >>> from brainalign.stimuli.procedural import grating
    >>> images = np.stack([0.5 + 0.4 * grating(64, o, 8, 0.0) for o in (0, 45, 90)]).astype("float32")
    >>> metadata = pd.DataFrame({"stimulus_id": ["g0", "g45", "g90"]})
    >>> assemblies = simulate_assemblies(images, metadata, n_repetitions_primate=2, n_repetitions_mouse=2)
    >>> assemblies["V1"].sizes["presentation"], assemblies["V1"].sizes["neuroid"]
    (6, 80)
    """
    _check_inputs(images, metadata)
    rates = simulated_rates(images, model_seed=model_seed)
    rng = np.random.default_rng(seed)
    shared = {}  # (animal, n_repetitions) -> shared log-gain (n_repetitions, n_stimuli)
    assemblies = {}
    for area in AREAS:
        primate = area in PRIMATE_AREAS
        n_repetitions = n_repetitions_primate if primate else n_repetitions_mouse
        animals = _animals(rates[area].shape[1], 1 if primate else n_animals_mouse,
                           "monkey" if primate else "mouse")
        for animal in np.unique(animals):
            if (animal, n_repetitions) not in shared:
                shared[animal, n_repetitions] = SHARED_GAIN_SIGMA * rng.standard_normal((n_repetitions, len(images)))
        log_shared = np.stack([shared[a, n_repetitions] for a in animals], axis=-1)
        counts = _modulated_poisson(rates[area], log_shared, rng)
        order = np.stack([rng.permutation(len(images)) for _ in range(n_repetitions)])
        assemblies[area] = _assembly(counts, order, metadata, area, animals, seed=seed, model_seed=model_seed,
                                     species="macaque" if primate else "mouse")
    return assemblies


def simulated_rates(images: np.ndarray, *, model_seed: int = 0) -> dict[str, np.ndarray]:
    """Noise-free mean spike counts of every area, ``{area: ndarray (n_stimuli, n_neurons)}``.

    Parameters
    ----------
    images : ndarray of shape (n_stimuli, 64, 64), grayscale in [0, 1].
    model_seed : seed of the :class:`SimulatedCortex`.
    """
    model = SimulatedCortex(model_seed).eval()
    batches = []
    with torch.no_grad():
        for start in range(0, len(images), _BATCH):
            batch = torch.as_tensor(np.asarray(images[start:start + _BATCH], dtype=np.float32))[:, None]
            batches.append(model.area_rates(batch))
    return {area: torch.cat([b[area] for b in batches]).double().numpy() for area in AREAS}


def _check_inputs(images: np.ndarray, metadata: pd.DataFrame) -> None:
    if np.ndim(images) != 3:
        raise ValueError(f"images must have shape (n_stimuli, 64, 64), got {np.shape(images)}")
    if len(metadata) != len(images):
        raise ValueError(f"{len(images)} images but {len(metadata)} metadata rows")
    if "stimulus_id" not in metadata or not metadata["stimulus_id"].is_unique:
        raise ValueError("metadata needs a unique 'stimulus_id' column")


def _animals(n_neurons: int, n_animals: int, prefix: str) -> np.ndarray:
    """Animal label of each neuron: contiguous, near-equal blocks ``prefix1``, ``prefix2``..."""
    blocks = np.array_split(np.arange(n_neurons), n_animals)
    labels = np.empty(n_neurons, dtype=object)
    for k, block in enumerate(blocks):
        labels[block] = f"{prefix}{k + 1}"
    return labels.astype(str)


def _modulated_poisson(rates: np.ndarray, log_shared: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Counts (n_repetitions, n_stimuli, n_neurons) ~ Poisson(rates * G), G log-normal with mean 1.

    Parameters
    ----------
    rates : ndarray (n_stimuli, n_neurons), noise-free mean counts.
    log_shared : ndarray (n_repetitions, n_stimuli, n_neurons), each neuron's shared log-gain.
    rng : generator for the private gains and the Poisson draws.
    """
    n_neurons = rates.shape[1]
    private_sigma = rng.uniform(*PRIVATE_GAIN_SIGMA, n_neurons)
    log_gain = log_shared + private_sigma * rng.standard_normal(log_shared.shape)
    log_gain -= (SHARED_GAIN_SIGMA ** 2 + private_sigma ** 2) / 2  # E[G] = 1
    return rng.poisson(rates[None] * np.exp(log_gain))


def _assembly(counts: np.ndarray, order: np.ndarray, metadata: pd.DataFrame, area: str, animals: np.ndarray,
              *, seed: int, model_seed: int, species: str) -> xr.DataArray:
    """Flatten (repetition, stimulus, neuron) counts into a presentation x neuroid DataArray.

    ``order[r]`` lists the stimulus indices of repetition ``r`` in presentation order.
    """
    n_repetitions, _, n_neurons = counts.shape
    repetition = np.repeat(np.arange(n_repetitions), order.shape[1])
    stimulus = order.ravel()
    values = counts[repetition, stimulus].astype(np.float32)
    presentation = {column: ("presentation", _column_values(metadata[column], stimulus)) for column in metadata}
    presentation["repetition"] = ("presentation", repetition)
    neuroid = {"neuroid_id": ("neuroid", np.array([f"{area}-n{i:03d}" for i in range(n_neurons)])),
               "region": ("neuroid", np.full(n_neurons, area)),
               "animal": ("neuroid", animals)}
    return xr.DataArray(values, dims=("presentation", "neuroid"), coords={**presentation, **neuroid},
                        attrs={"identifier": f"sim.{area}", "seed": seed, "model_seed": model_seed,
                               "species": species, "unit": "spike count"})


def _column_values(column: pd.Series, index: np.ndarray) -> np.ndarray:
    """A metadata column's values at ``index``; text columns become str arrays."""
    values = column.to_numpy()[index]
    return values.astype(str) if values.dtype == object else values
