"""Kriegeskorte et al. 2008 (Neuron): IT RDMs of 92 object images, as RSA benchmarks.

Data: ``<shared data>/kriegeskorte2008-92-images/`` (rsatoolbox demo files, MATLAB v5):

- ``Kriegeskorte_Neuron2008_supplementalData.mat``: ``stimuli_92objs`` (the 92 images, 175 x 175
  RGB, with category labels) and ``RDMs_mIT_hIT_fig1`` (monkey IT, 674 neurons; human IT average,
  316 voxels; condensed 1 - r vectors of length 92 * 91 / 2);
- ``92_brainRDMs.mat``: human IT RDMs (fMRI), 4 subjects x 2 sessions, (92, 92) each.

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

from .._io import sha256_bytes, sha256_file
from ..config import shared_data_dir
from ..errors import ChecksumError, FileFormatError
from ..stimuli.stimulus_set import StimulusSet, as_rgb_float
from .catalog import KRIEGESKORTE_FOLDER
from .rsa import RSABenchmark, RSAProtocol

FOLDER = KRIEGESKORTE_FOLDER
SUPPLEMENT = "Kriegeskorte_Neuron2008_supplementalData.mat"
BRAIN_RDMS = "92_brainRDMs.mat"
N_IMAGES = 92
SHA256 = {SUPPLEMENT: "06f21214399a5d43dc264eed19a7f4b8daf11c8622a59eec3e106064ce5e3504",
          BRAIN_RDMS: "1743f90a15e895798a94318649e80e1123a7e5943a1703fa1dd7c31ea5780b7c"}
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


def _loadmat(name: str) -> dict:
    from scipy.io import loadmat

    path = data_folder() / name
    if not path.is_file():
        raise FileFormatError(f"missing {path}", hint=f"the {FOLDER} folder of the shared data must hold {name}")
    actual = sha256_file(path)
    if actual != SHA256[name]:
        raise ChecksumError(f"{path} has sha256 {actual}, expected {SHA256[name]}",
                            hint="the file is not the rsatoolbox demo file; replace it with the original")
    try:
        return loadmat(path)
    except (OSError, ValueError, TypeError) as exc:
        raise FileFormatError(f"cannot read {path} as a MATLAB file: {exc}") from exc


def _field(mat: dict, key: str, path: str):
    if key not in mat:
        raise FileFormatError(f"{path} has no variable {key!r}", hint="is it the rsatoolbox demo file?")
    return mat[key]


def stimulus_ids() -> np.ndarray:
    """The 92 stimulus ids, in the files' image order."""
    return np.array([f"k92-{i:02d}" for i in range(N_IMAGES)])


@functools.lru_cache(maxsize=1)
def _supplement() -> tuple[np.ndarray, pd.DataFrame, dict]:
    """Images (92, 175, 175, 3) uint8, metadata, and the fig. 1 RDM vectors {name: (4186,)}."""
    mat = _loadmat(SUPPLEMENT)
    stimuli = _field(mat, "stimuli_92objs", SUPPLEMENT).reshape(-1)
    if len(stimuli) != N_IMAGES:
        raise FileFormatError(f"{SUPPLEMENT}: expected {N_IMAGES} stimuli, found {len(stimuli)}")
    images = np.stack([np.asarray(s["image"], dtype=np.uint8) for s in stimuli])
    metadata = pd.DataFrame({
        "stimulus_id": stimulus_ids(),
        "category": [str(np.ravel(s["category"])[0]) for s in stimuli],
        **{flag: [int(np.ravel(s[flag])[0]) for s in stimuli] for flag in ("human", "face", "animal", "natural")},
    })
    figure = _field(mat, "RDMs_mIT_hIT_fig1", SUPPLEMENT).reshape(-1)
    vectors = {str(np.ravel(r["name"])[0]): np.asarray(r["RDM"], dtype=np.float64).reshape(-1) for r in figure}
    return images, metadata, vectors


def stimulus_set() -> StimulusSet:
    """The 92 images as a StimulusSet named ``kriegeskorte2008``."""
    images, metadata, _ = _supplement()
    digest = sha256_bytes("\n".join(metadata["stimulus_id"]).encode(), np.ascontiguousarray(images).tobytes())
    return StimulusSet(identifier="kriegeskorte2008", metadata=metadata, loader=lambda i: as_rgb_float(images[i]),
                       content_hash=digest)


def human_session_rdms() -> tuple[np.ndarray, list[str], list[int]]:
    """Human IT RDMs (8, 92, 92), with the subject initials and session (1, 2) of each."""
    struct = _field(_loadmat(BRAIN_RDMS), "RDMs", BRAIN_RDMS).reshape(-1)
    matrices, subjects, sessions = [], [], []
    for entry in struct:
        name = str(np.ravel(entry["name"])[0])  # e.g. 'hIT | BE | Session: 1'
        parts = [p.strip() for p in name.split("|")]
        if len(parts) != 3 or not parts[2].startswith("Session:"):
            raise FileFormatError(f"{BRAIN_RDMS}: unexpected RDM name {name!r}")
        matrices.append(np.asarray(entry["RDM"], dtype=np.float64))
        subjects.append(parts[1])
        sessions.append(int(parts[2].split(":")[1]))
    matrices = np.stack(matrices)
    if matrices.shape[1:] != (N_IMAGES, N_IMAGES):
        raise FileFormatError(f"{BRAIN_RDMS}: RDMs of shape {matrices.shape[1:]}, expected (92, 92)")
    return matrices, subjects, sessions


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
    return {"id": FOLDER, "files": {name: SHA256[name] for name in files}, "path": str(data_folder())}


def _human() -> RSABenchmark:
    return RSABenchmark(
        identifier="kriegeskorte2008.IT", version=VERSION, region="IT", species="human",
        description="human IT fMRI RDMs of 92 object images (4 subjects, sessions averaged); RSA, Spearman",
        load_target=human_it_target, load_stimuli=stimulus_set, stratify_coord="category", protocol=PROTOCOL,
        dataset=_dataset_record(SUPPLEMENT, BRAIN_RDMS), citation=CITATION)


def _human_cka() -> RSABenchmark:
    return RSABenchmark(
        identifier="kriegeskorte2008.IT.cka", version=VERSION, region="IT", species="human",
        description="human IT fMRI RDMs of 92 object images (4 subjects); linear CKA of the RDMs' centred Grams",
        load_target=human_it_target, load_stimuli=stimulus_set, stratify_coord="category", protocol=PROTOCOL_CKA,
        dataset=_dataset_record(SUPPLEMENT, BRAIN_RDMS), citation=CITATION, ranked=False)


def _monkey() -> RSABenchmark:
    return RSABenchmark(
        identifier="kriegeskorte2008.IT.monkey", version=VERSION, region="IT", species="macaque",
        description="monkey IT RDM of 92 object images (674 neurons, one animal: no ceiling); RSA, Spearman",
        load_target=monkey_it_target, load_stimuli=stimulus_set, stratify_coord="category", protocol=PROTOCOL,
        dataset=_dataset_record(SUPPLEMENT), citation=CITATION)
