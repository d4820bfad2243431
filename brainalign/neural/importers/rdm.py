"""RDM targets for RSA-only data: square matrices or condensed vectors, one or a stack of subjects.

The input is read like the generic importer's arrays (``.npy/.npz/.h5/.csv/.mat``) with shape
(n, n), (n*(n-1)/2,), (n_subjects, n, n) or (n_subjects, n*(n-1)/2). ``kind`` declares whether the
values are similarities (converted to dissimilarities ``1 - s``, as for Pearson r) or
dissimilarities. The result is an ``rsatoolbox.rdm.RDMs`` with pattern descriptor ``stimulus_id``
and rdm descriptor ``subject``, saved with rsatoolbox's own HDF5 writer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.distance import squareform

from ...errors import DataError, InputError
from ...metrics.options import IMPORTED_RDM_COMPARISONS
from ..importer_options import RDM_KINDS
from .generic import load_array
from .registry import Importer, register_importer


def to_dissimilarity_vectors(array: np.ndarray, kind: str) -> np.ndarray:
    """Upper-triangle dissimilarities, shape (n_subjects, n_pairs), from any accepted input shape."""
    if kind not in RDM_KINDS:
        raise InputError(f"unknown RDM kind {kind!r}", hint="declare --kind similarity or --kind dissimilarity")
    square = array.ndim == 2 and array.shape[0] == array.shape[1]
    stack = array[None] if array.ndim == 1 or square else array  # 1 subject, or already a stack
    if stack.ndim == 2:  # (n_subjects, n_pairs) condensed
        vectors = stack
    elif stack.ndim == 3 and stack.shape[1] == stack.shape[2]:
        diagonal = 1.0 if kind == "similarity" else 0.0
        for k, matrix in enumerate(stack):
            if not np.allclose(matrix, matrix.T, equal_nan=True):
                raise DataError(f"RDM {k} is not symmetric", hint="give a symmetric matrix or a condensed vector")
            if not np.allclose(np.diag(matrix), diagonal):
                raise DataError(f"RDM {k} has diagonal {np.diag(matrix)[:3]}..., not {diagonal:g}",
                                hint=f"is it a {'dis' if kind == 'similarity' else ''}similarity matrix? "
                                     "check --kind")
        vectors = np.stack([squareform(m, checks=False) for m in stack])
    else:
        raise DataError(f"cannot read an RDM from shape {array.shape}",
                        hint="use (n, n), (n_pairs,), (n_subjects, n, n) or (n_subjects, n_pairs)")
    n_pairs = vectors.shape[1]
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    if n * (n - 1) // 2 != n_pairs:
        raise DataError(f"{n_pairs} values are not the upper triangle of any square matrix",
                        hint="a condensed RDM of n conditions has n*(n-1)/2 values")
    if not np.isfinite(vectors).all():
        raise DataError("the RDM holds NaN or infinite values", hint="fill or drop the missing conditions")
    return 1.0 - vectors if kind == "similarity" else vectors


def import_rdms(path: str | Path, *, kind: str, key: str | None = None, stimulus_ids=None, subjects=None):
    """An ``rsatoolbox.rdm.RDMs`` from a file (see the module docstring)."""
    import rsatoolbox

    vectors = to_dissimilarity_vectors(load_array(path, key), kind)
    n = int(round((1 + np.sqrt(1 + 8 * vectors.shape[1])) / 2))
    ids = np.asarray(stimulus_ids if stimulus_ids is not None else [f"stim{i:04d}" for i in range(n)], dtype=str)
    if len(ids) != n:
        raise DataError(f"the RDM has {n} conditions but {len(ids)} stimulus ids were given",
                        hint="give one stimulus id per row, in the matrix's order")
    subjects = np.asarray(subjects if subjects is not None else [f"s{k}" for k in range(len(vectors))], dtype=str)
    return rsatoolbox.rdm.RDMs(vectors, dissimilarity_measure="1 - similarity" if kind == "similarity" else kind,
                               rdm_descriptors={"subject": list(subjects)},
                               pattern_descriptors={"stimulus_id": list(ids)})


def save_rdms(name: str, rdms, *, source, images, region: str | None = None, species: str = "unknown",
              comparison: str = "spearman", home: Path | None = None, overwrite: bool = False) -> Path:
    """Write ``imported/NAME/{rdms.hdf5, stimuli.zip, stimuli.csv, dataset.json}`` atomically; returns the folder.

    ``images`` is an image source as :func:`.generic.image_source` returns it (called with
    ``keep=``); its ids must cover the RDM's stimulus ids, and only those images are copied. The
    dataset becomes the RSA benchmark
    ``imported.NAME.REGION`` (``imported.NAME`` without a region), compared by ``comparison`` (one of
    :data:`~brainalign.metrics.options.IMPORTED_RDM_COMPARISONS`).
    """
    import functools
    import os
    import shutil

    import pandas as pd

    from ...errors import OutputExistsError
    from ...safe_files import ensure_space, sha256_file, write_json_atomic
    from .dataset import imported_dir, source_record, staging_dir, write_images

    if images is None:
        raise InputError("an RDM import needs the images of its conditions to become a benchmark",
                         hint="pass --images FOLDER|ZIP (one image per stimulus id)")
    if comparison not in IMPORTED_RDM_COMPARISONS:
        raise InputError(f"unknown RDM comparison {comparison!r}",
                         hint=f"use one of {', '.join(IMPORTED_RDM_COMPARISONS)}")
    final = imported_dir(name, home)
    if final.exists() and not overwrite:
        raise OutputExistsError(f"dataset {name!r} is already imported ({final})",
                                hint="pass --overwrite, or `brainalign data remove NAME` first")
    with staging_dir(final, name) as staging:
        ids = [str(i) for i in rdms.pattern_descriptors["stimulus_id"]]
        have = set(write_images(functools.partial(images, keep=frozenset(ids)), staging / "stimuli.zip"))
        missing = [i for i in ids if i not in have]
        if missing:
            raise DataError(f"{len(missing)} RDM condition(s) have no image (first: {missing[0]!r})",
                            hint="stimulus ids must match the image names (paths without suffix)")
        ensure_space(staging, np.asarray(rdms.dissimilarities).nbytes)   # HDF5 cannot survive a full disk
        rdms.save(str(staging / "rdms.hdf5"), file_type="hdf5")
        pd.DataFrame({"stimulus_id": ids}).to_csv(staging / "stimuli.csv", index=False)
        write_json_atomic(staging / "dataset.json", {
            "name": name, "importer": "rdm", "kind": "rdm", "n_stimuli": len(ids), "n_rdms": rdms.n_rdm,
            "dissimilarity_measure": rdms.dissimilarity_measure, "has_images": False, "has_rdm_images": True,
            "regions": [region] if region else [], "species": species, "comparison": comparison,
            "rdms_sha256": sha256_file(staging / "rdms.hdf5"),
            "rows": {"first": ids[0], "last": ids[-1], "n": len(ids)}, "sources": source_record(source)})
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    return final


def load_imported_rdms(name: str, home: Path | None = None):
    """The rsatoolbox RDMs of imported dataset ``name`` (as :func:`save_rdms` wrote them)."""
    import rsatoolbox

    from ...errors import FileFormatError
    from .dataset import imported_dir

    path = imported_dir(name, home) / "rdms.hdf5"
    try:
        return rsatoolbox.rdm.load_rdm(str(path), file_type="hdf5")
    except Exception as exc:  # h5py raises many types for damaged files
        raise FileFormatError(f"cannot read {path} ({type(exc).__name__})",
                              hint=f"import it again: brainalign data import rdm ... --name {name} --overwrite"
                              ) from None


@register_importer
class RDMImporter(Importer):
    """RDM arrays in the generic importer's files; ``open(path, kind=..., **options)`` -> rsatoolbox RDMs.

    ``guess_can_open`` is always False: an array file of RDMs looks like one of responses, and
    whether its values are similarities or dissimilarities is for the user to say
    (``brainalign data import rdm PATH --kind ...``).
    """

    name = "rdm"
    description = "representational (dis)similarity matrices for RSA-only data"

    def open(self, path, *, kind: str, **options):
        return import_rdms(path, kind=kind, **options)
