"""Figures of psychometric curves (matplotlib, Agg backend): PNG or SVG by file suffix."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from ..safe_files import atomic_path, check_writable

SUFFIXES = (".png", ".svg")


def check_plot_path(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """``path`` as a Path; InputError unless it ends in .png/.svg and (without ``overwrite``) is new."""
    path = check_writable(path, overwrite=overwrite)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"cannot plot to {path.name}", hint="use a .png or .svg file name")
    return path


def plot_curves(curves: list[dict], path: str | os.PathLike, *, title: str = "") -> Path:
    """Accuracy against level for each curve (points), its fit (line) and the human points.

    ``curves`` are the dicts of ``psychometrics.curves`` (``levels``, ``accuracy``, ``fit``,
    optional ``human``, ``label``). Written atomically; the format follows the suffix.
    """
    path = check_plot_path(path, overwrite=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5.5, 4.0))
    log_axis = False
    for index, curve in enumerate(curves):
        color = f"C{index}"
        label = curve.get("label", curve.get("task", ""))
        axes.plot(curve["levels"], curve["accuracy"], "o", color=color, label=label)
        fit = curve.get("fit")
        if fit:
            log_axis |= fit["scale"] == "log"
            axes.plot(fit["x"], fit["prediction"], "-", color=color)
            low, high = fit["threshold_ci"]
            axes.errorbar([fit["threshold"]], [fit["guess"] + (1 - fit["guess"] - fit["lapse"]) / 2],
                          xerr=[[fit["threshold"] - low], [high - fit["threshold"]]], fmt="|", color=color, capsize=3)
        human = curve.get("human")
        if human:
            axes.plot(human["levels"], human["accuracy"], "s--", color="0.4", mfc="white", label="humans")
        axes.axhline(curve.get("chance", 0), color="0.7", lw=0.8, ls=":")
    if log_axis:
        axes.set_xscale("log")
    axes.set_ylim(0, 1.02)
    axes.set_xlabel(curves[0].get("unit", "level") if curves else "level")
    axes.set_ylabel("proportion correct")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=path.suffix.lower().lstrip("."))
    plt.close(figure)
    return path
