"""Representational dissimilarity matrices (RDMs), their comparison and noise ceilings, via rsatoolbox.

Every RDM here is an ``rsatoolbox.rdm.RDMs`` whose ``pattern_descriptors["stimulus_id"]`` names
its rows. Comparisons align the two RDMs by those ids, never by position (rsatoolbox itself only
checks the vector length), and refuse RDMs whose ids differ.

========================  ===============================================================
RDM method                dissimilarity between stimuli i and j (patterns over channels)
========================  ===============================================================
``correlation``           1 - Pearson r of the two patterns
``euclidean``             squared Euclidean distance / number of channels
``crossnobis``            cross-validated squared distance (identity noise precision): the
                          product of the pattern differences in two different folds of
                          repetitions, averaged over fold pairs / number of channels
========================  ===============================================================

Comparisons (``COMPARISONS``) are rsatoolbox's: ``spearman``, ``tau-a`` (Kendall tau-a),
``rho-a``, ``corr`` (Pearson), ``cosine``, and the whitened ``corr_cov`` / ``cosine_cov``; plus
``cka``: linear CKA (biased HSIC) between the centred Grams -1/2 H D H of the two RDMs
(``brainalign.metrics.cka``), whose noise ceiling pools subjects by the plain mean of their RDMs.
"""

from __future__ import annotations

import warnings

import numpy as np
from rsatoolbox.data import Dataset
from rsatoolbox.inference import boot_noise_ceiling
from rsatoolbox.rdm import RDMs, calc_rdm, compare

from brainalign.errors import DataError, InputError
from brainalign.metrics.options import COMPARISONS

RDM_METHODS = ("correlation", "euclidean", "crossnobis")
_RSATOOLBOX_METHOD = {"correlation": "correlation", "euclidean": "euclidean", "crossnobis": "crossnobis"}


def _check_choice(value: str, choices: tuple, what: str) -> None:
    if value not in choices:
        raise InputError(f"unknown {what} {value!r}", hint=f"use one of {', '.join(choices)}")


def _ids(stimulus_ids, n: int, what: str) -> np.ndarray:
    ids = np.asarray(stimulus_ids).astype(str)
    if ids.shape != (n,):
        raise DataError(f"{what}: {ids.size} stimulus ids for {n} rows")
    return ids


def rdm_from_features(features, stimulus_ids, *, method: str = "correlation", folds=None,
                      name: str = "features") -> RDMs:
    """The RDM of ``features`` under ``method``.

    Parameters
    ----------
    features : array of shape (n_observations, n_channels)
        One row per observation (a stimulus, or a stimulus in one repetition / fold).
    stimulus_ids : array of shape (n_observations,)
        Rows with the same id are averaged (``correlation``, ``euclidean``) or cross-validated
        across ``folds`` (``crossnobis``).
    method : one of ``RDM_METHODS``.
    folds : array of shape (n_observations,), required for ``crossnobis``
        The repetition / run of each row; each stimulus must appear in every fold.
    name : what the features are, for error messages.

    Returns
    -------
    rsatoolbox.rdm.RDMs holding one RDM over the unique stimulus ids, with
    ``pattern_descriptors["stimulus_id"]``.

    Raises
    ------
    DataError
        On NaN or infinite values, fewer than 3 stimuli, a stimulus whose pattern is constant across
        channels (its correlation distance is undefined), or crossnobis folds that miss a stimulus.

    Examples
    --------
    >>> x = np.array([[1., 2., 3.], [3., 2., 1.], [1., 3., 2.]])
    >>> rdm = rdm_from_features(x, ["a", "b", "c"])
    >>> np.round(rdm.get_matrices()[0], 3).tolist()
    [[0.0, 2.0, 0.5], [2.0, 0.0, 1.5], [0.5, 1.5, 0.0]]
    """
    _check_choice(method, RDM_METHODS, "RDM method")
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise DataError(f"{name}: features must be 2-D (observations x channels), got shape {features.shape}")
    ids = _ids(stimulus_ids, features.shape[0], name)
    if not np.isfinite(features).all():
        raise DataError(f"{name}: features contain NaN or infinite values", hint="drop or impute them first")
    unique = np.unique(ids)
    if len(unique) < 3:
        raise DataError(f"{name}: an RDM needs at least 3 stimuli, got {len(unique)}")
    if method == "crossnobis":
        return _crossnobis(features, ids, folds, name)
    if len(unique) != len(ids):  # average repetitions, keeping first-appearance order
        order = ids[np.sort(np.unique(ids, return_index=True)[1])]
        features = np.stack([features[ids == s].mean(axis=0) for s in order])
        ids = order
    if method == "correlation":
        spread = features.std(axis=1)
        flat = spread <= 1e-12 * np.maximum(np.abs(features).max(axis=1), 1.0)
        if flat.any():
            raise DataError(f"{name}: the pattern of stimulus {str(ids[flat][0])!r} is constant across channels "
                            f"({int(flat.sum())} such stimuli), so its correlation distance is undefined",
                            hint="use the euclidean RDM, or leave out that layer (--layers) or those stimuli")
    dataset = Dataset(features, obs_descriptors={"stimulus_id": list(ids)})
    rdm = calc_rdm(dataset, method=_RSATOOLBOX_METHOD[method])
    rdm.pattern_descriptors["stimulus_id"] = list(ids)
    return rdm


def _crossnobis(features: np.ndarray, ids: np.ndarray, folds, name: str) -> RDMs:
    if folds is None:
        raise DataError(f"{name}: the crossnobis RDM needs the fold (repetition) of every observation")
    folds = np.asarray(folds)
    if folds.shape != ids.shape:
        raise DataError(f"{name}: {folds.size} fold labels for {ids.size} observations")
    unique_folds = np.unique(folds)
    if len(unique_folds) < 2:
        raise DataError(f"{name}: crossnobis needs at least 2 folds (repetitions), got {len(unique_folds)}",
                        hint="use the correlation or euclidean RDM for single-repetition data")
    all_ids = set(ids)
    for fold in unique_folds:
        missing = all_ids - set(ids[folds == fold])
        if missing:
            raise DataError(f"{name}: fold {str(fold)!r} lacks stimulus {str(sorted(missing)[0])!r}",
                            hint="crossnobis needs every stimulus in every fold")
    dataset = Dataset(features, obs_descriptors={"stimulus_id": list(ids), "fold": list(folds)})
    with warnings.catch_warnings():  # rsatoolbox fills a string descriptor array with NaN first
        warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
        rdm = calc_rdm(dataset, method="crossnobis", descriptor="stimulus_id", cv_descriptor="fold")
    rdm.pattern_descriptors["stimulus_id"] = [str(s) for s in rdm.pattern_descriptors["stimulus_id"]]
    return rdm


def rdms_from_matrices(matrices, stimulus_ids, *, subjects=None, measure: str = "dissimilarity",
                       name: str = "target") -> RDMs:
    """Measured RDMs (e.g. from a publication) as rsatoolbox RDMs, checked.

    Parameters
    ----------
    matrices : array of shape (n_rdms, n_stimuli, n_stimuli) or (n_stimuli, n_stimuli)
        Symmetric dissimilarity matrices with a zero diagonal.
    stimulus_ids : array of shape (n_stimuli,), the rows' stimulus ids.
    subjects : array of shape (n_rdms,) or None, stored as ``rdm_descriptors["subject"]``.
    measure : the dissimilarity's name, recorded in the RDMs.

    Raises
    ------
    DataError on NaN, asymmetry, a non-zero diagonal, duplicate ids or fewer than 3 stimuli.
    """
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.ndim == 2:
        matrices = matrices[None]
    if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
        raise DataError(f"{name}: RDMs must be square (n_rdms, n, n), got shape {matrices.shape}")
    ids = _ids(stimulus_ids, matrices.shape[1], name)
    if len(set(ids)) != len(ids):
        raise DataError(f"{name}: repeated stimulus id in the RDM rows")
    if matrices.shape[1] < 3:
        raise DataError(f"{name}: an RDM needs at least 3 stimuli, got {matrices.shape[1]}")
    if not np.isfinite(matrices).all():
        raise DataError(f"{name}: RDM contains NaN or infinite values")
    scale = max(float(np.abs(matrices).max()), 1e-300)
    if np.abs(matrices - matrices.transpose(0, 2, 1)).max() > 1e-6 * scale:
        raise DataError(f"{name}: RDM is not symmetric")
    if np.abs(np.diagonal(matrices, axis1=1, axis2=2)).max() > 1e-6 * scale:
        raise DataError(f"{name}: RDM diagonal is not zero (is it a similarity matrix?)",
                        hint="convert similarities to dissimilarities first, e.g. 1 - r")
    rdm_descriptors = None if subjects is None else {"subject": [str(s) for s in subjects]}
    return RDMs(matrices, dissimilarity_measure=measure, rdm_descriptors=rdm_descriptors,
                pattern_descriptors={"stimulus_id": list(ids)})


def stimulus_ids_of(rdms: RDMs) -> np.ndarray:
    """ndarray of shape (n_stimuli,): the stimulus ids naming the rows of ``rdms``."""
    if "stimulus_id" not in rdms.pattern_descriptors:
        raise DataError("RDMs carry no stimulus_id pattern descriptor; build them with brainalign.metrics.rsa")
    return np.asarray(rdms.pattern_descriptors["stimulus_id"]).astype(str)


def select_stimuli(rdms: RDMs, stimulus_ids) -> RDMs:
    """``rdms`` restricted to ``stimulus_ids``, rows in that order (DataError if any id is absent)."""
    have = stimulus_ids_of(rdms)
    wanted = np.asarray(stimulus_ids).astype(str)
    position = {s: i for i, s in enumerate(have)}
    missing = [s for s in wanted if s not in position]
    if missing:
        raise DataError(f"RDM lacks {len(missing)} of the {len(wanted)} stimulus ids (first: {str(missing[0])!r})",
                        hint="compare RDMs over the same stimuli")
    index = np.array([position[s] for s in wanted])
    matrices = rdms.get_matrices()[:, index][:, :, index]
    return RDMs(matrices, dissimilarity_measure=rdms.dissimilarity_measure,
                rdm_descriptors={k: list(v) for k, v in rdms.rdm_descriptors.items() if k != "index"},
                pattern_descriptors={"stimulus_id": list(wanted)})


def _aligned(model: RDMs, target: RDMs) -> RDMs:
    ids, target_ids = stimulus_ids_of(model), stimulus_ids_of(target)
    if set(ids) != set(target_ids) or len(ids) != len(target_ids):
        extra = sorted(set(ids) ^ set(target_ids))
        raise DataError(f"the two RDMs name different stimuli ({len(extra)} ids in only one, e.g. "
                        f"{str(extra[0])!r})" if extra else "the two RDMs repeat stimulus ids differently",
                        hint="compare RDMs over the same stimulus ids")
    return target if np.array_equal(ids, target_ids) else select_stimuli(target, ids)


def _check_varies(rdms: RDMs, what: str) -> None:
    vectors = rdms.get_vectors()
    flat = np.ptp(vectors, axis=1) == 0
    if flat.any():
        raise DataError(f"{what}: an RDM has all dissimilarities equal, so its correlation with another "
                        "RDM is undefined")


def compare_rdms(model: RDMs, target: RDMs, *, method: str = "spearman") -> np.ndarray:
    """Similarity of the single RDM ``model`` to each RDM of ``target`` under ``method``.

    Parameters
    ----------
    model : RDMs with one RDM.
    target : RDMs with n_target RDMs over the same stimulus ids (any order; aligned by id).
    method : one of ``COMPARISONS``.

    Returns
    -------
    ndarray of shape (n_target,).

    Examples
    --------
    >>> a = rdms_from_matrices([[0, 1, 2], [1, 0, 3], [2, 3, 0]], ["x", "y", "z"])
    >>> b = rdms_from_matrices([[0, 3, 2], [3, 0, 1], [2, 1, 0]], ["z", "y", "x"])  # same RDM, rows reordered
    >>> compare_rdms(a, b, method="spearman").round(6).tolist()
    [1.0]
    """
    _check_choice(method, COMPARISONS, "RDM comparison")
    if model.n_rdm != 1:
        raise DataError(f"compare_rdms takes one model RDM, got {model.n_rdm}")
    target = _aligned(model, target)
    _check_varies(model, "model RDM")
    _check_varies(target, "target RDM")
    if method == "cka":
        return _cka(model.get_matrices()[0], target.get_matrices())
    return np.asarray(compare(model, target, method=method), dtype=np.float64).reshape(-1)


def _cka(matrix: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Linear CKA of the Gram of RDM ``matrix`` (n, n) with that of each of ``matrices`` (k, n, n)."""
    from .cka import cka_from_grams, gram_from_squared_distances

    gram = gram_from_squared_distances(matrix)
    return np.array([cka_from_grams(gram, gram_from_squared_distances(m)) for m in matrices])


BOOTSTRAP_COMPARISONS = ("spearman", "tau-a", "rho-a", "corr", "cosine")


def bootstrap_comparisons(model: RDMs, target: RDMs, *, method: str = "spearman", n_bootstrap: int = 200,
                          seed: int = 0) -> np.ndarray:
    """:func:`compare_rdms` on stimulus bootstrap samples (resampling rows and columns together).

    Each sample draws n stimuli with replacement; pairs of a stimulus with its own copy are left
    out (their dissimilarity is 0 by construction), as in rsatoolbox's pattern bootstrap. The
    whitened comparisons assume a complete RDM, and CKA cannot leave those pairs out (duplicated
    rows inflate it: on kriegeskorte2008 the bootstrap interval missed the full-data value), so
    neither is supported. ``spearman``, ``corr`` and ``cosine`` are computed here, without
    re-sorting: a sample's average ranks follow from the full vectors' ranks by counting
    (tests check them against rsatoolbox); ``tau-a`` and ``rho-a`` call rsatoolbox per sample.

    Returns
    -------
    ndarray of shape (n_bootstrap, n_target).
    """
    _check_choice(method, BOOTSTRAP_COMPARISONS, "bootstrapped RDM comparison")
    target = _aligned(model, target)
    vectors = np.vstack([model.get_vectors(), target.get_vectors()])  # row-major upper triangles
    n = model.n_cond
    codes = [np.unique(v, return_inverse=True)[1] for v in vectors] if method == "spearman" else None
    upper = np.triu_indices(n, 1)
    rng = np.random.default_rng(seed)
    out = np.empty((n_bootstrap, len(vectors) - 1))
    for b in range(n_bootstrap):
        idx = np.sort(rng.integers(0, n, n))
        i, j = idx[upper[0]], idx[upper[1]]
        i, j = i[i != j], j[i != j]
        pairs = n * i - i * (i + 1) // 2 + (j - i - 1)  # position of (i, j), i < j, in the vectors
        if method in ("spearman", "corr", "cosine"):
            out[b] = _compare_pairs(vectors, pairs, method, codes)
        else:
            out[b] = np.asarray(compare(vectors[:1, pairs], vectors[1:, pairs], method=method)).reshape(-1)
    return out


def _compare_pairs(vectors: np.ndarray, pairs: np.ndarray, method: str, codes) -> np.ndarray:
    """Similarity of row 0 of ``vectors[:, pairs]`` to each other row (Spearman, Pearson or cosine)."""
    if method == "spearman":
        values = np.empty((len(vectors), len(pairs)))
        for row, code in enumerate(codes):
            sample = code[pairs]
            counts = np.bincount(sample, minlength=code.max() + 1)
            values[row] = (np.cumsum(counts) - counts + (counts + 1) / 2.0)[sample]  # average ranks
    else:
        values = vectors[:, pairs]
    if method != "cosine":
        values = values - values.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(values, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return values[1:] @ values[0] / (norms[1:] * norms[0])


def noise_ceiling(target: RDMs, *, method: str = "spearman") -> tuple[float, float]:
    """Leave-one-subject-out noise ceiling of multi-subject RDMs (rsatoolbox ``boot_noise_ceiling``).

    Upper bound: mean over subjects of compare(pooled RDM of all subjects, subject RDM); lower bound:
    the same with the pooled RDM of the other subjects. Pooling is rsatoolbox's, matched to
    ``method`` (e.g. mean of rank-transformed RDMs for ``spearman``).

    Parameters
    ----------
    target : RDMs with one RDM per subject (``rdm_descriptors["subject"]``, else one per RDM).
    method : one of ``COMPARISONS``.

    Returns
    -------
    (lower, upper) floats.

    Raises
    ------
    DataError with fewer than 2 subjects (no ceiling can be estimated from one RDM).
    """
    _check_choice(method, COMPARISONS, "RDM comparison")
    descriptor = "subject" if "subject" in target.rdm_descriptors else "index"
    n_subjects = len(set(target.rdm_descriptors[descriptor]))
    if n_subjects < 2:
        raise DataError(f"a noise ceiling needs RDMs of at least 2 subjects, got {n_subjects}")
    _check_varies(target, "target RDM")
    if method == "cka":
        return _cka_ceiling(target, descriptor)
    lower, upper = boot_noise_ceiling(target, method=method, rdm_descriptor=descriptor)
    return float(lower), float(upper)


def _cka_ceiling(target: RDMs, descriptor: str) -> tuple[float, float]:
    """Leave-one-subject-out CKA ceiling, pooling subjects by the mean of their RDM matrices."""
    labels = np.asarray(target.rdm_descriptors[descriptor]).astype(str)
    matrices = target.get_matrices()
    subjects = sorted(set(labels))
    pooled = {s: matrices[labels == s].mean(axis=0) for s in subjects}
    everyone = matrices.mean(axis=0)
    upper = np.mean([_cka(everyone, pooled[s][None])[0] for s in subjects])
    lower = np.mean([_cka(matrices[labels != s].mean(axis=0), pooled[s][None])[0] for s in subjects])
    return float(lower), float(upper)
