"""Cross-validation splits over stimuli, as Brain-Score draws them.

Notes
-----
What Brain-Score (public repository brain-score/vision) does, read from its source:

- ``metric_helpers/transformations.py``, ``Split.Defaults``: 10 splits, ``train_size=0.9``,
  ``random_state=1``, ``split_coord='stimulus_id'``. ``Split.__init__`` builds
  ``ShuffleSplit(n_splits, train_size, test_size=None, random_state)``, or
  ``StratifiedShuffleSplit`` with the same arguments when a stratification coordinate is set
  (``CrossRegressedCorrelation`` passes ``train_size=.9, test_size=None``; the FreemanZiemba2013
  PLS benchmarks set ``stratification_coord='texture_type'``). So the test set is the rest:
  ``n_test = n - floor(0.9 * n)``.
- ``Split.build_splits`` calls ``extract_coord(target, 'stimulus_id', unique=False)``: the split
  indices refer to the rows of the *target* assembly, in its current order (not sorted, not
  de-duplicated; the default ``unique_split_values=False``). The stratification labels are read
  in the same order.
- The target is repetition-averaged first (``benchmark_helpers/neural_common.py``,
  ``average_repetition``): ``assembly.multi_groupby(<all presentation coords except
  'repetition'>).mean('presentation', skipna=True)``. xarray's groupby returns the groups in
  sorted order, so the averaged rows are sorted lexicographically by the tuple of those
  coordinate values, in the assembly's coordinate order. When ``stimulus_id`` is the first of
  them this is ascending unique ``stimulus_id`` order (not the order of first appearance).
  Callers who want Brain-Score's exact splits must pass stimuli in that order.
- The train and test subsets are then selected by ``stimulus_id`` value (``subset``), and the
  regression (``XarrayRegression.fit``) and correlation (``XarrayCorrelation``) sort by
  ``stimulus_id``; neither changes the result, which depends only on which stimuli are in
  each set.
- Aggregation (``CrossRegressedCorrelation.aggregate`` then ``Split.aggregate``): per split the
  median over neuroids (xarray, NaN skipped), then the mean over splits as the score and
  ``std over splits / sqrt(n_splits)`` (xarray ``std``: ddof 0, NaN skipped; the divisor counts
  all splits) as the error; the per-split, per-neuroid values are kept as ``raw``.
- The internal-consistency ceiling uses ``CrossValidationSingle`` with ``train_size=0.5``,
  ``split_coord='repetition'``, no stratification and ``unique_split_values=True``: the
  indices refer to the sorted unique repetition values (see :mod:`.ceiling`).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np

from brainalign.errors import DataError, InputError

__all__ = ["brainscore_aggregate", "brainscore_splits", "shuffle_split_sizes"]


def brainscore_splits(n_stimuli, *, n_splits=10, train_size=0.9, random_state=1, stratify=None):
    """Brain-Score's train/test splits over stimuli.

    Parameters
    ----------
    n_stimuli : int
        Number of (repetition-averaged) stimuli; indices refer to this order.
    n_splits : int, default=10
        Number of random splits.
    train_size : float, default=0.9
        Fraction of stimuli in each train set; the test set is the rest.
    random_state : int, default=1
        Seed of the splitter (Brain-Score's ``Split.Defaults.random_state``).
    stratify : array-like of shape (n_stimuli,), default=None
        Class labels (e.g. ``texture_type`` or ``object_name``); when given, every split keeps
        the class proportions (``StratifiedShuffleSplit``).

    Returns
    -------
    splits : list of (ndarray, ndarray)
        ``n_splits`` pairs ``(train_idx, test_idx)`` of integer indices into the stimuli,
        identical to ``ShuffleSplit(n_splits, train_size=train_size, test_size=None,
        random_state=random_state).split(np.zeros(n_stimuli))`` (or the stratified variant).

    Raises
    ------
    DataError
        If a split would hold fewer than 2 test or 2 train stimuli, if ``stratify`` has the
        wrong length, a class with fewer than 2 stimuli, or more classes than stimuli in the
        train or test set.
    InputError
        If ``n_splits`` or ``train_size`` is out of range.

    Notes
    -----
    See the module docstring for how Brain-Score orders the stimuli these indices refer to.

    Examples
    --------
    >>> splits = brainscore_splits(20)
    >>> len(splits), len(splits[0][0]), len(splits[0][1])
    (10, 18, 2)
    """
    n_train, n_test = shuffle_split_sizes(n_stimuli, train_size=train_size, n_splits=n_splits)
    if n_test < 2 or n_train < 2:
        raise DataError(
            f"{n_stimuli} stimuli with train_size={train_size} give {n_train} train and {n_test} "
            "test stimuli per split; a correlation needs at least 2 test stimuli and the mapping "
            "at least 2 train stimuli",
            hint="use more stimuli or a different train_size",
        )
    if stratify is None:
        return shuffle_split(n_stimuli, n_splits=n_splits, train_size=train_size, random_state=random_state)
    from sklearn.model_selection import StratifiedShuffleSplit  # a second to import: only when stratified

    labels = _check_stratify(stratify, n_stimuli=n_stimuli, n_train=n_train, n_test=n_test)
    splitter = StratifiedShuffleSplit(n_splits, train_size=train_size, test_size=None,
                                      random_state=random_state)
    return list(splitter.split(np.zeros(n_stimuli), labels))


def shuffle_split(n_samples, *, n_splits, train_size, random_state):
    """The splits of scikit-learn's ``ShuffleSplit(n_splits, train_size=train_size, test_size=None,
    random_state=random_state)``, without importing scikit-learn.

    Importing scikit-learn takes about a second, longer than scoring a layer, so the
    unstratified splits are drawn here the way ``ShuffleSplit`` draws them: a
    ``RandomState(random_state)`` permutation per split, its first ``n_test`` items the test set
    and the next ``n_train`` the train set (``tests/test_metrics_predictivity.py`` checks they are
    identical).

    Parameters
    ----------
    n_samples : int
    n_splits : int
    train_size : float
        Strictly between 0 and 1; ``n_train = floor(train_size * n_samples)``, the rest is tested.
    random_state : int or None
        None uses numpy's global RandomState, as scikit-learn does.

    Returns
    -------
    list of (train, test) : ndarrays of int, of shapes (n_train,) and (n_test,)

    Examples
    --------
    >>> [(train.tolist(), test.tolist()) for train, test in shuffle_split(4, n_splits=1, train_size=0.5,
    ...                                                                      random_state=0)]
    [([1, 0], [2, 3])]
    """
    n_train, n_test = shuffle_split_sizes(n_samples, train_size=train_size, n_splits=n_splits)
    rng = np.random.mtrand._rand if random_state is None else np.random.RandomState(random_state)
    splits = []
    for _ in range(n_splits):
        permutation = rng.permutation(n_samples)
        splits.append((permutation[n_test:n_test + n_train], permutation[:n_test]))
    return splits


def shuffle_split_sizes(n_samples, *, train_size, n_splits=1):
    """Train and test set sizes of ``ShuffleSplit(train_size=train_size, test_size=None)``.

    Parameters
    ----------
    n_samples : int
        Number of items split.
    train_size : float
        Fraction in the train set, strictly between 0 and 1.
    n_splits : int, default=1
        Number of splits (only validated here).

    Returns
    -------
    n_train, n_test : int
        ``floor(train_size * n_samples)`` and the rest, as scikit-learn computes them.

    Raises
    ------
    InputError
        If an argument is out of range.

    Examples
    --------
    >>> shuffle_split_sizes(315, train_size=0.9)
    (283, 32)
    """
    if not isinstance(n_samples, Integral) or n_samples < 0:
        raise InputError(f"the number of items to split must be a non-negative integer, got {n_samples!r}")
    if not isinstance(n_splits, Integral) or n_splits < 1:
        raise InputError(f"n_splits must be a positive integer, got {n_splits!r}")
    if not isinstance(train_size, Real) or not 0.0 < train_size < 1.0:
        raise InputError(f"train_size must be a fraction strictly between 0 and 1, got {train_size!r}")
    n_train = int(np.floor(train_size * n_samples))
    return n_train, int(n_samples) - n_train


def brainscore_aggregate(per_split_neuroid):
    """Brain-Score's aggregate of per-split, per-neuroid values.

    Parameters
    ----------
    per_split_neuroid : ndarray of shape (n_splits, n_neuroids)
        E.g. held-out Pearson r of each neuroid in each split; NaN marks undefined values.

    Returns
    -------
    center : float
        Mean over splits of the median over neuroids (NaN skipped at both steps).
    error : float
        Standard deviation (ddof 0, NaN skipped) of the per-split medians over
        ``sqrt(n_splits)``.
    per_split : ndarray of shape (n_splits,)
        Median over neuroids per split; NaN for a split without any defined value.

    Notes
    -----
    When every value is NaN the center and error are NaN; callers raise on that.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[0.0, 0.5, 0.25], [0.5, np.nan, 0.75]])
    >>> center, error, per_split = brainscore_aggregate(values)
    >>> center, per_split
    (0.4375, array([0.25 , 0.625]))
    >>> round(error, 4)  # std([0.25, 0.625]) / sqrt(2)
    0.1326
    """
    per_split_neuroid = np.asarray(per_split_neuroid, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN splits give NaN, silently
        per_split = np.nanmedian(per_split_neuroid, axis=1)
        center = float(np.nanmean(per_split))
        error = float(np.nanstd(per_split) / np.sqrt(len(per_split)))
    return center, error, per_split


def _check_stratify(stratify, *, n_stimuli, n_train, n_test):
    labels = np.asarray(stratify)
    if labels.shape != (n_stimuli,):
        raise DataError(
            f"stratify has shape {labels.shape}, expected one label per stimulus ({n_stimuli},)")
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise DataError(
            f"stratification class {classes[counts.argmin()]!r} has only {counts.min()} stimulus; "
            "every class needs at least 2",
            hint="merge rare classes or split without stratification",
        )
    if len(classes) > min(n_train, n_test):
        raise DataError(
            f"{len(classes)} stratification classes do not fit into {n_train} train and "
            f"{n_test} test stimuli",
            hint="use a coarser stratification or more stimuli",
        )
    return labels
