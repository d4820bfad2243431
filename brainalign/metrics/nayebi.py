"""The ``nayebi2023`` protocol: noise-corrected PLS predictivity and inter-animal consistency.

Notes
-----
What the reference code does (public repositories of the Nayebi et al. 2023 lab:
``mouse_vision/reliability/metrics.py`` ``noise_estimation`` in mode
``spearman_brown_split_half_denominator``, the neural map ``PLSNeuralMap`` and
``generate_train_test_splits``), reproduced here:

- image splits: for split ``s`` in ``0..n_splits-1``, ``RandomState(s).permutation(n_images)``;
  the first ``ceil(train_frac * n_images)`` images train the map, the rest test it;
- trial halves: for half ``i`` in ``0..n_halves-1`` a fresh ``RandomState(i)`` shuffles the
  list ``range(n_trials)`` of the *target* (and then, with the same generator, of a neural
  source); the first ``n_trials // 2`` form half 1, the rest half 2; the same halves for every
  image and every image split. Halves are averaged with ``nanmean``;
- maps: ``PLSRegression(25, scale=False)`` fit jointly over the target units, ``F1`` on
  (source half 1 -> target half 1) and ``F2`` on (source half 2 -> target half 2) of the train
  images (model features are the same in both halves);
- per unit, split and half::

      s = r(F1(X_test), T2_test) / sqrt(SB(r(F1(X_test), F2(X_test))) * SB(r(T1_test, T2_test)))

  with ``SB(r) = 2r / (1 + r)``; a negative product under the root gives NaN;
- per unit: the mean over splits x halves, skipping NaN (``nanmean``); summary: the median over
  units (skipping units that are NaN everywhere).

The PLS fits run in kernel form (:func:`.pls.kernel_cv_pls_predict`), all halves of an image
split in one batch; predictions equal scikit-learn's to round-off.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from brainalign.errors import DataError, InputError
from brainalign.metrics.correlation import spearman_brown
from brainalign.metrics.pls import kernel_cv_pls_predict, linear_kernel

__all__ = ["NoiseCorrectedResult", "interanimal_consistency", "nayebi_image_splits",
           "noise_corrected_predictivity", "noise_corrected_rsa", "trial_halves"]


@dataclass(frozen=True)
class NoiseCorrectedResult:
    """Result of :func:`noise_corrected_predictivity` / :func:`interanimal_consistency`.

    Attributes
    ----------
    score : float
        Median over units of ``per_unit`` (NaN units skipped).
    per_unit : ndarray of shape (n_units,)
        Noise-corrected consistency of each unit, mean over splits x halves (NaN skipped).
    per_split : ndarray of shape (n_splits,)
        Median over units of the per-unit mean over halves, per image split.
    values : ndarray of shape (n_splits, n_halves, n_units)
        The per-split, per-half, per-unit values (NaN where the denominator is negative or a
        correlation is undefined).
    n_nan_units : int
        Units whose value is NaN in every split and half (left out of the median).
    n_components : int or None
        PLS components used (the inter-animal ceiling caps them at the source's unit count).
    """

    score: float
    per_unit: np.ndarray
    per_split: np.ndarray
    values: np.ndarray
    n_nan_units: int
    n_components: int | None = None


def nayebi_image_splits(n_images, *, n_splits=10, train_frac=0.5, start_seed=0):
    """Image train/test splits: split ``s`` permutes the images with ``RandomState(s)``.

    Parameters
    ----------
    n_images : int
        Number of images.
    n_splits : int, default=10
    train_frac : float, default=0.5
        The first ``ceil(train_frac * n_images)`` permuted images are the train set.
    start_seed : int, default=0
        Seed of the first split; split ``s`` uses ``start_seed + s``.

    Returns
    -------
    splits : list of (ndarray, ndarray)
        ``(train_idx, test_idx)`` pairs.

    Examples
    --------
    >>> [(len(a), len(b)) for a, b in nayebi_image_splits(118, n_splits=2)]
    [(59, 59), (59, 59)]
    """
    n_train = int(math.ceil(train_frac * n_images))
    if n_train < 2 or n_images - n_train < 3:
        raise DataError(f"{n_images} images with train_frac={train_frac} give {n_train} train and "
                        f"{n_images - n_train} test images; the protocol needs at least 2 and 3",
                        hint="use more images")
    splits = []
    for seed in range(start_seed, start_seed + n_splits):
        order = np.random.RandomState(seed).permutation(n_images)
        splits.append((order[:n_train], order[n_train:]))
    return splits


def trial_halves(n_trials, *, n_halves=100, n_source_trials=None):
    """Random trial split-halves: half ``i`` shuffles ``range(n_trials)`` with ``RandomState(i)``.

    Parameters
    ----------
    n_trials : int
        Trials of the target.
    n_halves : int, default=100
    n_source_trials : int, default=None
        Trials of a neural source, shuffled next with the same generator (as the reference does).

    Returns
    -------
    halves : list of tuples
        ``(first, second)`` index arrays of the target, followed by ``(source_first,
        source_second)`` when ``n_source_trials`` is given.

    Examples
    --------
    >>> first, second = trial_halves(5, n_halves=1)[0]
    >>> len(first), len(second)
    (2, 3)
    """
    if n_trials < 2:
        raise DataError(f"trial split-halves need at least 2 trials, got {n_trials}",
                        hint="the nayebi2023 protocol needs single-trial responses (not averaged)")
    halves = []
    for seed in range(n_halves):
        rng = np.random.RandomState(seed)
        pair = ()
        for count in (n_trials,) if n_source_trials is None else (n_trials, n_source_trials):
            order = list(range(count))
            rng.shuffle(order)
            pair += (np.array(order[:count // 2]), np.array(order[count // 2:]))
        halves.append(pair)
    return halves


def noise_corrected_predictivity(features, trials, *, n_components=25, n_splits=10, train_frac=0.5,
                                 n_halves=100, backend="numpy"):
    """Noise-corrected PLS predictivity of single-trial responses from model features.

    Parameters
    ----------
    features : array-like of shape (n_images, n_features)
        Model features (the same in both trial halves).
    trials : array-like of shape (n_trials, n_images, n_units)
        Single-trial responses; NaN marks a missing trial.
    n_components : int, default=25
    n_splits : int, default=10
        Image splits (:func:`nayebi_image_splits`).
    train_frac : float, default=0.5
    n_halves : int, default=100
        Trial split-halves per image split (:func:`trial_halves`).
    backend : {"numpy", "torch"}, default="numpy"
        Where the PLS fits run (:func:`.pls.kernel_cv_pls_predict`); the same numbers.

    Returns
    -------
    result : NoiseCorrectedResult

    Raises
    ------
    DataError
        On NaN features, mismatched image counts, fewer than 2 trials, or too few images.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))  # the true features of the rates
    >>> rates = X @ rng.standard_normal((5, 12))
    >>> trials = rates + 2.0 * rng.standard_normal((10, 60, 12))
    >>> result = noise_corrected_predictivity(X, trials, n_components=5, n_splits=2, n_halves=4)
    >>> round(result.score, 2)
    0.95
    """
    features = np.asarray(features)
    trials = _check_trials(trials, name="trials")
    if features.ndim != 2 or features.shape[0] != trials.shape[1]:
        raise DataError(f"features of shape {features.shape} do not match {trials.shape[1]} images "
                        "of the trials", hint="pass features (n_images, n_features) in trial image order")
    if not np.isfinite(features).all():
        raise DataError("the features contain NaN or infinite values")
    _check_components(n_components, features.shape[1])
    gram = linear_kernel(features)
    halves = trial_halves(trials.shape[0], n_halves=n_halves)
    splits = nayebi_image_splits(trials.shape[1], n_splits=n_splits, train_frac=train_frac)
    first = np.stack([_nanmean(trials[a]) for a, _ in halves])   # (n_halves, n_images, n_units)
    second = np.stack([_nanmean(trials[b]) for _, b in halves])
    if np.isnan(first).any() or np.isnan(second).any():
        raise DataError("a unit has no trial of some image in a trial half (too many missing trials)",
                        hint="drop images or units with fewer than 2 valid trials")
    values = np.empty((len(splits), n_halves, trials.shape[2]))
    for s, (train, test) in enumerate(splits):
        predictions = kernel_cv_pls_predict(gram, np.concatenate([first, second]),
                                            [(train, test)] * (2 * n_halves), n_components=n_components,
                                            backend=backend)
        p1, p2 = np.stack(predictions[:n_halves]), np.stack(predictions[n_halves:])
        values[s] = _corrected(p1, p2, first[:, test], second[:, test])
    return _summarise(values)


def interanimal_consistency(trials_by_animal, *, n_components=25, n_splits=10, train_frac=0.5,
                            n_halves=100, min_unit_percentile=75.0, backend="numpy"):
    """Inter-animal consistency ("holdout"): the other animals' pooled units predict each animal.

    Parameters
    ----------
    trials_by_animal : dict of str -> array-like of shape (n_trials, n_images, n_units)
        Single-trial responses of one area, per animal, to the same images in the same order
        (trial counts may differ; NaN marks a missing trial).
    n_components, n_splits, train_frac, n_halves
        As in :func:`noise_corrected_predictivity`; the source is the other animals' units,
        trial-halved too (their half drawn after the target's, with the same generator).
        A pool with fewer units than ``n_components`` is fit with as many components as units
        (scikit-learn refuses more), which the result's ``n_components`` records.
    min_unit_percentile : float, default=75
        Only animals with at least this percentile of the unit counts take part (as target and
        as source).
    backend : {"numpy", "torch"}, default="numpy"
        Where the PLS fits run.

    Returns
    -------
    result : NoiseCorrectedResult
        ``per_unit`` and ``values`` hold the units of every held-out animal, in animal order.
    animals : list of str
        The animals that took part.

    Raises
    ------
    DataError
        If fewer than 2 animals remain, or their image counts differ.
    """
    arrays = {name: _check_trials(value, name=f"trials of animal {name!r}")
              for name, value in trials_by_animal.items()}
    counts = np.array([a.shape[2] for a in arrays.values()])
    if len(counts) == 0:
        raise DataError("no animals given")
    threshold = np.percentile(counts, min_unit_percentile)
    animals = [name for name, a in arrays.items() if a.shape[2] >= threshold]
    if len(animals) < 2:
        raise DataError(f"inter-animal consistency needs at least 2 animals with >= {threshold:g} units "
                        f"(the {min_unit_percentile:g}th percentile); {len(animals)} qualify",
                        hint="lower min_unit_percentile or add animals")
    if len({arrays[a].shape[1] for a in animals}) != 1:
        raise DataError("the animals' responses cover different numbers of images",
                        hint="align every animal to the same images first")
    n_images = arrays[animals[0]].shape[1]
    splits = nayebi_image_splits(n_images, n_splits=n_splits, train_frac=train_frac)
    parts, used = [], []
    for target_name in animals:
        target = arrays[target_name]
        source = _pool([arrays[a] for a in animals if a != target_name])
        _check_components(n_components, n_components)
        components = min(n_components, source.shape[2], int(math.ceil(train_frac * n_images)))
        used.append(components)
        halves = trial_halves(target.shape[0], n_halves=n_halves, n_source_trials=source.shape[0])
        values = np.empty((len(splits), n_halves, target.shape[2]))
        for h, (t1, t2, s1, s2) in enumerate(halves):
            T1, T2 = _nanmean(target[t1]), _nanmean(target[t2])
            S1, S2 = (np.nan_to_num(_nanmean(source[i])) for i in (s1, s2))
            p1, p2 = (_cv_predict(S, T, splits, components, backend) for S, T in ((S1, T1), (S2, T2)))
            for s, (_, test) in enumerate(splits):
                values[s, h] = _corrected(p1[s][None], p2[s][None], T1[None, test], T2[None, test])[0]
        parts.append(values)
    result = _summarise(np.concatenate(parts, axis=2))
    return dataclasses.replace(result, n_components=min(used)), animals


def _cv_predict(source, target, splits, n_components, backend="numpy"):
    """Held-out PLS predictions per split; least squares when the components span the source.

    PLS with as many components as the centred source has columns (and rank) spans its whole
    column space, so its fit is the (minimum-norm) least-squares fit: identical predictions,
    without the power iterations.
    """
    if n_components < source.shape[1]:
        return kernel_cv_pls_predict(linear_kernel(source), target, splits, n_components=n_components,
                                     backend=backend)
    predictions = []
    for train, test in splits:
        x_mean, y_mean = source[train].mean(axis=0), target[train].mean(axis=0)
        coef = np.linalg.lstsq(source[train] - x_mean, target[train] - y_mean, rcond=None)[0]
        predictions.append((source[test] - x_mean) @ coef + y_mean)
    return predictions


def noise_corrected_rsa(features, trials, *, n_halves=100):
    """RSA variant: Pearson r of RDM upper triangles, divided by ``sqrt(SB(RSA(T1, T2)))``.

    Parameters
    ----------
    features : array-like of shape (n_images, n_features)
    trials : array-like of shape (n_trials, n_images, n_units)

    Returns
    -------
    score : float
        Mean over halves of ``RSA(features, T2) / sqrt(SB(RSA(T1, T2)))`` (NaN halves skipped).
    per_half : ndarray of shape (n_halves,)

    Notes
    -----
    RDM = 1 - Pearson r between images across units (or features); the map is the identity,
    so the model's own split-half term is 1.
    """
    features = np.asarray(features, dtype=np.float64)
    trials = _check_trials(trials, name="trials")
    upper = np.triu_indices(trials.shape[1], k=1)
    model = _rdm(features)[upper]
    per_half = np.empty(n_halves)
    for h, (a, b) in enumerate(trial_halves(trials.shape[0], n_halves=n_halves)):
        t1, t2 = _rdm(_nanmean(trials[a]))[upper], _rdm(_nanmean(trials[b]))[upper]
        with np.errstate(invalid="ignore"):
            per_half[h] = np.corrcoef(model, t2)[0, 1] / np.sqrt(spearman_brown(np.corrcoef(t1, t2)[0, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(per_half)), per_half


def _rdm(responses):
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - np.corrcoef(responses)


def _corrected(p1, p2, t1, t2):
    """The per-unit formula for stacked halves: all arrays (n_halves, n_test, n_units)."""
    numerator = _pearson(p1, t2)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = np.sqrt(spearman_brown(_pearson(p1, p2)) * spearman_brown(_pearson(t1, t2)))
        return numerator / denominator


def _pearson(a, b):
    """Pearson r along axis -2 (stimuli) for each (..., unit); NaN where a column is constant."""
    a = a - a.mean(axis=-2, keepdims=True)
    b = b - b.mean(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=-2) / np.sqrt((a * a).sum(axis=-2) * (b * b).sum(axis=-2))
    return np.clip(r, -1.0, 1.0)


def _summarise(values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_unit = np.nanmean(values, axis=(0, 1))
        per_split = np.nanmedian(np.nanmean(values, axis=1), axis=1)
        n_nan = int(np.isnan(per_unit).sum())
        if n_nan == len(per_unit):
            raise DataError("no unit has a defined noise-corrected score (negative split-half "
                            "reliabilities or constant responses everywhere)",
                            hint="check that the units respond reliably across trials")
        score = float(np.nanmedian(per_unit))
    return NoiseCorrectedResult(score=score, per_unit=per_unit, per_split=per_split, values=values,
                                n_nan_units=n_nan)


def _nanmean(array):
    """Mean over trials (axis 0) skipping NaN; the plain mean when there is none (faster)."""
    if not np.isnan(array).any():
        return array.mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(array, axis=0)


def _pool(arrays):
    """Concatenate units of animals, padding missing trials with NaN."""
    n_trials = max(a.shape[0] for a in arrays)
    padded = [np.concatenate([a, np.full((n_trials - a.shape[0],) + a.shape[1:], np.nan)]) for a in arrays]
    return np.concatenate(padded, axis=2)


def _check_trials(trials, *, name):
    trials = np.asarray(trials, dtype=np.float64)
    if trials.ndim != 3:
        raise DataError(f"{name} must be 3-D (n_trials, n_images, n_units), got shape {trials.shape}")
    if trials.shape[0] < 2:
        raise DataError(f"{name} have {trials.shape[0]} trial(s); the split-half correction needs at least 2",
                        hint="load single-trial responses, not trial averages")
    if np.isinf(trials).any():
        raise DataError(f"{name} contain infinite values", hint="mark missing trials with NaN")
    return trials


def _check_components(n_components, n_features):
    if not isinstance(n_components, int) or not 1 <= n_components <= n_features:
        raise InputError(f"n_components must be an integer from 1 to the number of source features "
                         f"({n_features}), got {n_components!r}")
