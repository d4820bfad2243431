"""`brainalign benchmarks ...`: list benchmarks."""

from __future__ import annotations

import click

from ..safe_files import dumps_json
from . import main
from ._common import json_option, user_errors

@main.group("benchmarks", short_help="List benchmarks.")
def benchmarks_group():
    """Benchmarks: a dataset, a metric protocol and a version."""


@benchmarks_group.command("list", short_help="List registered benchmarks with their area and species.")
@json_option
@user_errors
def benchmarks_list(as_json):
    """List benchmark identifiers with area and species. Real-data benchmarks are listed when their
    data are on disk ($BRAINALIGN_SHARED_DATA); a note on stderr names those hidden for want of data."""
    from ..benchmarks.registry import benchmark_info, hidden_real_data, list_benchmarks
    from ..config import shared_data_dir

    infos = [benchmark_info(b) for b in list_benchmarks()]
    hidden = hidden_real_data()
    if hidden and not as_json:  # --json output stays JSON alone
        click.echo(f"note: {len(hidden)} real-data benchmark(s) hidden because their data are absent from "
                   f"{shared_data_dir()} ({', '.join(hidden)}); set $BRAINALIGN_SHARED_DATA to the folder "
                   "holding them", err=True)
    if as_json:
        click.echo(dumps_json(infos, indent=2))
        return
    width = max(len(info["identifier"]) for info in infos) + 2
    click.echo(f"{'benchmark':<{width}}{'area':<8} species")
    for info in infos:
        click.echo(f"{info['identifier']:<{width}}{info['region']:<8} {info['species']}")
