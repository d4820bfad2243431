"""The ``brainalign`` command line: parse options, call the library, print. No science here.

Each command group lives in its own module of this package and registers itself on :func:`main`.
"""

from __future__ import annotations

import click

from .. import __version__
from ._common import OneLineGroup


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="brainalign")
def main():
    """How brain-like is a vision model?

    brainalign extracts layer activations from a model (timm, torchvision, its own zoo, or your
    checkpoint) and scores them against neural recordings (PLS / ridge predictivity with noise
    ceilings, RSA / CKA, texture selectivity) and observers (psychometric curves, error
    consistency), per layer and per brain area, into leaderboards.

    Start with `brainalign demo` (offline, about a minute on 2 cores), then `brainalign models list`,
    `brainalign benchmarks list` and `brainalign data list`.
    """
    import warnings
    warnings.showwarning = _one_line_warning


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning as one ``warning:`` line on stderr (no file, line number or source)."""
    click.echo(f"warning: {message}", err=True)


from . import benchmarks, compare, core, data, models, psychometric, results, run, train  # noqa: E402,F401  (registers the commands)

if __name__ == "__main__":
    main()
