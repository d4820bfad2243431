"""``register()`` adds ``lab.V1``: the simulated V1 data under the lab's own name and version."""

import dataclasses


def _lab_v1():
    from brainalign.benchmarks import load_benchmark

    return dataclasses.replace(load_benchmark("sim.V1"), identifier="lab.V1", version="lab-1")


def register():
    from brainalign.benchmarks import register_benchmark

    register_benchmark("lab.V1", _lab_v1, region="V1", species="macaque")
