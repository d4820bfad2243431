"""Mouse visual cortex RDMs from the Allen Brain Observatory two-photon data, as RSA benchmarks.

Data (``<shared data>/``, registered only when both folders are present; each file is checked
against the sha256 of its manifest, ``allen2p-conwell2021`` and ``allen-natural-scenes-31px``, and
read by that manifest's importer, ``allen2p-rdms`` and ``image-stack``):

- ``allen-2p-area-rdms/similarity_119x119_by_area_layer.npz``: population *similarity* matrices
  (Pearson r between images across the reliable cells, split-half r > 0.75, pooled over mice),
  one per area x cortical layer (21 keys ``AREA__LAYER``); rows 0..117 are the natural scenes in
  Allen frame order, row 118 the blank (grey) screen. From Conwell et al. 2021
  (ColinConwell/DeepMouseTrap, ``neural_data/compute_neural_rdms.py``).
- ``allen-2p-area-rdms/noise_ceiling.csv``: their published split-half reliability of each RDM
  (mean and sem over random halves), DeepMouseTrap's ``neural_data/rdms_noise_ceiling.csv``.
- ``allen-natural-scenes-31px/images_118x31x31_uint8.npy``: the 118 scenes, 31 x 31 grayscale,
  in frame order.

Benchmarks:

- ``allen2p.AREA.LAYER`` (21): one RDM, dissimilarity 1 - r over the 118 scenes (the blank row
  dropped); a model layer's correlation-distance RDM is compared by Pearson r of the upper
  triangles (as in Conwell et al.'s RSA, whose score is r**2); ceiling = the published
  reliability c; ceiled = sign(r) r**2 / c (``r2/c``). Supplementary views (``ranked`` False).
- ``allen2p.AREA`` (6, ranked): the area's cortical-layer RDMs together (3 or 4 of them): raw = mean
  r over the layers; ceiling = mean c; ceiled = mean sign(r) r**2 / mean c, i.e. the per-layer
  ceiled scores averaged with weights c (noisy RDMs, such as VISrl layer 5 with c = 0.13, count
  for little instead of dividing by a tiny ceiling). The layers are not pooled into one RDM: the
  files hold no cells, so an area RDM over all its cells cannot be rebuilt, and averaging
  correlation matrices of different cell counts would weight them arbitrarily.

Stimulus ids are ``scene000`` .. ``scene117`` (as ``brainalign data import allen-2p`` names them);
each model's own preprocessing resizes the 31-pixel scenes to its input size. Layer commitment
uses a seeded 59 / 59 split of the scenes (unstratified).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import shared_data_dir
from ..errors import FileFormatError
from ..neural.importers.allen2p_rdms import CEILINGS, SIMILARITIES
from ..neural.manifests import load_manifest
from ..safe_files import sha256_bytes
from ..stimuli.stimulus_set import StimulusSet, as_rgb_float
from .catalog import ALLEN2P_IMAGE_FOLDER as IMAGE_FOLDER, ALLEN2P_LAYERS as LAYERS, ALLEN2P_RDM_FOLDER as RDM_FOLDER
from .rsa import PublishedCeiling, RSABenchmark, RSAProtocol

IMAGES = "images_118x31x31_uint8.npy"
RDM_MANIFEST = "allen2p-conwell2021"
IMAGE_MANIFEST = "allen-natural-scenes-31px"
N_SCENES = 118
BLANK_ROW = 118
VERSION = "1"
PROTOCOL = RSAProtocol(rdm="correlation", comparison="corr",
                       ceiling="published split-half reliability c of each RDM (Conwell et al. 2021); "
                               "ceiled = mean sign(r) r^2 / mean c over the benchmark's RDMs (r2/c)")
CEILING_SOURCE = ("Conwell et al. 2021, ColinConwell/DeepMouseTrap neural_data/rdms_noise_ceiling.csv "
                  "(shared data allen-2p-area-rdms/noise_ceiling.csv)")
CEILING_DESCRIPTION = ("split-half reliability of the RDM: mean over random split halves of the reliable cells of "
                       "the correlation between the halves' RDMs, Spearman-Brown corrected (DeepMouseTrap "
                       "neural_reliability.splithalf_r, mode 'spearman-brown'); an estimate of the reliability "
                       "that a perfect model's r**2 reaches")
CITATION = ("de Vries SEJ et al. (2020). A large-scale standardized physiological survey reveals functional "
            "organization of the mouse visual cortex. Nat Neurosci 23:138-151 (Allen Brain Observatory; Allen "
            "Institute terms of use). RDMs and ceilings: Conwell C, Mayo D, Barbu A, Buice M, Alvarez G, Katz B "
            "(2021). Neural regression, representational similarity, model zoology & neural taskonomy at scale in "
            "rodent visual cortex. NeurIPS 34 (ColinConwell/DeepMouseTrap).")


def rdm_folder() -> Path:
    return shared_data_dir() / RDM_FOLDER


def image_folder() -> Path:
    return shared_data_dir() / IMAGE_FOLDER


def stimulus_ids() -> np.ndarray:
    """``scene000`` .. ``scene117``, the Allen frame order of the RDM rows."""
    from ..neural.importers.allen_2p import scene_id

    return np.array([scene_id(k) for k in range(N_SCENES)])


@functools.lru_cache(maxsize=1)
def similarity_matrices() -> dict[tuple[str, str], np.ndarray]:
    """{(area, layer): similarity matrix (118, 118)}, the blank row and column removed."""
    read = load_manifest(RDM_MANIFEST).open(rdm_folder(), SIMILARITIES)
    expected = {(area, layer) for area, layers in LAYERS.items() for layer in layers}
    if set(read) != expected:
        raise FileFormatError(f"{SIMILARITIES}: matrices {sorted(read)} differ from the release's {sorted(expected)}")
    keep = np.arange(N_SCENES + 1) != BLANK_ROW
    matrices = {}
    for (area, layer), matrix in sorted(read.items()):
        if matrix.shape != (N_SCENES + 1, N_SCENES + 1):
            raise FileFormatError(f"{SIMILARITIES}:{area}__{layer} has shape {matrix.shape}, expected (119, 119)")
        matrices[area, layer] = matrix[np.ix_(keep, keep)]
    return matrices


@functools.lru_cache(maxsize=1)
def published_ceilings() -> pd.DataFrame:
    """The published reliability table: columns area, layer, mean, sem (one row per RDM)."""
    table = load_manifest(RDM_MANIFEST).open(rdm_folder(), CEILINGS)
    have = set(zip(table["area"], table["layer"]))
    missing = [(a, layer) for a, layers in LAYERS.items() for layer in layers if (a, layer) not in have]
    if missing:
        raise FileFormatError(f"{CEILINGS} has no ceiling for {missing[0][0]} {missing[0][1]}")
    return table


@functools.lru_cache(maxsize=None)
def _target(area: str, layers: tuple[str, ...]):
    from ..metrics.rsa import rdms_from_matrices

    matrices = similarity_matrices()
    return rdms_from_matrices(np.stack([1.0 - matrices[area, layer] for layer in layers]), stimulus_ids(),
                              subjects=list(layers), measure="1 - Pearson r across reliable cells (two-photon)",
                              name=f"allen2p {area} {','.join(layers)}")


def _ceiling(area: str, layers: tuple[str, ...]) -> PublishedCeiling:
    table = published_ceilings().set_index(["area", "layer"])
    return PublishedCeiling(values={layer: float(table.loc[(area, layer), "mean"]) for layer in layers},
                            sem={layer: float(table.loc[(area, layer), "sem"]) for layer in layers},
                            source=CEILING_SOURCE, description=CEILING_DESCRIPTION)


@functools.lru_cache(maxsize=1)
def stimulus_set() -> StimulusSet:
    """The 118 scenes (31 x 31 grayscale, as RGB floats) as the StimulusSet ``allen-natural-scenes``."""
    images = load_manifest(IMAGE_MANIFEST).open(image_folder(), IMAGES)
    if images.shape != (N_SCENES, 31, 31) or images.dtype != np.uint8:
        raise FileFormatError(f"{IMAGES}: shape {images.shape} {images.dtype}, expected (118, 31, 31) uint8")
    ids = stimulus_ids()
    metadata = pd.DataFrame({"stimulus_id": ids, "frame": np.arange(N_SCENES)})
    return StimulusSet(identifier="allen-natural-scenes-31px", metadata=metadata,
                       loader=lambda i: as_rgb_float(images[i]),
                       content_hash=sha256_bytes("\n".join(ids).encode(), images.tobytes()))


def make_allen2p(area: str, layer: str | None = None) -> RSABenchmark:
    """``allen2p.AREA`` (all its cortical layers) or ``allen2p.AREA.LAYER``."""
    layers = LAYERS[area] if layer is None else (layer,)
    what = f"{area} {layer}" if layer else f"{area}, cortical layers {', '.join(layers)} (reliability-weighted)"
    return RSABenchmark(
        identifier=f"allen2p.{area}" + (f".{layer}" if layer else ""), version=VERSION, region=area,
        species="mouse",
        description=f"mouse {what}: two-photon population RDM(s) over the 118 Allen natural scenes "
                    "(pooled over mice), 1 - r; RSA by Pearson r, published split-half ceiling",
        load_target=functools.partial(_target, area, layers), load_stimuli=stimulus_set, protocol=PROTOCOL,
        published_ceiling=_ceiling(area, layers), citation=CITATION, ranked=layer is None,
        dataset={"id": "allen2p-conwell2021", "files": _file_hashes(), "rdm_rows": "scenes 0..117 (blank row 118 "
                 "excluded)", "path": str(rdm_folder())})


def _file_hashes() -> dict[str, str]:
    """{file name: sha256} of the RDM, ceiling and image files, from their manifests."""
    files = (*load_manifest(RDM_MANIFEST).files, *load_manifest(IMAGE_MANIFEST).files)
    return {f.name: f.hash.partition(":")[2] for f in files}

