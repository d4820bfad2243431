"""Plugins: other packages add models, benchmarks, importers, regressions and checkpoint formats through entry points, as xarray finds backends.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."brainalign.models"]
    mylab = "mylab_brainalign.models"                 # a module: importing it runs @register_model

    [project.entry-points."brainalign.benchmarks"]
    mylab = "mylab_brainalign.benchmarks:register"    # a function: called once, it registers

    [project.entry-points."brainalign.importers"]
    mylab = "mylab_brainalign.importers"              # a module: importing it runs @register_importer

    [project.entry-points."brainalign.regressions"]
    lstsq = "mylab_brainalign.regressions"            # named after the regression it registers

    [project.entry-points."brainalign.checkpoint_formats"]
    mylab = "mylab_brainalign.checkpoints"            # a module: importing it runs @register_format

Each entry point is loaded once per process, the first time its registry is listed or looked
up; nothing is imported at ``import brainalign``. A plugin that fails to load is skipped with
one :class:`PluginWarning` naming it and the error, so one broken package never breaks the tool.
A regression's entry point carries its regression's name, so that :func:`entry_point_names`
lists the names (for ``--metric`` and option checks) without importing any plugin.
"""

from __future__ import annotations

import importlib.metadata
import types
import warnings

GROUPS = ("brainalign.models", "brainalign.benchmarks", "brainalign.importers", "brainalign.regressions",
          "brainalign.checkpoint_formats")

_loaded: dict[str, list[str]] = {}
_names: dict[str, list[str]] = {}


class PluginWarning(UserWarning):
    """A plugin's entry point could not be loaded; it was skipped."""


def _check_group(group: str) -> None:
    if group not in GROUPS:
        raise ValueError(f"unknown plugin group {group!r}; known: {', '.join(GROUPS)}")


def entry_point_names(group: str) -> list[str]:
    """Sorted names of the installed entry points of ``group``, read once; loads none of them."""
    _check_group(group)
    if group not in _names:
        _names[group] = sorted({entry.name for entry in importlib.metadata.entry_points(group=group)})
    return _names[group]


def any_installed() -> bool:
    """Whether any package installs an entry point in any of :data:`GROUPS` (one scan; loads none)."""
    entries = importlib.metadata.entry_points()
    return any(entries.select(group=group) for group in GROUPS)


def load_plugins(group: str) -> list[str]:
    """Load every entry point of ``group`` once; the names loaded, in the order loaded.

    An entry point naming a module is imported (its decorators register); one naming a callable
    is imported and called with no arguments.
    """
    _check_group(group)
    if group in _loaded:
        return _loaded[group]
    _loaded[group] = []
    for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
        try:
            target = entry.load()
            if not isinstance(target, types.ModuleType):
                target()
        except Exception as error:  # noqa: BLE001  (a third-party plugin may raise anything)
            warnings.warn(f"plugin {entry.name!r} ({entry.value}) of group {group} was skipped: "
                          f"{type(error).__name__}: {error}", PluginWarning, stacklevel=2)
            continue
        _loaded[group].append(entry.name)
    return _loaded[group]


def loaded_plugins() -> dict[str, list[str]]:
    """Entry-point names loaded so far, per group (for provenance and ``--help`` listings)."""
    return {group: list(names) for group, names in _loaded.items()}
