"""`brainalign benchmarks ...`: list benchmarks."""

from __future__ import annotations

import click

from .._io import dumps_json
from . import main
from ._common import json_option, user_errors

@main.group("benchmarks", short_help="List benchmarks.")
def benchmarks_group():
    """Benchmarks: a dataset, a metric protocol and a version."""


@benchmarks_group.command("list", short_help="List registered benchmarks with their area and species.")
@json_option
@user_errors
def benchmarks_list(as_json):
    """List benchmark identifiers with area and species."""
    from ..benchmarks.registry import benchmark_info, list_benchmarks

    infos = [benchmark_info(b) for b in list_benchmarks()]
    if as_json:
        click.echo(dumps_json(infos, indent=2))
        return
    width = max([16, *(len(info["identifier"]) for info in infos)])
    for info in infos:
        click.echo(f"{info['identifier']:<{width}} {info['region']:<8} {info['species']}")
