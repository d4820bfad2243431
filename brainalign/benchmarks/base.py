"""The one shape of every benchmark: :class:`Benchmark`.

A benchmark answers two questions, so that nothing above it asks what kind of benchmark it
holds: which features do you need (:meth:`Benchmark.needs`: in memory, or as out-of-core kernel
moments or RDMs, or a seeded sample of units), and score these features
(:meth:`Benchmark.score`, one :class:`~brainalign.records.ScoreRecord` per layer). The families:
:class:`.predictivity.NeuralBenchmark` (PLS / ridge predictivity), :class:`.rsa.RSABenchmark`
(RDMs) and :class:`.texture.TextureBenchmark` (texture selectivity). A new family is one file
with a subclass, registered with :func:`.registry.register_benchmark` (README, "Extending
brainalign").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Sequence

from ..activations.gather import FeatureNeeds
from ..errors import InputError
from ..records import ScoreRecord
from .options import ScoreOptions

if TYPE_CHECKING:
    import xarray as xr

#: The scoring of a benchmark that scores by its own protocol alone (RSA, texture): one task per layer.
OWN_SCORING = "own"


class Benchmark(ABC):
    """A named, versioned benchmark: a dataset, a metric and its protocol.

    Subclasses are frozen dataclasses with these attributes (all recorded with every score):

    Attributes
    ----------
    identifier : e.g. ``"sim.V1"``.
    version : bumped whenever data or protocol change.
    region : brain area scored (``V1``, ``VISp``, ...); ``--area`` and the leaderboard group by it.
    species : ``"macaque"``, ``"mouse"``, ...
    description : one line for ``brainalign benchmarks list``.
    dataset : description of the data (id, seed, checksums).
    citation : where the data and protocol come from.
    ranked : False for a supplementary view of data another benchmark ranks (kept out of area means).
    load_stimuli : () -> StimulusSet holding every stimulus the benchmark scores.
    """

    identifier: str
    version: str
    region: str
    species: str
    description: str
    dataset: dict
    citation: str
    ranked: bool

    def record(self) -> dict:
        """The benchmark's part of every score record."""
        return {"identifier": self.identifier, "version": self.version, "region": self.region,
                "species": self.species, "dataset": self.dataset, "ranked": self.ranked}

    @abstractmethod
    def needs(self) -> FeatureNeeds:
        """How each layer's features must come (:func:`brainalign.activations.gather.FeatureSource.features`)."""

    def scorings(self, protocols: Sequence[str], regressions: Sequence[str]) -> list[str]:
        """The scorings a run plan makes of each layer for these ``--protocol`` and ``--metric`` choices.

        ``"protocol/regression"`` each for benchmarks that regress on responses;
        ``[OWN_SCORING]`` (the default) for those that score by their own protocol alone.
        """
        return [OWN_SCORING]

    @abstractmethod
    def score(self, features: dict[str, xr.DataArray], *, options: ScoreOptions | None = None,
              convention: str | None = None, cache: dict | None = None) -> list[ScoreRecord]:
        """One record per layer of ``features`` ({layer: DataArray(stimulus, unit)}), in their order.

        ``options`` choose the protocol, mapping and bootstrap of benchmarks that regress;
        ``convention`` the ceiling convention (None: the benchmark's own); ``cache`` is a dict the
        caller keeps for one model, where benchmarks on the same stimuli share work.
        """

    def check_compare(self, options: ScoreOptions) -> None:
        """InputError, before any model runs, when :meth:`compare` cannot compare under ``options``."""
        raise InputError(f"compare works on neural predictivity and RSA benchmarks; {self.identifier} is "
                         "scored differently")

    def compare(self, features_a: dict[str, xr.DataArray], features_b: dict[str, xr.DataArray], *,
                options: ScoreOptions, convention: str | None = None) -> dict:
        """Paired comparison of two models' features: each model's committed layer, raw score and
        CI, and the difference A - B with its CI and two-sided bootstrap p-value."""
        self.check_compare(options)
        raise NotImplementedError
