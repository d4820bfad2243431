"""Options and error handling shared by every ``brainalign`` command."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys

import click

from ..errors import BrainalignError
from ..models.options import TOKEN_MODES


def fail(error: BrainalignError) -> None:
    """Print ``error: MESSAGE (hint: HINT)`` on stderr and exit with code 2."""
    line = f"error: {error.message}"
    if error.hint:
        line += f" (hint: {error.hint})"
    click.echo(line, err=True)
    sys.exit(2)


class OneLineGroup(click.Group):
    """A command group that reports click's usage errors as one ``error:`` line (exit code 2).

    Click prints a bad option value, an unknown option or a missing argument as three lines
    (usage, try --help, ``Error: ...``); every brainalign command, nested groups included, says
    it as one line with a hint instead, like the library's errors. Help pages stay as they are.
    """

    group_class = type   # subgroups (`data import ...`) are OneLineGroups too

    def main(self, args=None, *rest, **kwargs):
        if args is None:   # the command line is sys.argv: this process is the command's own
            from . import _process
            _process.own_process = True
        return super().main(args, *rest, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _one_line_usage_errors():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        with _one_line_usage_errors():
            return super().invoke(ctx)


#: click >= 8.2 raises this to show a group's help when it is called bare: that help stays as it is.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


@contextlib.contextmanager
def _one_line_usage_errors():
    try:
        yield
    except _NO_ARGS_IS_HELP:
        raise
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "brainalign"
        click.echo(f"error: {error.format_message()} (hint: see `{command} --help`)", err=True)
        sys.exit(2)


class OutputPath(click.Path):
    """A ``click.Path`` for what a command writes: a file (or, with ``folder``, a folder) that can be created.

    A folder given for a file, a file for a folder, or a path below a file is one ``error:`` line
    before any work (see :func:`brainalign.safe_files.check_output_path`).
    """

    def __init__(self, *, folder: bool = False):
        super().__init__(file_okay=not folder, dir_okay=folder)
        self.folder = folder

    def convert(self, value, param, ctx):
        from ..safe_files import check_output_path

        value = super().convert(value, param, ctx)
        try:
            check_output_path(value, folder=self.folder)
        except BrainalignError as error:
            self.fail(error.message, param, ctx)
        return value


#: Exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def user_errors(command):
    """Turn every BrainalignError into one line on stderr and exit code 2, and Ctrl-C into one
    line and exit code 130 (every writer has removed its temporary by then)."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrainalignError as error:
            fail(error)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: stopped by Ctrl-C; no partial output was kept - run the same command "
                       "again to redo it", err=True)
            sys.exit(EXIT_INTERRUPTED)
    return wrapper


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
device_option = click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
batch_size_option = click.option("--batch-size", type=int, default=32, show_default=True,
                                 help="Images per forward pass.")
seed_option = click.option("--seed", type=int, default=0, show_default=True,
                           help="Seed of the random initialisation (ignored with --checkpoint).")
checkpoint_option = click.option("--checkpoint", type=click.Path(), default=None,
                                 help="Checkpoint file of any supported codebase (see --checkpoint-format); "
                                      "random init when absent.")

def complete_checkpoint_format(ctx, param, incomplete: str) -> list[str]:
    """Shell completion of --checkpoint-format: the names and aliases in the format registry."""
    from ..models.checkpoint_formats import format_names

    return [name for name in format_names() if name.startswith(incomplete)]


_LOAD_OPTIONS = (
    click.option("--checkpoint-format", default="auto", show_default=True, shell_complete=complete_checkpoint_format,
                 help="Layout of --checkpoint: auto (detected from its keys) or a format name; "
                      "`brainalign models formats` lists the installed ones."),
    click.option("--trust-checkpoint", is_flag=True,
                 help="Allow full unpickling when weights-only loading refuses --checkpoint "
                      "(runs code stored in the file: only for files you trust)."),
    click.option("--allow-partial", is_flag=True,
                 help="Load the matching part of --checkpoint even if backbone keys are missing or unexpected."),
    click.option("--tokens", type=click.Choice(TOKEN_MODES), default="patches", show_default=True,
                 help="Vision transformers: patch tokens as a grid (CLS/register tokens dropped), "
                      "the CLS token, or all tokens."),
)


def checkpoint_load_options(command):
    """Add --checkpoint-format, --trust-checkpoint, --allow-partial and --tokens to a command.

    They reach the command as one ``load_options`` dict of
    :class:`brainalign.models.options.LoadOptions` fields (the API's keywords of the same names);
    the checkpoint load summary is printed to stderr while the command runs.
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
results_option = click.option("--results", type=OutputPath(folder=True), default="brainalign-results",
                              show_default=True, help="Results directory (one JSON record per score).")
