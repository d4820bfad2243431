"""Leaderboard tables from score records: per layer, per model x benchmark, and a wide summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LAYER_COLUMNS = ["model", "objective", "tag", "weights_sha256", "benchmark", "benchmark_version", "region",
                 "species", "layer", "raw", "error", "ceiling", "ceiled", "convention", "selection_raw",
                 "heldout_raw", "heldout_ceiling", "heldout_ceiled", "n_stimuli", "n_neuroids", "n_units",
                 "protocol", "seed", "created"]


AREA_ORDER = ("V1", "V2", "V4", "IT", "VISp", "VISl", "VISrl", "VISal", "VISpm", "VISam")


def _area_rank(region: str) -> int:
    """Primate areas first, then the mouse areas along their hierarchy, then anything else."""
    return AREA_ORDER.index(region) if region in AREA_ORDER else len(AREA_ORDER)


def model_label(model: dict) -> str:
    """A readable, unambiguous model name: spec plus checkpoint file or seed."""
    if model.get("checkpoint"):
        return f"{model['spec']} @ {Path(model['checkpoint']).name} [{model['weights_sha256'][:8]}]"
    return f"{model['spec']} (seed {model.get('seed')})"


def layer_table(records: list[dict]) -> pd.DataFrame:
    """One row per (model, benchmark, layer) record."""
    rows = []
    for record in records:
        model, bench, score, sel = record["model"], record["benchmark"], record["score"], record["layer_selection"]
        rows.append({
            "model": model_label(model), "objective": model.get("objective"), "tag": model.get("tag"),
            "weights_sha256": model["weights_sha256"], "benchmark": bench["identifier"],
            "benchmark_version": bench["version"], "region": bench["region"], "species": bench["species"],
            "layer": record["layer"], "raw": score["raw"], "error": score["error"], "ceiling": score["ceiling"],
            "ceiled": score["ceiled"], "convention": score["convention"], "selection_raw": sel["selection_raw"],
            "heldout_raw": sel["heldout_raw"], "heldout_ceiling": sel["heldout_ceiling"],
            "heldout_ceiled": sel["heldout_ceiled"], "n_stimuli": score["n_stimuli"],
            "n_neuroids": score["n_neuroids"], "n_units": score["n_units"], "protocol": record["metric"]["protocol"],
            "seed": model.get("seed"), "created": record["created"],
        })
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)


def leaderboard(layers: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, benchmark): the layer committed on the selection stimuli, scored on the held-out ones.

    ``score`` is that layer's held-out ceiled score; ``raw`` and ``ceiling`` are its held-out r and ceiling.
    """
    if layers.empty:
        return pd.DataFrame(columns=["model", "benchmark", "region", "layer", "score", "raw", "ceiling",
                                     "convention", "n_layers"])
    best = layers.loc[layers.groupby(["model", "benchmark"])["selection_raw"].idxmax()]
    counts = layers.groupby(["model", "benchmark"]).size().rename("n_layers")
    table = best.set_index(["model", "benchmark"]).join(counts).reset_index()
    table = table.rename(columns={"heldout_ceiled": "score", "heldout_raw": "raw_heldout",
                                  "heldout_ceiling": "ceiling_heldout"})
    columns = ["model", "objective", "tag", "benchmark", "region", "species", "layer", "score", "raw_heldout",
               "ceiling_heldout", "convention", "n_layers", "protocol", "benchmark_version", "weights_sha256"]
    return table[columns].sort_values(["benchmark", "score"], ascending=[True, False]).reset_index(drop=True)


def summary(board: pd.DataFrame) -> pd.DataFrame:
    """Wide table: a row per model, a column per benchmark (held-out ceiled score), and their mean; best first."""
    if board.empty:
        return pd.DataFrame()
    wide = board.pivot(index="model", columns="benchmark", values="score")
    regions = board.drop_duplicates("benchmark").set_index("benchmark")["region"]
    wide = wide[sorted(wide.columns, key=lambda b: (_area_rank(regions[b]), b))]
    wide.insert(0, "mean", wide.mean(axis=1, skipna=False))
    return wide.sort_values("mean", ascending=False)


def format_table(wide: pd.DataFrame) -> str:
    """Fixed-width text of the summary table, 3 decimals, NaN shown as '-'."""
    if wide.empty:
        return "(no results)"
    text = wide.map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    text.index.name = "model"
    return text.to_string()
