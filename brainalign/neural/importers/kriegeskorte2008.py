"""Kriegeskorte et al. 2008's release files (rsatoolbox demos, MATLAB v5): images and IT RDMs.

- ``Kriegeskorte_Neuron2008_supplementalData.mat``: ``stimuli_92objs`` (the 92 images, 175 x 175
  RGB, with category labels) and ``RDMs_mIT_hIT_fig1`` (monkey IT, 674 neurons; human IT
  average, 316 voxels; condensed 1 - r vectors of length 92 * 91 / 2);
- ``92_brainRDMs.mat``: ``RDMs``, human IT RDMs (fMRI), 4 subjects x 2 sessions, (92, 92) each,
  named like ``'hIT | BE | Session: 1'``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import FileFormatError
from .registry import Importer, register_importer

SUPPLEMENT = "Kriegeskorte_Neuron2008_supplementalData.mat"
BRAIN_RDMS = "92_brainRDMs.mat"
N_IMAGES = 92


def stimulus_ids() -> np.ndarray:
    """The 92 stimulus ids ``k92-00`` .. ``k92-91``, in the files' image order."""
    return np.array([f"k92-{i:02d}" for i in range(N_IMAGES)])


def _loadmat(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        return loadmat(path)
    except (OSError, ValueError, TypeError) as exc:
        raise FileFormatError(f"cannot read {path} as a MATLAB file: {exc}") from exc


def _field(mat: dict, key: str, path: Path):
    if key not in mat:
        raise FileFormatError(f"{path.name} has no variable {key!r}", hint="is it the rsatoolbox demo file?")
    return mat[key]


def read_supplement(path: str | os.PathLike) -> tuple[np.ndarray, pd.DataFrame, dict]:
    """The supplemental-data file: images, metadata and the figure 1 RDM vectors.

    Returns
    -------
    images : uint8 ndarray of shape (92, 175, 175, 3).
    metadata : DataFrame, one row per image: ``stimulus_id`` (``k92-NN``), ``category`` (6
        classes) and the 0/1 flags ``human``, ``face``, ``animal``, ``natural``.
    vectors : {RDM name: float ndarray of shape (4186,)}, condensed 1 - r.
    """
    path = Path(path)
    mat = _loadmat(path)
    stimuli = _field(mat, "stimuli_92objs", path).reshape(-1)
    if len(stimuli) != N_IMAGES:
        raise FileFormatError(f"{path.name}: expected {N_IMAGES} stimuli, found {len(stimuli)}")
    images = np.stack([np.asarray(s["image"], dtype=np.uint8) for s in stimuli])
    metadata = pd.DataFrame({
        "stimulus_id": stimulus_ids(),
        "category": [str(np.ravel(s["category"])[0]) for s in stimuli],
        **{flag: [int(np.ravel(s[flag])[0]) for s in stimuli] for flag in ("human", "face", "animal", "natural")},
    })
    figure = _field(mat, "RDMs_mIT_hIT_fig1", path).reshape(-1)
    vectors = {str(np.ravel(r["name"])[0]): np.asarray(r["RDM"], dtype=np.float64).reshape(-1) for r in figure}
    return images, metadata, vectors


def read_brain_rdms(path: str | os.PathLike) -> tuple[np.ndarray, list[str], list[int]]:
    """Human IT RDMs of ``92_brainRDMs.mat``: (8, 92, 92), with each one's subject initials and session."""
    path = Path(path)
    struct = _field(_loadmat(path), "RDMs", path).reshape(-1)
    matrices, subjects, sessions = [], [], []
    for entry in struct:
        name = str(np.ravel(entry["name"])[0])  # e.g. 'hIT | BE | Session: 1'
        parts = [p.strip() for p in name.split("|")]
        if len(parts) != 3 or not parts[2].startswith("Session:"):
            raise FileFormatError(f"{path.name}: unexpected RDM name {name!r}")
        matrices.append(np.asarray(entry["RDM"], dtype=np.float64))
        subjects.append(parts[1])
        sessions.append(int(parts[2].split(":")[1]))
    matrices = np.stack(matrices)
    if matrices.shape[1:] != (N_IMAGES, N_IMAGES):
        raise FileFormatError(f"{path.name}: RDMs of shape {matrices.shape[1:]}, expected (92, 92)")
    return matrices, subjects, sessions


@register_importer
class Kriegeskorte2008Importer(Importer):
    """The two release files, recognised by their MATLAB variables (or a folder holding them).

    ``open(path)`` of the supplemental-data file returns :func:`read_supplement`'s triple; of
    ``92_brainRDMs.mat``, :func:`read_brain_rdms`'s; of a folder, ``{file name: that result}``.
    """

    name = "kriegeskorte2008"
    description = "Kriegeskorte et al. 2008 92-image release (rsatoolbox demo .mat files: images, IT RDMs)"

    def guess_can_open(self, path) -> bool:
        path = Path(path)
        if path.is_dir():
            return all((path / name).is_file() for name in (SUPPLEMENT, BRAIN_RDMS))
        return path.suffix == ".mat" and path.is_file() and self._kind(path) is not None

    @staticmethod
    def _kind(path: Path) -> str | None:
        from scipy.io import whosmat

        try:
            variables = {name: (shape, kind) for name, shape, kind in whosmat(path)}
        except (OSError, ValueError, TypeError):
            return None
        if "stimuli_92objs" in variables and "RDMs_mIT_hIT_fig1" in variables:
            return SUPPLEMENT
        return BRAIN_RDMS if variables == {"RDMs": ((1, 4, 2), "struct")} else None

    def open(self, path, **options):
        path = Path(path)
        if path.is_dir():
            return {SUPPLEMENT: read_supplement(path / SUPPLEMENT), BRAIN_RDMS: read_brain_rdms(path / BRAIN_RDMS)}
        kind = self._kind(path) if path.is_file() else None
        if kind is None:
            raise FileFormatError(f"{path} is not a file of the Kriegeskorte 2008 release",
                                  hint=f"expected {SUPPLEMENT} or {BRAIN_RDMS} (rsatoolbox demos/92imageData)")
        return read_supplement(path) if kind == SUPPLEMENT else read_brain_rdms(path)
