"""Benchmarks on real recordings, registered only when their data are on disk.

- ``cowley2023.V4``: macaque V4, session 210325 of Cowley et al. 2023 (50 neurons, 640 images,
  up to 10 NaN-padded repeats), read from the shared data folder
  (``$BRAINALIGN_SHARED_DATA/cowley2023-macaque-v4``) by the ``cowley2023`` importer, its two
  files checked against the manifest ``cowley2023``.
- ``imported.NAME[.REGION]``: every dataset written by ``brainalign data import`` into the data
  home, one benchmark per region; an RDM import (with its images) is an RSA benchmark scored like
  ``kriegeskorte2008.IT`` (correlation-distance model RDMs, leave-one-subject-out ceiling).

:func:`brainalign.benchmarks.catalog.available` declares them when their files exist; no data
are read until a benchmark is loaded.
"""

from __future__ import annotations

import functools
from pathlib import Path


from ..config import shared_data_dir
from ..errors import DataError
from .predictivity import NeuralBenchmark
from .protocols import protocol_for_stimuli
from .catalog import COWLEY_FOLDER, COWLEY_SESSION, imported_id

COWLEY_MANIFEST = "cowley2023"
COWLEY_VERSION = "1"
COWLEY_CITATION = ("Cowley, B. R., Stan, P. L., Pillow, J. W. & Smith, M. A. (2023). Compact deep neural network "
                   "models of visual cortex. bioRxiv 2023.11.22.568315. Data: cowleygroup/V4_compact_models (GPL-3.0).")


@functools.lru_cache(maxsize=4)
def _cowley(folder: str):
    """(assembly, stimulus set, dataset record) of the Cowley V4 session under ``folder``.

    Both files are checked against the manifest ``cowley2023`` and read by its importer.
    """
    from ..neural.assembly import validate_assembly
    from ..neural.importers import get_importer
    from ..neural.importers.cowley2023 import cowley_files
    from ..neural.manifests import load_manifest
    from ..stimuli.sources import zip_stimulus_set

    manifest = load_manifest(COWLEY_MANIFEST)
    paths = cowley_files(folder, COWLEY_SESSION)
    files = {p.name: manifest.verify(p).partition(":")[2] for p in paths}
    dataset = get_importer(manifest.importer).open(folder, name="cowley2023.V4", session=COWLEY_SESSION)
    stimuli = zip_stimulus_set(paths[1])
    if list(dataset.metadata["stimulus_id"]) != list(stimuli.stimulus_ids):
        raise DataError(f"{paths[1].name}: the images' ids differ from the importer's rows",
                        hint="the zip is not the released one; replace it with the original")
    assembly = validate_assembly(dataset.assembly, nan_policy="missing")
    return assembly, stimuli, {"id": f"cowley2023.V4.{COWLEY_SESSION}", "session": COWLEY_SESSION, "files": files}


def make_cowley2023_v4(folder: str | Path | None = None) -> NeuralBenchmark:
    """The ``cowley2023.V4`` benchmark (PLS-25, Brain-Score protocol, split-half ceiling)."""
    folder = str(Path(folder) if folder is not None else shared_data_dir() / COWLEY_FOLDER)
    assembly, stimuli, record = _cowley(folder)
    return NeuralBenchmark(
        identifier="cowley2023.V4", version=COWLEY_VERSION, region="V4", species="macaque",
        description=f"macaque V4, session {COWLEY_SESSION}: 50 neurons x 640 images, up to 10 repeats "
                    "(spike counts in 100 ms)",
        load_assembly=lambda: assembly, load_stimuli=lambda: stimuli, dataset=record, citation=COWLEY_CITATION)


def make_imported(record: dict, region: str | None) -> NeuralBenchmark:
    """The benchmark of an imported assembly dataset (`brainalign data import`), for one region or all."""
    from ..neural.importers.dataset import load_imported_assembly, load_imported_stimuli

    name = record["name"]
    home = Path(record["folder"]).parent.parent
    assembly = load_imported_assembly(name, home)
    if region is not None:
        assembly = assembly.isel(neuroid=assembly["region"].values.astype(str) == region)
    return NeuralBenchmark(
        identifier=imported_id(name, region), version=record["assembly_sha256"][:12],
        protocol=protocol_for_stimuli(int(record["n_stimuli"])),
        region=region or "unknown", species=record.get("species", "unknown"),
        description=f"imported dataset {name} ({record.get('importer', '?')})",
        load_assembly=lambda: assembly, load_stimuli=lambda: load_imported_stimuli(name, home),
        stratify_coord=record.get("stratify"),
        dataset={"id": name, "importer": record.get("importer"), "sha256": record["assembly_sha256"],
                 "time_window": record.get("time_window"), "selection": record.get("selection")})


def make_imported_rdm(record: dict, region: str | None):
    """The RSA benchmark of an imported RDM dataset (``brainalign data import rdm``)."""
    from ..neural.importers.dataset import load_imported_stimuli
    from ..neural.importers.rdm import load_imported_rdms
    from .rsa import RSABenchmark, RSAProtocol

    name = record["name"]
    home = Path(record["folder"]).parent.parent
    return RSABenchmark(
        identifier=imported_id(name, region), version=record["rdms_sha256"][:12], region=region or "unknown",
        species=record.get("species", "unknown"),
        description=f"imported RDMs {name}: {record.get('n_rdms')} RDM(s) of {record.get('n_stimuli')} stimuli; "
                    f"RSA, {record.get('comparison', 'spearman')}",
        load_target=functools.partial(load_imported_rdms, name, home),
        load_stimuli=functools.partial(load_imported_stimuli, name, home),
        protocol=RSAProtocol(rdm="correlation", comparison=record.get("comparison", "spearman")),
        dataset={"id": name, "importer": "rdm", "sha256": record["rdms_sha256"],
                 "dissimilarity_measure": record.get("dissimilarity_measure"), "sources": record.get("sources")})

