"""brainalign's built-in benchmarks, declared by name, area and species, each built on first load.

Declaring them here, instead of registering them as a side effect of importing their family
modules, keeps `brainalign benchmarks list`, ``--area`` lookups and the "unknown benchmark" error
free of numpy, xarray and the metrics: a family module is imported only when one of its
benchmarks is loaded. Real-data benchmarks are declared only when their files are on disk
(:func:`declare_available`, which looks for files and reads nothing).
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable

from ..config import data_home, shared_data_dir

PRIMATE_AREAS = ("V1", "V2")
MOUSE_AREAS = ("VISp", "VISl", "VISal", "VISrl", "VISam", "VISpm")
COWLEY_FOLDER = "cowley2023-macaque-v4"
COWLEY_SESSION = "210325"
KRIEGESKORTE_FOLDER = "kriegeskorte2008-92-images"
ALLEN2P_RDM_FOLDER = "allen-2p-area-rdms"
ALLEN2P_IMAGE_FOLDER = "allen-natural-scenes-31px"
#: the Allen two-photon area x cortical-layer RDMs of the release (no layer 6 in VISal, VISam, VISrl)
ALLEN2P_LAYERS = {"VISp": ("layer23", "layer4", "layer5", "layer6"), "VISl": ("layer23", "layer4", "layer5", "layer6"),
                  "VISal": ("layer23", "layer4", "layer5"), "VISrl": ("layer23", "layer4", "layer5"),
                  "VISam": ("layer23", "layer4", "layer5"), "VISpm": ("layer23", "layer4", "layer5", "layer6")}
#: the real-data benchmarks, for the note that says they are hidden while their data are absent
REAL_DATA = {"cowley2023.V4": COWLEY_FOLDER, "kriegeskorte2008.IT": KRIEGESKORTE_FOLDER,
             "kriegeskorte2008.IT.monkey": KRIEGESKORTE_FOLDER, "kriegeskorte2008.IT.cka": KRIEGESKORTE_FOLDER,
             **{f"allen2p.{area}": ALLEN2P_RDM_FOLDER for area in ALLEN2P_LAYERS}}


def _built(module: str, function: str, *args) -> Callable:
    """A factory that imports ``brainalign.benchmarks.<module>`` and calls ``function(*args)``."""
    def factory():
        return getattr(import_module(f"{__package__}.{module}"), function)(*args)
    return factory


def builtin() -> list[tuple[str, Callable, str, str]]:
    """``(identifier, factory, region, species)`` of every benchmark that needs no data on disk."""
    areas = [(a, "macaque") for a in PRIMATE_AREAS] + [(a, "mouse") for a in MOUSE_AREAS]
    return ([(f"sim.{a}", _built("simulated", "make_simulated", a, s), a, s) for a, s in areas]
            + [(f"sim-rsa.{a}", _built("simulated_rsa", "make_simulated_rsa", a), a, "mouse") for a in MOUSE_AREAS]
            + [("sim-texture.V2", _built("texture", "make_simulated_texture"), "V2", "macaque")])


def available() -> list[tuple[str, Callable, str, str]]:
    """``(identifier, factory, region, species)`` of every real-data benchmark whose files exist now."""
    found = []
    cowley = shared_data_dir() / COWLEY_FOLDER
    if (cowley / "responses_raw" / f"responses_{COWLEY_SESSION}.npy").is_file():
        found.append(("cowley2023.V4", _built("real", "make_cowley2023_v4", cowley), "V4", "macaque"))
    if (shared_data_dir() / KRIEGESKORTE_FOLDER).is_dir():
        found += [("kriegeskorte2008.IT", _built("kriegeskorte2008", "make_human"), "IT", "human"),
                  ("kriegeskorte2008.IT.monkey", _built("kriegeskorte2008", "make_monkey"), "IT", "macaque"),
                  ("kriegeskorte2008.IT.cka", _built("kriegeskorte2008", "make_human_cka"), "IT", "human")]
    if (shared_data_dir() / ALLEN2P_RDM_FOLDER).is_dir() and (shared_data_dir() / ALLEN2P_IMAGE_FOLDER).is_dir():
        found += [(f"allen2p.{area}" + (f".{layer}" if layer else ""), _built("allen2p", "make_allen2p", area, layer),
                   area, "mouse") for area, layers in ALLEN2P_LAYERS.items() for layer in (None, *layers)]
    if (data_home() / "imported").is_dir():  # `brainalign data import` wrote something: read its records
        from ..neural.importers.dataset import list_imported

        for record in list_imported():
            if record.get("importer") == "rdm":   # an RSA benchmark, when imported with its images
                if not record.get("has_rdm_images") or "rdms_sha256" not in record:
                    continue
                make = "make_imported_rdm"
            elif record.get("has_images", False) and "assembly_sha256" in record:
                make = "make_imported"
            else:
                continue
            for region in record.get("regions") or [None]:
                found.append((imported_id(record["name"], region), _built("real", make, record, region),
                              region or "unknown", record.get("species", "unknown")))
    return found


def imported_id(name: str, region: str | None) -> str:
    """The benchmark id of an imported dataset (one per region)."""
    return f"imported.{name}" + (f".{region}" if region else "")
