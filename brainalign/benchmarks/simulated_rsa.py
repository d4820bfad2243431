"""``sim-rsa.<AREA>``: RSA on the simulated mouse areas, one RDM per simulated animal (3 per area).

The target RDMs are the correlation-distance RDMs of each animal's repetition-averaged neurons over
all simulated stimuli, so the rsatoolbox noise ceiling is taken over animals. ``sim_oracle`` (the
generator's noise-free rates) is the positive control: its own area's layer should land between
the lower and upper bound. Primate V1/V2 come from one simulated monkey and have no RSA benchmark.
"""

from __future__ import annotations

import functools

from .rsa import RSABenchmark, RSAProtocol, rdms_from_assembly
from .simulated import SEED, dataset_record, simulated_assembly

VERSION = "1"


@functools.lru_cache(maxsize=None)
def _target(area: str):
    return rdms_from_assembly(simulated_assembly(area, SEED), method="correlation", subject_coord="animal",
                              name=f"sim.{area}")


def make_simulated_rsa(area: str) -> RSABenchmark:
    """The ``sim-rsa.<area>`` benchmark."""
    from ..stimuli.simulated import simulated_stimulus_set

    return RSABenchmark(
        identifier=f"sim-rsa.{area}", version=VERSION, region=area, species="mouse",
        description=f"RSA on the simulated mouse {area} population, one RDM per animal; Spearman",
        load_target=functools.partial(_target, area), load_stimuli=simulated_stimulus_set, stratify_coord="kind",
        protocol=RSAProtocol(rdm="correlation", comparison="spearman"), dataset=dataset_record(area),
        citation="brainalign simulated benchmark (synthetic; see brainalign.neural.simulated)")
