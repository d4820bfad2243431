"""Kriegeskorte et al. 2008 (Neuron): IT RDMs of 92 object images, as RSA benchmarks.

Data: ``<shared data>/kriegeskorte2008-92-images/``, the two rsatoolbox demo files of the
manifest ``kriegeskorte2008`` (checked against its sha256s), read by the ``kriegeskorte2008``
importer (:mod:`brainalign.neural.importers.kriegeskorte2008`).

Benchmarks (registered only when the folder is present):

- ``kriegeskorte2008.IT``: human IT, one RDM per subject = the mean of its two session RDMs, so the
  rsatoolbox noise ceiling is taken over the 4 subjects;
- ``kriegeskorte2008.IT.monkey``: the monkey IT RDM (one animal: no ceiling, NaN with a note);
- ``kriegeskorte2008.IT.cka``: as ``.IT`` with linear CKA between the RDMs' centred Grams
  (-1/2 H D H; for a correlation-distance RDM, the Gram of the z-scored patterns).

Stimulus ids are ``k92-00`` .. ``k92-91`` in the files' image order; metadata columns ``category``
(6 classes: human/nonhuman face/bodypart, natural/artificial inanimate, used to stratify the
layer-selection split), ``human``, ``face``, ``animal``, ``natural``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.distance import squareform

from ..config import shared_data_dir
from ..errors import FileFormatError
from ..neural.importers.kriegeskorte2008 import BRAIN_RDMS, N_IMAGES, SUPPLEMENT, stimulus_ids
from ..neural.manifests import load_manifest
from ..safe_files import sha256_bytes
from ..stimuli.stimulus_set import StimulusSet, as_rgb_float
from .catalog import KRIEGESKORTE_FOLDER
from .rsa import RSABenchmark, RSAProtocol

FOLDER = KRIEGESKORTE_FOLDER
MANIFEST = "kriegeskorte2008"
VERSION = "1"
CITATION = ("Kriegeskorte N, Mur M, Ruff DA, Kiani R, Bodurka J, Esteky H, Tanaka K, Bandettini PA (2008). "
            "Matching categorical object representations in inferior temporal cortex of man and monkey. "
            "Neuron 60(6):1126-1141. Data: rsagroup/rsatoolbox demos (MIT).")
PROTOCOL = RSAProtocol(rdm="correlation", comparison="spearman")
PROTOCOL_CKA = RSAProtocol(rdm="correlation", comparison="cka",
                           ceiling="leave-one-subject-out, subjects pooled by their mean RDM; "
                                   "ceiled = raw / upper bound")


def data_folder() -> Path:
    """The folder holding the Kriegeskorte 2008 files."""
    return shared_data_dir() / FOLDER


def read_file(name: str):
    """``data_folder()/name`` read by the manifest ``kriegeskorte2008``'s importer, after its sha256 check."""
    return load_manifest(MANIFEST).open(data_folder(), name)


@functools.lru_cache(maxsize=1)
def _supplement() -> tuple[np.ndarray, pd.DataFrame, dict]:
    """Images (92, 175, 175, 3) uint8, metadata, and the fig. 1 RDM vectors {name: (4186,)}."""
    return read_file(SUPPLEMENT)


def stimulus_set() -> StimulusSet:
    """The 92 images as a StimulusSet named ``kriegeskorte2008``."""
    images, metadata, _ = _supplement()
    digest = sha256_bytes("\n".join(metadata["stimulus_id"]).encode(), np.ascontiguousarray(images).tobytes())
    return StimulusSet(identifier="kriegeskorte2008", metadata=metadata, loader=lambda i: as_rgb_float(images[i]),
                       content_hash=digest)


def human_session_rdms() -> tuple[np.ndarray, list[str], list[int]]:
    """Human IT RDMs (8, 92, 92), with the subject initials and session (1, 2) of each."""
    return read_file(BRAIN_RDMS)


@functools.lru_cache(maxsize=1)
def human_it_target():
    """Human IT RDMs as rsatoolbox RDMs: one per subject, the mean of its two sessions."""
    from ..metrics.rsa import rdms_from_matrices

    matrices, subjects, _ = human_session_rdms()
    names = sorted(set(subjects))
    per_subject = np.stack([matrices[[s == name for s in subjects]].mean(axis=0) for name in names])
    return rdms_from_matrices(per_subject, stimulus_ids(), subjects=names, measure="1 - Pearson r (fMRI voxels)",
                              name="kriegeskorte2008 human IT")


def _figure_rdm(prefix: str) -> np.ndarray:
    vectors = _supplement()[2]
    names = [n for n in vectors if n.startswith(prefix)]
    if len(names) != 1:
        raise FileFormatError(f"{SUPPLEMENT}: expected one RDM named {prefix}*, found {names}")
    vector = vectors[names[0]]
    if vector.size != N_IMAGES * (N_IMAGES - 1) // 2:
        raise FileFormatError(f"{SUPPLEMENT}: RDM {names[0]} has {vector.size} entries")
    return squareform(vector)


@functools.lru_cache(maxsize=1)
def monkey_it_target():
    """The monkey IT RDM (674 neurons) as rsatoolbox RDMs (one RDM)."""
    from ..metrics.rsa import rdms_from_matrices

    return rdms_from_matrices(_figure_rdm("mIT"), stimulus_ids(), subjects=["monkey"],
                              measure="1 - Pearson r (674 IT neurons)", name="kriegeskorte2008 monkey IT")


def _dataset_record(*files: str) -> dict:
    manifest = load_manifest(MANIFEST)
    return {"id": FOLDER, "files": {name: manifest.file(name).hash.partition(":")[2] for name in files},
            "path": str(data_folder())}


def make_human() -> RSABenchmark:
    """The ``kriegeskorte2008.IT`` benchmark."""
    return RSABenchmark(
        identifier="kriegeskorte2008.IT", version=VERSION, region="IT", species="human",
        description="human IT fMRI RDMs of 92 object images (4 subjects, sessions averaged); RSA, Spearman",
        load_target=human_it_target, load_stimuli=stimulus_set, stratify_coord="category", protocol=PROTOCOL,
        dataset=_dataset_record(SUPPLEMENT, BRAIN_RDMS), citation=CITATION)


def make_human_cka() -> RSABenchmark:
    """The ``kriegeskorte2008.IT.cka`` benchmark."""
    return RSABenchmark(
        identifier="kriegeskorte2008.IT.cka", version=VERSION, region="IT", species="human",
        description="human IT fMRI RDMs of 92 object images (4 subjects); linear CKA of the RDMs' centred Grams",
        load_target=human_it_target, load_stimuli=stimulus_set, stratify_coord="category", protocol=PROTOCOL_CKA,
        dataset=_dataset_record(SUPPLEMENT, BRAIN_RDMS), citation=CITATION, ranked=False)


def make_monkey() -> RSABenchmark:
    """The ``kriegeskorte2008.IT.monkey`` benchmark."""
    return RSABenchmark(
        identifier="kriegeskorte2008.IT.monkey", version=VERSION, region="IT", species="macaque",
        description="monkey IT RDM of 92 object images (674 neurons, one animal: no ceiling); RSA, Spearman",
        load_target=monkey_it_target, load_stimuli=stimulus_set, stratify_coord="category", protocol=PROTOCOL,
        dataset=_dataset_record(SUPPLEMENT), citation=CITATION)
