"""Scoring options shared by ``brainalign score`` and ``brainalign compare``."""

from __future__ import annotations

import functools

import click

from ..benchmarks.options import DEFAULT_PROTOCOL, PROTOCOLS
from ..errors import BrainalignError
from ..metrics.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..metrics.options import BACKENDS
from ..metrics.regressions import regression_names
from ._common import fail

_OVER = {"both": ("stimuli", "neuroids"), "stimuli": ("stimuli",), "neuroids": ("neuroids",)}


class _RegressionChoice(click.Choice):
    """The regressions' names, read when the option is parsed or shown (plugins included), not
    when the CLI starts."""

    def __init__(self):
        self.case_sensitive = True

    @property
    def choices(self):
        return regression_names()


def scoring_options(command):
    """Add --protocol, --metric, --ceiling-convention and the bootstrap options; pass ``options``
    (a ScoreOptions) and ``convention`` to the command instead."""
    decorators = [
        click.option("--protocol", type=click.Choice(PROTOCOLS), default=DEFAULT_PROTOCOL, show_default=True,
                     help="brainalign: Brain-Score's PLS/splits/ceiling + layer commitment on held-out stimuli + "
                          "bootstrap CIs; brainscore: Brain-Score's numbers exactly; nayebi2023: noise-corrected "
                          "single-trial predictivity with the inter-animal ceiling."),
        click.option("--metric", "regression", type=_RegressionChoice(), default="pls", show_default=True,
                     help="Mapping: PLS-25, ridge with a per-neuroid alpha by leave-one-out, or a regression "
                          "that a plugin adds."),
        click.option("--ceiling-convention", "--convention", "convention",
                     type=click.Choice(CONVENTIONS), default=DEFAULT_CONVENTION, show_default=True,
                     help="How raw r and ceiling c combine into the ceiled score (raw and ceiling are always kept)."),
        click.option("--bootstrap", "n_boot", type=click.IntRange(min=0), default=1000, show_default=True,
                     help="Bootstrap replicates for the confidence intervals (0: none)."),
        click.option("--bootstrap-seed", type=int, default=0, show_default=True, help="Seed of the bootstrap."),
        click.option("--bootstrap-over", type=click.Choice(sorted(_OVER)), default="both", show_default=True,
                     help="Resample stimuli, neuroids or both."),
        click.option("--ci-level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True),
        click.option("--backend", type=click.Choice(BACKENDS), default="numpy", show_default=True,
                     help="Array backend of the PLS and ridge fits (torch uses CUDA when present; same numbers)."),
    ]

    @functools.wraps(command)
    def wrapper(*args, protocol, regression, n_boot, bootstrap_seed, bootstrap_over, ci_level, backend, **kwargs):
        from ..benchmarks.options import ScoreOptions

        try:  # option clashes (e.g. nayebi2023 with ridge) are user errors: one line, exit 2
            kwargs["options"] = ScoreOptions(protocol=protocol, regression=regression, n_boot=n_boot,
                                             bootstrap_seed=bootstrap_seed, bootstrap_over=_OVER[bootstrap_over],
                                             ci_level=ci_level, backend=backend)
        except BrainalignError as error:
            fail(error)
        return command(*args, **kwargs)

    for decorator in reversed(decorators):
        wrapper = decorator(wrapper)
    return wrapper
