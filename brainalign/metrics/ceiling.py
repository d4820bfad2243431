"""Split-half internal consistency of repeated recordings (Brain-Score's neural ceiling).

Notes
-----
What Brain-Score (public repository brain-score/vision) does, read from
``brainscore_vision/metrics/internal_consistency/ceiling.py`` (``InternalConsistency``,
``_SplitHalvesConsistency``, ``SpearmanBrownCorrection``) and
``metric_helpers/transformations.py`` (``CrossValidationSingle``, ``Split``):

- The ceiling is computed on the assembly *with* repetitions. ``CrossValidationSingle`` splits
  over ``repetition`` with ``train_size=0.5``, ``test_size=None``, no stratification,
  ``unique_split_values=True`` (indices into ``np.unique`` of the repetition values, i.e.
  sorted) and ``random_state=1``, 10 splits: ``ShuffleSplit(10, train_size=0.5,
  random_state=1)``. With an odd number of repetitions the first half is the smaller one.
- ``SplitHalfWrapper`` averages the repetitions within each half (xarray ``mean``, which skips
  NaN), computes Pearson r per neuroid across stimuli (``scipy.stats.pearsonr`` after sorting
  both halves by ``stimulus_id``), then applies Spearman-Brown ``2r / (1 + r)`` to each
  neuroid's r.
- So the correction comes *before* the aggregation: per split the median over neuroids of the
  corrected values (``PearsonCorrelation.aggregate``), then the mean over splits (and the error
  std over splits / sqrt(n_splits), ddof 0, ``Split.aggregate``). Per-neuroid ceilings, where
  Brain-Score uses them (``neuroid_wise_explained_var``), are the corrected values averaged
  over splits.

Missing repetitions: in Brain-Score a stimulus missing from a whole half gives NaN for the
whole neuroid (``pearsonr`` propagates NaN). Here such a stimulus is dropped from that
neuroid's correlation in that split instead (pairwise-complete), which keeps the neuroid.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from brainalign.errors import DataError
from brainalign.metrics.correlation import pearson_columns, spearman_brown
from brainalign.metrics.splits import brainscore_aggregate, shuffle_split, shuffle_split_sizes

__all__ = ["SplitHalfCeiling", "spearman_brown_split_half", "split_half_means"]


@dataclass(frozen=True)
class SplitHalfCeiling:
    """Result of :func:`spearman_brown_split_half`.

    Attributes
    ----------
    ceiling : float
        Mean over splits of the median over neuroids of the corrected split-half r.
    error : float
        Standard deviation (ddof 0) of ``per_split`` divided by ``sqrt(n_splits)``.
    per_split : ndarray of shape (n_splits,)
        Median over neuroids of the corrected r, per split.
    per_neuroid : ndarray of shape (n_neuroids,)
        Corrected r of each neuroid averaged over splits (NaN where never defined).
    per_split_neuroid : ndarray of shape (n_splits, n_neuroids)
        The raw corrected values.
    """

    ceiling: float
    error: float
    per_split: np.ndarray
    per_neuroid: np.ndarray
    per_split_neuroid: np.ndarray


def spearman_brown_split_half(responses, *, n_splits=10, random_state=1):
    """Brain-Score's internal-consistency ceiling: Spearman-Brown corrected split-half r.

    Parameters
    ----------
    responses : array-like of shape (n_repetitions, n_stimuli, n_neuroids)
        Responses per repetition; NaN marks a missing repetition of a stimulus (or of a
        single neuroid's response to it).
    n_splits : int, default=10
        Number of random halvings of the repetitions.
    random_state : int, default=1
        Seed of ``ShuffleSplit(n_splits, train_size=0.5, random_state=random_state)``.

    Returns
    -------
    result : SplitHalfCeiling
        ``ceiling``, ``error``, ``per_split``, ``per_neuroid`` and ``per_split_neuroid``.

    Raises
    ------
    DataError
        If ``responses`` is not 3-D, has fewer than 2 repetitions or 2 stimuli, contains an
        infinity, or no neuroid has a defined correlation in any split.

    Notes
    -----
    Each half is averaged with ``nanmean``; a stimulus whose half is all-NaN for a neuroid is
    left out of that neuroid's correlation in that split. A neuroid whose half-averages are
    constant (or with fewer than 2 usable stimuli) has NaN r in that split; the medians and
    means ignore NaN. See the module docstring for Brain-Score's conventions.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> signal = rng.standard_normal((200, 30))
    >>> responses = signal + rng.standard_normal((8, 200, 30))
    >>> result = spearman_brown_split_half(responses)
    >>> round(result.ceiling, 1)  # expected 1 / (1 + 1/8) = 0.89
    0.9
    """
    responses = _check_responses(responses)
    n_repetitions = responses.shape[0]
    shuffle_split_sizes(n_repetitions, train_size=0.5, n_splits=n_splits)
    corrected = np.stack([
        spearman_brown(pearson_columns(_half_mean(responses[first]), _half_mean(responses[second]),
                                       nan_policy="omit"))
        for first, second in shuffle_split(n_repetitions, n_splits=n_splits, train_size=0.5,
                                           random_state=random_state)
    ])
    if np.all(np.isnan(corrected)):
        raise DataError(
            "no neuroid has a defined split-half correlation (constant or missing responses)",
            hint="check that the responses vary across stimuli",
        )
    ceiling, error, per_split = brainscore_aggregate(corrected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a neuroid that is NaN in every split
        per_neuroid = np.nanmean(corrected, axis=0)
    return SplitHalfCeiling(ceiling=ceiling, error=error, per_split=per_split,
                            per_neuroid=per_neuroid, per_split_neuroid=corrected)


def split_half_means(responses, *, n_splits=10, random_state=1):
    """The half-averaged responses of each ceiling split (for bootstrap resampling).

    Parameters
    ----------
    responses : array-like of shape (n_repetitions, n_stimuli, n_neuroids)

    Returns
    -------
    halves : list of (ndarray, ndarray) of shape (n_stimuli, n_neuroids)
        The ``nanmean`` of each half of :func:`spearman_brown_split_half`'s splits, in order.
    """
    responses = _check_responses(responses)
    return [(_half_mean(responses[first]), _half_mean(responses[second]))
            for first, second in shuffle_split(responses.shape[0], n_splits=n_splits, train_size=0.5,
                                               random_state=random_state)]


def _half_mean(half):
    """Average repetitions, skipping NaN; all-NaN entries stay NaN, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(half, axis=0)


def _check_responses(responses):
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim != 3:
        raise DataError(
            f"responses must be 3-D (n_repetitions, n_stimuli, n_neuroids), got shape {responses.shape}")
    if responses.shape[0] < 2:
        raise DataError(
            f"the split-half ceiling needs at least 2 repetitions, got {responses.shape[0]}",
            hint="load the responses per repetition, not averaged",
        )
    if responses.shape[1] < 2:
        raise DataError(f"the split-half ceiling needs at least 2 stimuli, got {responses.shape[1]}")
    if np.isinf(responses).any():
        raise DataError("responses contain infinite values", hint="mark missing values with NaN")
    return responses
