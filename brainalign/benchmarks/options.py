"""How to score beyond a benchmark's own protocol: :class:`ScoreOptions` (protocol, mapping, bootstrap).

A module of its own, free of numpy, so the CLI checks its options before importing any science.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import InputError
from ..metrics.regressions import regression_names

#: The ridge alphas, ``numpy.logspace(-3, 8, 12)`` as Python floats (equal to
#: :data:`brainalign.metrics.ridge.DEFAULT_ALPHAS`; tests/test_cli_speed.py checks it).
DEFAULT_ALPHAS = tuple(10.0 ** exponent for exponent in range(-3, 9))

PROTOCOLS = ("brainalign", "brainscore", "nayebi2023")
DEFAULT_PROTOCOL = "brainalign"


def __getattr__(name: str):
    """``REGRESSIONS``: the names of :func:`brainalign.metrics.regressions.regression_names`, read
    when asked for (built-ins, plugins and regressions registered since), importing none of them."""
    if name == "REGRESSIONS":
        return regression_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ScoreOptions:
    """How to score, beyond the benchmark's own protocol constants (all recorded).

    Attributes
    ----------
    protocol : one of :data:`PROTOCOLS`.
    regression : ``"pls"`` (PLS-25, the protocols' own), ``"ridge"`` (per-neuroid RidgeCV
        over ``alphas`` by leave-one-out) or another name of :data:`REGRESSIONS` (a regression
        module or plugin, :mod:`brainalign.metrics.regressions`); ``nayebi2023`` supports PLS only.
    n_boot : bootstrap replicates for the confidence intervals (0: none).
    bootstrap_seed, bootstrap_over, ci_level : the bootstrap's seed, resampled axes and level.
    backend : ``"numpy"`` or ``"torch"`` for the PLS and ridge fits (torch: CUDA when present).
    """

    protocol: str = DEFAULT_PROTOCOL
    regression: str = "pls"
    alphas: tuple = DEFAULT_ALPHAS
    n_boot: int = 1000
    bootstrap_seed: int = 0
    bootstrap_over: tuple = ("stimuli", "neuroids")
    ci_level: float = 0.95
    backend: str = "numpy"

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise InputError(f"unknown protocol {self.protocol!r}", hint=f"use one of {', '.join(PROTOCOLS)}")
        if self.regression not in (names := regression_names()):
            raise InputError(f"unknown regression {self.regression!r}", hint=f"use one of {', '.join(names)}")
        if self.protocol == "nayebi2023" and self.regression != "pls":
            raise InputError("the nayebi2023 protocol maps with PLS only", hint=f"drop --metric {self.regression}")
        if self.protocol == "nayebi2023" and "neuroids" not in self.bootstrap_over:
            raise InputError("the nayebi2023 protocol's intervals resample units only",
                             hint="use --bootstrap-over neuroids (or both, which means units for this protocol)")
        if self.n_boot < 0:
            raise InputError(f"n_boot must be >= 0, got {self.n_boot}")

    def to_dict(self) -> dict:
        record = asdict(self)
        record["alphas"] = list(self.alphas) if self.regression == "ridge" else None
        record["bootstrap_over"] = list(self.bootstrap_over)
        return record
