"""Options and error handling shared by every ``brainalign`` command."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys

import click

from ..errors import BrainalignError


def fail(error: BrainalignError) -> None:
    """Print ``error: MESSAGE (hint: HINT)`` on stderr and exit with code 2."""
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
            fail(error)
    return wrapper


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
seed_option = click.option("--seed", type=int, default=0, show_default=True,
                           help="Seed of the random initialisation (ignored with --checkpoint).")
checkpoint_option = click.option("--checkpoint", type=click.Path(), default=None,
                                 help="Checkpoint file of any supported codebase (see --checkpoint-format); "
                                      "random init when absent.")

_LOAD_OPTIONS = (
    click.option("--checkpoint-format", default="auto", show_default=True,
                 help="Layout of --checkpoint: auto, plain, moco, mocov3, simsiam, barlowtwins (vicreg), "
                      "solo-learn, lightly, simclr, dino, timm, vissl, mouse_vision, brainalign."),
    click.option("--trust-checkpoint", is_flag=True,
                 help="Allow full unpickling when weights-only loading refuses --checkpoint "
                      "(runs code stored in the file: only for files you trust)."),
    click.option("--allow-partial", is_flag=True,
                 help="Load the matching part of --checkpoint even if backbone keys are missing or unexpected."),
    click.option("--tokens", type=click.Choice(["patches", "cls", "all"]), default="patches", show_default=True,
                 help="Vision transformers: patch tokens as a grid (CLS/register tokens dropped), "
                      "the CLS token, or all tokens."),
)


def checkpoint_load_options(command):
    """Add --checkpoint-format, --trust-checkpoint, --allow-partial and --tokens to a command.

    They reach the command as one ``load_options`` dict of :func:`brainalign.models.load_model`
    keywords; the checkpoint load summary is printed to stderr while the command runs.
    """
    @functools.wraps(command)
    def wrapper(*args, checkpoint_format, trust_checkpoint, allow_partial, tokens, **kwargs):
        load_options = {"checkpoint_format": checkpoint_format, "trust_checkpoint": trust_checkpoint,
                        "allow_partial": allow_partial, "tokens": tokens}
        with _echo_model_log():
            return command(*args, load_options=load_options, **kwargs)
    for option in reversed(_LOAD_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


@contextlib.contextmanager
def _echo_model_log():
    """Print the INFO lines of the ``brainalign.models`` logger (checkpoint summaries) on stderr."""
    class Echo(logging.Handler):
        def emit(self, record):
            click.echo(record.getMessage(), err=True)

    logger, handler = logging.getLogger("brainalign.models"), Echo(logging.INFO)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
layers_option = click.option("--layers", default="all", show_default=True,
                             help="Comma-separated layer names, or 'all' for the model's declared inventory.")
results_option = click.option("--results", type=click.Path(file_okay=False), default="brainalign-results",
                              show_default=True, help="Results directory (one JSON record per score).")
