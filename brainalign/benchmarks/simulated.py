"""The embedded simulated benchmark: ``sim.<AREA>`` for primate V1/V2 and six mouse areas.

Data are generated from a seed on first use (``brainalign.neural.simulated``) and cached on disk
under a key that includes the generator's source hash, so a changed generator never reuses an
old cache entry.
"""

from __future__ import annotations

import functools

import xarray as xr

from ..config import cache_dir
from ..neural.assembly_files import read_assembly, write_assembly
from ..safe_files import sha256_bytes, source_hash
from ..stimuli.simulated import simulated_images, simulated_stimulus_set
from .predictivity import NeuralBenchmark

SEED = 0
VERSION = "1"


def _generator_hash() -> str:
    from ..models.zoo import simulated_cortex
    from ..neural import simulated
    from ..stimuli import procedural
    return source_hash(procedural, simulated_cortex, simulated)


@functools.lru_cache(maxsize=None)
def simulated_assembly(area: str, seed: int = SEED) -> xr.DataArray:
    """The simulated assembly of ``area`` (presentation x neuroid), generated once and cached."""
    folder = cache_dir() / "simulated" / f"assemblies-seed{seed}-{_generator_hash()}"
    path = folder / f"{area}.nc"
    if not path.is_file():
        from ..neural.simulated import simulate_assemblies
        images, metadata = simulated_images(seed)
        for name, assembly in simulate_assemblies(images, metadata, seed=seed).items():
            write_assembly(assembly, folder / f"{name}.nc")
    return read_assembly(path)


def dataset_record(area: str) -> dict:
    """The dataset record of simulated ``area`` (id, seed, generator hash, sha256 of its values and ids)."""
    assembly = simulated_assembly(area)
    checksum = sha256_bytes(assembly.values.tobytes(), "\n".join(assembly["stimulus_id"].values).encode(),
                            "\n".join(assembly["neuroid_id"].values).encode())
    return {"id": f"brainalign.simulated.{area}", "seed": SEED, "generator": _generator_hash(),
            "sha256": checksum}


def make_simulated(area: str, species: str) -> NeuralBenchmark:
    """The ``sim.<area>`` benchmark."""
    return NeuralBenchmark(
        identifier=f"sim.{area}", version=VERSION, region=area, species=species,
        description=f"simulated {species} {area} population (offline default; seed {SEED})",
        load_assembly=lambda: simulated_assembly(area),
        load_stimuli=simulated_stimulus_set,
        stratify_coord="kind",
        dataset=dataset_record(area),
        citation="brainalign simulated benchmark (synthetic; see brainalign.neural.simulated)",
    )
