"""Importers: turn recordings in the field's file formats into a NeuralAssembly (or RDMs) + StimulusSet.

Each importer module reads one format and returns an :class:`ImportedDataset`;
:func:`finish_import` applies the shared steps (reliability selection, stratification column,
optional assembly export) and writes the dataset into the data home.
"""

from __future__ import annotations

from pathlib import Path

from ..._io import check_writable
from ...errors import DataError
from .dataset import ImportedDataset, list_imported, save_imported

IMPORTERS = {
    "brainscore": "Brain-Score (BrainIO) NetCDF assembly + stimulus CSV + zip",
    "cowley2023": "Cowley et al. 2023 V4 release (responses_raw/*.npy + images/*.zip)",
    "allen-2p": "Allen Brain Observatory Visual Coding two-photon NWB 1 file (natural scenes)",
    "allen-neuropixels": "Allen Brain Observatory Visual Coding Neuropixels NWB 2 session file (natural scenes)",
    "generic": "responses in .npy/.npz/.h5/.csv/.mat with an --axes spec, images from a folder or zip",
    "rdm": "representational (dis)similarity matrices for RSA-only data",
}

__all__ = ["IMPORTERS", "ImportedDataset", "finish_import", "list_imported", "save_imported"]


def finish_import(dataset: ImportedDataset, *, min_reliability: float | None = None, stratify: str | None = None,
                  output: str | Path | None = None, overwrite: bool = False, home: Path | None = None) -> dict:
    """Select reliable neuroids, record the stratification column, save; returns a summary dict.

    ``output`` additionally writes the assembly as a NetCDF file for
    ``brainalign score --activations ... --assembly OUTPUT``.
    """
    from ..io import write_assembly
    from ..reliability import select_reliable

    if output is not None:
        check_writable(output, overwrite=overwrite)
    assembly = dataset.assembly
    if stratify is not None and stratify not in assembly.coords:
        raise DataError(f"the assembly has no coordinate {stratify!r} to stratify by",
                        hint=f"presentation coordinates: {', '.join(_presentation_coords(assembly))}")
    if min_reliability is not None:
        assembly = select_reliable(assembly, min_reliability)
        dataset.provenance["selection"] = assembly.attrs["selection"]
    dataset.assembly = assembly
    dataset.provenance["stratify"] = stratify
    folder = save_imported(dataset, home=home, overwrite=overwrite)
    if output is not None:
        write_assembly(assembly, output)
    regions = sorted(set(assembly["region"].values.astype(str))) if "region" in assembly.coords else []
    return {"name": dataset.name, "folder": str(folder), "n_neuroids": assembly.sizes["neuroid"],
            "n_presentations": assembly.sizes["presentation"],
            "benchmarks": [f"imported.{dataset.name}.{r}" for r in regions] or [f"imported.{dataset.name}"],
            "output": str(output) if output is not None else None, **{k: dataset.provenance.get(k) for k in
                                                                      ("selection", "time_window", "rows")}}


def _presentation_coords(assembly) -> list[str]:
    return [name for name, coord in assembly.coords.items() if coord.dims == ("presentation",)]
