"""Importing this module registers ``lab-spikes``: the lab's long table of spike counts.

A ``.spikes.csv`` file has one row per (trial, neuron): ``stimulus_id, repetition, neuroid_id,
count``; ``open`` returns it as a NeuralAssembly (presentation x neuroid).
"""

from pathlib import Path

from brainalign.neural.importers import Importer, register_importer

COLUMNS = ["stimulus_id", "repetition", "neuroid_id", "count"]


@register_importer
class LabSpikesImporter(Importer):
    name = "lab-spikes"
    description = "the lab's spike-count table (.spikes.csv: stimulus_id, repetition, neuroid_id, count)"

    def guess_can_open(self, path):
        path = Path(path)
        return path.name.endswith(".spikes.csv") and path.is_file() and \
            path.read_text().partition("\n")[0].split(",") == COLUMNS

    def open(self, path, **options):
        import numpy as np
        import pandas as pd
        import xarray as xr

        from brainalign.neural.assembly import validate_assembly

        wide = pd.read_csv(path).pivot(index=["stimulus_id", "repetition"], columns="neuroid_id", values="count")
        return validate_assembly(xr.DataArray(
            wide.to_numpy(dtype=float), dims=("presentation", "neuroid"),
            coords={"stimulus_id": ("presentation", wide.index.get_level_values("stimulus_id").astype(str)),
                    "repetition": ("presentation", wide.index.get_level_values("repetition").to_numpy(np.int64)),
                    "neuroid_id": ("neuroid", wide.columns.astype(str))}))
