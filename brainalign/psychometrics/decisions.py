"""Decisions of a model: a linear readout trained and tested on disjoint stimuli, for n-AFC tasks.

The readout is a multinomial logistic regression on standardised features, cross-validated with
stratified folds: every stimulus is decided by a readout that never saw it. Two options limit
the readout's capacity so that a deterministic network does not reach perfect accuracy at any
non-zero signal (thresholds stay finite):

* ``max_features``: a random subset of units (seeded), like a small pool of read-out neurons;
* ``readout_noise``: Gaussian noise added to every feature of every stimulus, in units of that
  feature's standard deviation over the stimuli (seeded), like neural noise.

16-way decisions from ImageNet logits live in :mod:`brainalign.psychometrics.imagenet16`.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import DataError, InputError


def limit_capacity(features: np.ndarray, *, max_features: int | None = None, readout_noise: float = 0.0,
                   seed: int = 0) -> np.ndarray:
    """Features after unit subsampling and additive noise (see the module docstring).

    Parameters
    ----------
    features : ndarray of shape (n_stimuli, n_units)

    Returns
    -------
    ndarray of shape (n_stimuli, min(n_units, max_features))
    """
    features = np.asarray(features, dtype=np.float64)
    if readout_noise < 0:
        raise InputError(f"readout noise must be >= 0; got {readout_noise}")
    rng = np.random.default_rng(seed)
    if max_features is not None:
        if max_features < 1:
            raise InputError(f"max_features must be at least 1; got {max_features}")
        if max_features < features.shape[1]:
            features = features[:, np.sort(rng.choice(features.shape[1], max_features, replace=False))]
    if readout_noise > 0:
        scale = features.std(axis=0, keepdims=True)
        features = features + readout_noise * scale * rng.standard_normal(features.shape)
    return features


def readout_decisions(features: np.ndarray, labels: np.ndarray, *, groups: np.ndarray | None = None,
                      n_splits: int = 5, seed: int = 0, max_features: int | None = None, readout_noise: float = 0.0,
                      C: float = 1.0) -> np.ndarray:
    """Cross-validated class decision for every stimulus.

    Parameters
    ----------
    features : ndarray of shape (n_stimuli, n_units)
    labels : int ndarray of shape (n_stimuli,), at least ``n_splits`` stimuli per class.
    groups : optional ndarray of shape (n_stimuli,); stimuli of one group stay in one fold. Paired
        designs need it: a near-copy of a test stimulus with the other label in the training folds
        pushes the decision to the wrong class (below-chance accuracy).
    n_splits : stratified folds; each stimulus is decided by the readout fit on the other folds.
    seed : seeds the fold shuffle, the unit subsample and the readout noise.
    C : inverse L2 penalty of the logistic regression.

    Returns
    -------
    int ndarray of shape (n_stimuli,): the decided class of each stimulus.
    """
    features = np.asarray(features)
    labels = np.asarray(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise DataError(f"features (n, units) and labels (n,) must match; got {features.shape} and {labels.shape}")
    if not np.all(np.isfinite(features)):
        raise DataError("features contain NaN or infinite values")
    counts = np.unique(labels, return_counts=True)[1]
    if len(counts) < 2 or counts.min() < n_splits:
        raise DataError(f"a {n_splits}-fold readout needs 2+ classes with at least {n_splits} stimuli each; "
                        f"got class sizes {counts.tolist()}", hint="generate more stimuli per class")
    x = limit_capacity(features, max_features=max_features, readout_noise=readout_noise, seed=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    if groups is None:
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        if len(groups) != len(labels) or len(np.unique(groups)) < n_splits:
            raise DataError(f"groups must give one group per stimulus and at least {n_splits} groups")
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return cross_val_predict(model, x, labels, cv=folds, groups=groups)
