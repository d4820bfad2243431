"""Benchmarks on real recordings, registered only when their data are on disk.

- ``cowley2023.V4``: macaque V4, session 210325 of Cowley et al. 2023 (50 neurons, 640 images,
  up to 10 NaN-padded repeats), read from the shared data folder
  (``$BRAINALIGN_SHARED_DATA/cowley2023-macaque-v4``) by the ``cowley2023`` importer, its two
  files checked against the manifest ``cowley2023``.
- ``imported.NAME[.REGION]``: every dataset written by ``brainalign data import`` into the data
  home, one benchmark per region; an RDM import (with its images) is an RSA benchmark scored like
  ``kriegeskorte2008.IT`` (correlation-distance model RDMs, leave-one-subject-out ceiling).

:func:`register_available` is called on every registry lookup; it only looks for files (no data
is read until a benchmark is loaded) and registers what it has not registered yet.
"""

from __future__ import annotations

import functools
from pathlib import Path


from ..config import shared_data_dir
from ..errors import DataError
from .base import NeuralBenchmark, protocol_for_stimuli
from .registry import is_registered, register_benchmark

COWLEY_FOLDER = "cowley2023-macaque-v4"
COWLEY_MANIFEST = "cowley2023"
COWLEY_SESSION = "210325"
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


def _make_imported(record: dict, region: str | None) -> NeuralBenchmark:
    from ..neural.importers.dataset import load_imported_assembly, load_imported_stimuli

    name = record["name"]
    home = Path(record["folder"]).parent.parent
    assembly = load_imported_assembly(name, home)
    if region is not None:
        assembly = assembly.isel(neuroid=assembly["region"].values.astype(str) == region)
    return NeuralBenchmark(
        identifier=_imported_id(name, region), version=record["assembly_sha256"][:12],
        protocol=protocol_for_stimuli(int(record["n_stimuli"])),
        region=region or "unknown", species=record.get("species", "unknown"),
        description=f"imported dataset {name} ({record.get('importer', '?')})",
        load_assembly=lambda: assembly, load_stimuli=lambda: load_imported_stimuli(name, home),
        stratify_coord=record.get("stratify"),
        dataset={"id": name, "importer": record.get("importer"), "sha256": record["assembly_sha256"],
                 "time_window": record.get("time_window"), "selection": record.get("selection")})


def _make_imported_rdm(record: dict, region: str | None):
    """The RSA benchmark of an imported RDM dataset (``brainalign data import rdm``)."""
    from ..neural.importers.dataset import load_imported_stimuli
    from ..neural.importers.rdm import load_imported_rdms
    from .rsa import RSABenchmark, RSAProtocol

    name = record["name"]
    home = Path(record["folder"]).parent.parent
    return RSABenchmark(
        identifier=_imported_id(name, region), version=record["rdms_sha256"][:12], region=region or "unknown",
        species=record.get("species", "unknown"),
        description=f"imported RDMs {name}: {record.get('n_rdms')} RDM(s) of {record.get('n_stimuli')} stimuli; "
                    f"RSA, {record.get('comparison', 'spearman')}",
        load_target=functools.partial(load_imported_rdms, name, home),
        load_stimuli=functools.partial(load_imported_stimuli, name, home),
        protocol=RSAProtocol(rdm="correlation", comparison=record.get("comparison", "spearman")),
        dataset={"id": name, "importer": "rdm", "sha256": record["rdms_sha256"],
                 "dissimilarity_measure": record.get("dissimilarity_measure"), "sources": record.get("sources")})


def _imported_id(name: str, region: str | None) -> str:
    return f"imported.{name}" + (f".{region}" if region else "")


def register_available() -> None:
    """Register every real-data benchmark whose files exist now (idempotent)."""
    folder = shared_data_dir() / COWLEY_FOLDER
    if not is_registered("cowley2023.V4") and (folder / "responses_raw" / f"responses_{COWLEY_SESSION}.npy").is_file():
        register_benchmark("cowley2023.V4", functools.partial(make_cowley2023_v4, folder), region="V4",
                           species="macaque")
    from ..neural.importers.dataset import list_imported

    for record in list_imported():
        if record.get("importer") == "rdm":
            if not record.get("has_rdm_images") or "rdms_sha256" not in record:
                continue  # imported before RDM imports required their images
            make = _make_imported_rdm
        elif record.get("has_images", False) and "assembly_sha256" in record:
            make = _make_imported
        else:
            continue
        for region in record.get("regions") or [None]:
            identifier = _imported_id(record["name"], region)
            if not is_registered(identifier):
                register_benchmark(identifier, functools.partial(make, record, region),
                                   region=region or "unknown", species=record.get("species", "unknown"))
