"""V2 texture selectivity (Freeman et al. 2013; Marques et al. 2020) and binned-KS distribution similarity.

Responses are arranged as (n_families, n_samples, n_units): the same layout for recorded neurons
(repetition-averaged) and for model units. Each unit's baseline (its response to a blank screen)
is subtracted and negative values are set to 0 before any property is computed.

- texture modulation index: MI_f = (T_f - N_f) / (T_f + N_f) for each family's mean texture
  response T_f and noise response N_f; the unit's MI is the mean over families where
  T_f + N_f > 0 (NaN when none).
- sparseness of n responses R: (1 - (sum R / n)^2 / (sum R^2 / n)) / (1 - 1/n); NaN when all are 0.
- variance ratio (Marques et al. 2020): a nested ANOVA of the texture responses into
  across-family and across-sample (within family) variance,
  ((family / total) + 0.02) / ((sample / total) + 0.02).
- binned KS similarity of two histograms p (model) and q (data): 1 - KS / KS_max, KS the largest
  gap between their cumulative sums and KS_max the largest such gap any histogram can have from q.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainalign.errors import DataError

#: Histogram bins of each property (Marques et al. 2020; METHODS.md for the modulation index).
PROPERTY_BINS = {
    "texture_modulation_index": np.linspace(-1, 1, 25),
    "texture_sparseness": np.linspace(0, 1, 11),
    "variance_ratio": np.logspace(-2, 1, 13),
}
VARIANCE_RATIO_OFFSET = 0.02


def _check_responses(responses, name: str = "responses", ndim: int = 3) -> np.ndarray:
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim != ndim:
        raise DataError(f"{name} must have {ndim} dimensions, got shape {responses.shape}")
    if not np.isfinite(responses).all():
        raise DataError(f"{name} contain NaN or infinite values", hint="average repetitions with NaN removed first")
    return responses


def rectify_baseline(responses, baseline=0.0) -> np.ndarray:
    """``responses`` (..., n_units) minus ``baseline`` (n_units,) with negatives set to 0."""
    responses = _check_responses(responses, ndim=np.ndim(responses))
    baseline = np.asarray(baseline, dtype=np.float64)
    if not np.isfinite(baseline).all():
        raise DataError("baseline contains NaN or infinite values")
    return np.maximum(responses - baseline, 0.0)


def texture_modulation_index(texture, noise) -> np.ndarray:
    """Per-unit texture modulation index.

    Parameters
    ----------
    texture, noise : arrays of shape (n_families, n_samples, n_units)
        Baseline-subtracted, rectified responses (see :func:`rectify_baseline`) to each family's
        texture samples and their spectrally matched noise samples.

    Returns
    -------
    ndarray of shape (n_units,), in [-1, 1]; NaN for a unit silent to every family.

    Examples
    --------
    >>> t = np.array([[[3.0]], [[1.0]]]); n = np.array([[[1.0]], [[1.0]]])
    >>> texture_modulation_index(t, n).tolist()  # families: (3-1)/(3+1) = 0.5 and 0
    [0.25]
    """
    texture, noise = _check_responses(texture, "texture"), _check_responses(noise, "noise")
    if texture.shape != noise.shape:
        raise DataError(f"texture and noise responses differ in shape: {texture.shape} vs {noise.shape}")
    t, n = texture.mean(axis=1), noise.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_family = np.where(t + n > 0, (t - n) / (t + n), np.nan)
    valid = np.isfinite(per_family)
    counts = valid.sum(axis=0)
    total = np.where(valid, per_family, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / counts, np.nan)


def sparseness(responses) -> np.ndarray:
    """Per-unit sparseness over stimuli of ``responses`` (n_stimuli, n_units); NaN for an all-zero unit.

    Examples
    --------
    >>> sparseness(np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])).round(6).tolist()
    [1.0, 0.0]
    """
    responses = _check_responses(responses, ndim=2)
    n = responses.shape[0]
    if n < 2:
        raise DataError(f"sparseness needs at least 2 stimuli, got {n}")
    mean, mean_square = responses.mean(axis=0), (responses ** 2).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean_square > 0, (1 - mean ** 2 / mean_square) / (1 - 1 / n), np.nan)


def variance_ratio(texture) -> np.ndarray:
    """Per-unit ratio of across-family to across-sample variance of texture responses.

    Parameters
    ----------
    texture : array of shape (n_families, n_samples, n_units), n_families >= 2, n_samples >= 2.

    Returns
    -------
    ndarray of shape (n_units,): ((family / total) + 0.02) / ((sample / total) + 0.02) with the
    variance components of a one-way nested ANOVA, sample = mean square within families and
    family = (mean square between families - sample) / n_samples; NaN when total is 0.
    """
    texture = _check_responses(texture, "texture")
    a, b = texture.shape[:2]
    if a < 2 or b < 2:
        raise DataError(f"the variance ratio needs at least 2 families and 2 samples, got {a} x {b}")
    family_mean = texture.mean(axis=1)
    sample_ms = ((texture - family_mean[:, None]) ** 2).sum(axis=(0, 1)) / (a * (b - 1))
    family_ms = b * ((family_mean - family_mean.mean(axis=0)) ** 2).sum(axis=0) / (a - 1)
    sample_var, family_var = sample_ms, (family_ms - sample_ms) / b
    total = sample_var + family_var
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (family_var / total + VARIANCE_RATIO_OFFSET) / (sample_var / total + VARIANCE_RATIO_OFFSET)
    return np.where(total > 0, ratio, np.nan)


def texture_properties(texture, noise, baseline=0.0) -> dict[str, np.ndarray]:
    """Every property of :data:`PROPERTY_BINS` per unit, from raw responses and baselines.

    Parameters
    ----------
    texture, noise : arrays of shape (n_families, n_samples, n_units), raw responses.
    baseline : array of shape (n_units,) or scalar, each unit's response to a blank screen.

    Returns
    -------
    dict ``{property: ndarray (n_units,)}`` (NaN for units where a property is undefined).
    """
    texture, noise = rectify_baseline(texture, baseline), rectify_baseline(noise, baseline)
    return {"texture_modulation_index": texture_modulation_index(texture, noise),
            "texture_sparseness": sparseness(texture.reshape(-1, texture.shape[-1])),
            "variance_ratio": variance_ratio(texture)}


def ks_similarity(p, q) -> np.ndarray:
    """Binned KS similarity 1 - KS / KS_max of histograms ``p`` (..., n_bins) against ``q`` (n_bins,).

    Examples
    --------
    >>> float(ks_similarity(np.array([0.5, 0.5]), np.array([0.5, 0.5])))
    1.0
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    cq = np.cumsum(q)
    ks = np.abs(np.cumsum(p, axis=-1) - cq).max(axis=-1)
    first = np.abs(1.0 - cq).max()                  # all mass in the first bin
    last = np.abs(np.r_[np.zeros(len(q) - 1), 1.0] - cq).max()  # all mass in the last bin
    return 1.0 - ks / max(first, last)


def _histograms(samples: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Normalised histograms of each row of ``samples`` (n_rows, n), values already clipped to the bin range."""
    index = np.clip(np.searchsorted(bins, samples, side="right") - 1, 0, len(bins) - 2)
    n_bins = len(bins) - 1
    flat = index + n_bins * np.arange(samples.shape[0])[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_bins * samples.shape[0]).reshape(samples.shape[0], n_bins)
    return counts / samples.shape[1]


@dataclass(frozen=True)
class DistributionSimilarity:
    """Bootstrap binned-KS similarity of a model's property distribution to the data's."""

    center: float            # mean over bootstrap samples
    error: float             # std over bootstrap samples
    samples: np.ndarray      # (n_bootstrap,)
    n_model: int             # model units with a defined property
    n_data: int              # neurons with a defined property


def distribution_similarity(model_values, data_values, bins, *, n_bootstrap: int = 1000,
                            seed: int = 0) -> DistributionSimilarity:
    """Compare the distribution of a property over model units with its distribution over neurons.

    Values outside the bins are clipped into the first / last bin. Each bootstrap sample draws as
    many model units (with replacement) as there are neurons, bins them and computes
    :func:`ks_similarity` against the neurons' histogram (Marques et al. 2020). NaN values (units
    where the property is undefined) are dropped first. Called with the data on both sides, this is
    the data's self-consistency, used as the ceiling.

    Parameters
    ----------
    model_values : array of shape (n_units,).
    data_values : array of shape (n_neurons,).
    bins : increasing bin edges.
    n_bootstrap : number of bootstrap samples.
    seed : seed of the bootstrap draws.
    """
    bins = np.asarray(bins, dtype=np.float64)
    model = np.asarray(model_values, dtype=np.float64)
    data = np.asarray(data_values, dtype=np.float64)
    model, data = model[np.isfinite(model)], data[np.isfinite(data)]
    if len(data) < 2:
        raise DataError(f"only {len(data)} neurons have a defined value of this property; need at least 2")
    if len(model) == 0:
        raise DataError("no model unit has a defined value of this property (all units silent?)",
                        hint="try another layer")
    model, data = np.clip(model, bins[0], bins[-1]), np.clip(data, bins[0], bins[-1])
    data_hist = _histograms(data[None], bins)[0]
    rng = np.random.default_rng(seed)
    draws = model[rng.integers(0, len(model), size=(n_bootstrap, len(data)))]
    values = ks_similarity(_histograms(draws, bins), data_hist)
    return DistributionSimilarity(center=float(values.mean()), error=float(values.std()), samples=values,
                                  n_model=len(model), n_data=len(data))
