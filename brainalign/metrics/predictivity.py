"""Cross-validated neural predictivity (Brain-Score's ``regression_correlation`` metric with PLS).

Notes
-----
Brain-Score's ``CrossRegressedCorrelation`` (``brainscore_vision/metrics/regression_correlation/
metric.py``) fits ``PLSRegression(n_components=25, scale=False)`` on the train stimuli of each
split, predicts the test stimuli, takes ``scipy.stats.pearsonr`` per neuroid between the
held-out response and the prediction, the median over neuroids per split, then the mean over
splits as the score and std over splits / sqrt(n_splits) as the error (see :mod:`.splits` for
the splits and the aggregation). Here the PLS fits run in kernel form
(:func:`.pls.kernel_cv_pls_predict`), with the same predictions up to round-off. The regression is
looked up by name in :mod:`.regressions` (``pls``, ``ridge``, or one a plugin adds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from brainalign.errors import DataError, InputError
from brainalign.metrics.correlation import pearson_columns
from brainalign.metrics.pls import linear_kernel
from brainalign.metrics.regressions import get_regression
from brainalign.metrics.ridge import DEFAULT_ALPHAS
from brainalign.metrics.splits import brainscore_aggregate

__all__ = ["PredictivityResult", "cross_validated_predictivity"]


@dataclass(frozen=True)
class PredictivityResult:
    """Result of :func:`cross_validated_predictivity`.

    Attributes
    ----------
    raw : float
        Mean over splits of the median over neuroids of the held-out Pearson r (not ceiled).
    error : float
        Standard deviation (ddof 0) of ``per_split`` divided by ``sqrt(n_splits)``.
    per_split : ndarray of shape (n_splits,)
        Median over neuroids of the held-out r, per split.
    per_split_neuroid : ndarray of shape (n_splits, n_neuroids)
        Held-out Pearson r of each neuroid in each split (NaN where undefined).
    predictions : list of ndarray of shape (n_test, n_neuroids)
        Held-out predictions per split (for bootstrap intervals and paired tests).
    alphas : ndarray of shape (n_splits, n_neuroids) or None
        Penalty chosen per split and neuroid, for regressions that choose one (``"ridge"``).
    """

    raw: float
    error: float
    per_split: np.ndarray
    per_split_neuroid: np.ndarray
    predictions: list = field(default_factory=list, repr=False)
    alphas: np.ndarray | None = None


def cross_validated_predictivity(X, Y, *, splits, n_components=25, gram=None, regression="pls",
                                 alphas=DEFAULT_ALPHAS, backend="numpy"):
    """Cross-validated PLS (or ridge, or another registered regression) predictivity of neural responses.

    Parameters
    ----------
    X : array-like of shape (n_stimuli, n_features)
        Model features, one row per stimulus (float32 is fine; the kernel is float64).
    Y : array-like of shape (n_stimuli, n_neuroids)
        Repetition-averaged responses, rows in the same stimulus order as ``X``.
    splits : sequence of (ndarray, ndarray)
        ``(train_idx, test_idx)`` pairs, e.g. from :func:`.splits.brainscore_splits`.
    n_components : int, default=25
        Number of PLS components.
    gram : ndarray of shape (n_stimuli, n_stimuli), default=None
        Precomputed ``linear_kernel(X)``, to score several targets against one layer without
        recomputing it. ``X`` is then only used for its shape, and by regressions that fit on
        the features themselves.
    regression : str, default="pls"
        A name of :func:`.regressions.regression_names`: ``"pls"``, or ``"ridge"`` (a per-neuroid
        penalty chosen by leave-one-out over ``alphas``, :func:`.ridge.kernel_cv_ridge_predict`),
        or a regression registered by a module or plugin (:mod:`.regressions`).
    alphas : sequence of float, default=DEFAULT_ALPHAS
        Ridge penalty grid (one value: plain ridge).
    backend : {"numpy", "torch"}, default="numpy"
        Array backend of the fits (PLS and ridge have both): ``"torch"`` runs them with torch, on
        CUDA when present; float64 either way, with the same results to round-off.

    Returns
    -------
    result : PredictivityResult
        ``raw``, ``error``, ``per_split`` and ``per_split_neuroid``.

    Raises
    ------
    DataError
        If X, Y or ``gram`` contain NaN or infinities, their stimulus counts differ, X has
        fewer than 2 features, a split is out of range or has fewer than 2 test stimuli, or no
        neuroid has a defined correlation in any split.
    InputError
        If the regression is unknown or has no such backend, or ``n_components`` is not a
        positive integer or exceeds a train set or the number of features.

    Notes
    -----
    A neuroid whose held-out responses (or predictions) are constant has no defined Pearson r:
    it is NaN in ``per_split_neuroid`` and skipped by the medians (``np.nanmedian``).

    Examples
    --------
    >>> import numpy as np
    >>> from brainalign.metrics.splits import brainscore_splits
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 50))
    >>> Y = X[:, :5] @ rng.standard_normal((5, 8)) + rng.standard_normal((100, 8))
    >>> result = cross_validated_predictivity(X, Y, splits=brainscore_splits(100), n_components=10)
    >>> result.per_split_neuroid.shape
    (10, 8)
    >>> round(result.raw, 2), round(result.error, 3)
    (0.84, 0.022)
    """
    mapping = get_regression(regression)(n_components=n_components, alphas=alphas, backend=backend)
    X, Y, gram = _check_inputs(X, Y, gram=gram, splits=splits,
                               n_components=n_components if mapping.uses_components else 1)
    fitted = mapping.predict_splits(X, Y, splits, gram=gram)
    predictions = _check_predictions(fitted.predictions, splits, n_targets=Y.shape[1], regression=regression)
    per_split_neuroid = np.stack([pearson_columns(prediction, Y[test])
                                  for prediction, (_, test) in zip(predictions, splits)])
    if np.all(np.isnan(per_split_neuroid)):
        raise DataError(
            "no neuroid has a defined held-out correlation (constant responses or predictions)",
            hint="check that the responses vary across the test stimuli",
        )
    raw, error, per_split = brainscore_aggregate(per_split_neuroid)
    return PredictivityResult(raw=raw, error=error, per_split=per_split,
                              per_split_neuroid=per_split_neuroid, predictions=predictions, alphas=fitted.alphas)


def _check_inputs(X, Y, *, gram, splits, n_components):
    """Validate everything once; return X as an array, and Y and the kernel (computed when not given) in float64.

    Non-finite features show up as non-finite kernel entries, so X itself is not scanned.
    """
    X = _check_2d(X, name="X")
    n_stimuli, n_features = X.shape
    Y = _check_2d(Y, name="Y", dtype=np.float64)
    gram = linear_kernel(X) if gram is None else np.asarray(gram, dtype=np.float64)
    if n_features < 2:
        raise DataError(f"X has {n_features} feature(s); PLS predictivity needs at least 2")
    if Y.shape[0] != n_stimuli or gram.shape != (n_stimuli, n_stimuli):
        raise DataError(
            f"X has {n_stimuli} stimuli, Y {Y.shape[0]} and the kernel shape {gram.shape}",
            hint="pass features and responses for the same stimuli, in the same order",
        )
    if not np.isfinite(Y).all():
        raise DataError(
            "the responses Y contain NaN or infinite values",
            hint="average repetitions with nanmean, or drop stimuli or neuroids without responses",
        )
    if not np.isfinite(gram).all():
        raise DataError("the features X (or the given kernel) contain NaN or infinite values",
                        hint="check the extracted activations of this layer")
    if not isinstance(n_components, Integral) or not 1 <= n_components <= n_features:
        raise InputError(
            f"n_components must be an integer from 1 to the number of features ({n_features}), "
            f"got {n_components!r}",
            hint="score a wider layer, reduce to at least as many units as PLS components, or use --metric ridge")
    _check_splits(splits, n_stimuli=n_stimuli)
    return X, Y, gram


def _check_predictions(predictions, splits, *, n_targets, regression):
    """The regression's predictions as a list, one (n_test, n_targets) array per split; a
    regression that returns anything else has a bug (ValueError naming it)."""
    predictions = list(predictions)
    shapes = [np.shape(p) for p in predictions]
    expected = [(len(test), n_targets) for _, test in splits]
    if shapes != expected:
        raise ValueError(f"regression {regression!r} returned predictions of shapes {shapes}; "
                         f"the splits need {expected}")
    return predictions


def _check_splits(splits, *, n_stimuli):
    if len(splits) == 0:
        raise DataError("no cross-validation splits were given")
    for i, (train, test) in enumerate(splits):
        train, test = np.asarray(train), np.asarray(test)
        if len(test) < 2 or len(train) < 2:
            raise DataError(f"split {i} has {len(train)} train and {len(test)} test stimuli; "
                            "each needs at least 2")
        indices = np.concatenate([train, test])
        if not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 \
                or indices.max() >= n_stimuli:
            raise DataError(f"split {i} has indices outside 0..{n_stimuli - 1}",
                            hint="build the splits for the same number of stimuli as X and Y")


def _check_2d(array, *, name, dtype=None):
    array = np.asarray(array, dtype=dtype)
    if array.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (n_stimuli, n_columns), got shape {array.shape}",
                        hint="reshape a single column with .reshape(-1, 1)")
    return array
