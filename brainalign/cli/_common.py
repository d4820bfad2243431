"""Options and error handling shared by every ``brainalign`` command."""

from __future__ import annotations

import functools
import sys

import click

from ..errors import BrainalignError


def _fail(error: BrainalignError) -> None:
    line = f"error: {error.message}"
    if error.hint:
        line += f" (hint: {error.hint})"
    click.echo(line, err=True)
    sys.exit(2)


def user_errors(command):
    """Turn every BrainalignError into one line on stderr and exit code 2."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrainalignError as error:
            _fail(error)
    return wrapper


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
seed_option = click.option("--seed", type=int, default=0, show_default=True,
                           help="Seed of the random initialisation (ignored with --checkpoint).")
checkpoint_option = click.option("--checkpoint", type=click.Path(), default=None,
                                 help="Weights file (a plain PyTorch state dict); random init when absent.")
layers_option = click.option("--layers", default="all", show_default=True,
                             help="Comma-separated layer names, or 'all' for the model's declared inventory.")
results_option = click.option("--results", type=click.Path(file_okay=False), default="brainalign-results",
                              show_default=True, help="Results directory (one JSON record per score).")
