"""Importers: read the field's file formats (recordings, RDMs, images, trials) behind one registry.

Each module reads one format and registers an :class:`Importer` class for it (see
:mod:`.registry`: ``name``, ``description``, ``guess_can_open``, ``open``); other packages add
importers through the entry-point group ``brainalign.importers``. Importers of recordings return
an :class:`ImportedDataset`; :func:`finish_import` applies the shared steps (reliability
selection, stratification column, optional assembly export) and writes it into the data home.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import DataError
from ...safe_files import check_writable
from .dataset import ImportedDataset, list_imported, save_imported
from .catalog import get_importer, guess_importer, list_importers
from .registry import Importer, register_importer

__all__ = ["ImportedDataset", "Importer", "finish_import", "get_importer", "guess_importer", "list_importers",
           "list_imported", "register_importer", "save_imported"]


def finish_import(dataset: ImportedDataset, *, min_reliability: float | None = None, stratify: str | None = None,
                  output: str | Path | None = None, overwrite: bool = False, home: Path | None = None) -> dict:
    """Select reliable neuroids, record the stratification column, save; returns a summary dict.

    ``output`` additionally writes the assembly as a NetCDF file for
    ``brainalign score --activations ... --assembly OUTPUT``.
    """
    from ..assembly_files import write_assembly
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
