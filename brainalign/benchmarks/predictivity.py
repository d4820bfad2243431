"""Neural predictivity benchmarks: a layer's features regressed onto recorded responses (:class:`NeuralBenchmark`).

Scored under the protocol that :class:`.options.ScoreOptions` names (:func:`.scoring.score_layers`);
each layer's :class:`.layer_score.LayerScore` becomes one :class:`~brainalign.records.ScoreRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import xarray as xr

from ..activations.gather import FeatureNeeds
from ..metrics.conventions import DEFAULT_CONVENTION
from ..records import ScoreRecord
from ..stimuli.stimulus_set import StimulusSet
from .base import Benchmark
from .compare import compare_layers
from .layer_score import LayerScore
from .nayebi import nayebi_protocol
from .options import ScoreOptions
from .protocols import BrainScoreProtocol
from .scoring import score_layers

#: The LayerScore fields kept in a record's ``score`` (and in ``layer_selection``).
SCORE_FIELDS = ("raw", "error", "per_split", "ceiling", "ceiling_per_split", "ceiled", "convention", "n_stimuli",
                "n_neuroids", "n_units", "notes", "ci", "ceiling_note", "details")
SELECTION_FIELDS = ("selection_raw", "heldout_raw", "heldout_ceiling", "heldout_ceiled", "n_selection", "n_heldout",
                    "heldout_ci")


@dataclass(frozen=True)
class NeuralBenchmark(Benchmark):
    """A named neural benchmark: responses to stimuli, regressed on from each layer.

    Attributes
    ----------
    identifier, version, region, species, description, dataset, citation, ranked : see :class:`.base.Benchmark`.
    load_assembly : returns the validated NeuralAssembly (presentation x neuroid).
    load_stimuli : returns the StimulusSet holding every ``stimulus_id`` of the assembly.
    stratify_coord : stimulus coordinate used to stratify splits, or None.
    protocol : the protocol's constants (the nayebi2023 protocol keeps its PLS components).
    """

    identifier: str
    version: str
    region: str
    species: str
    description: str
    load_assembly: Callable[[], xr.DataArray]
    load_stimuli: Callable[[], StimulusSet]
    stratify_coord: str | None = None
    protocol: BrainScoreProtocol = field(default_factory=BrainScoreProtocol)
    dataset: dict = field(default_factory=dict)
    citation: str = ""
    ranked: bool = True

    def needs(self) -> FeatureNeeds:
        """PLS and ridge see a layer only through its centred linear kernel: wide layers may come as kernels."""
        return FeatureNeeds(streamed="kernel")

    def scorings(self, protocols: Sequence[str], regressions: Sequence[str]) -> list[str]:
        return [f"{protocol}/{regression}" for protocol in protocols for regression in regressions]

    def score(self, features: dict[str, xr.DataArray], *, options: ScoreOptions | None = None,
              convention: str | None = None, cache: dict | None = None) -> list[ScoreRecord]:
        """One record per layer (:func:`.scoring.score_layers`); ``cache`` shares the layers' kernels."""
        options = options or ScoreOptions()
        scores = score_layers(self, features, convention=convention or DEFAULT_CONVENTION, gram_cache=cache,
                              options=options)
        return [self._record(s, options, n_units=int(features[s.layer].attrs.get("n_units", s.n_units)))
                for s in scores]

    def check_compare(self, options: ScoreOptions) -> None:
        """Every protocol and regression compares."""

    def compare(self, features_a: dict[str, xr.DataArray], features_b: dict[str, xr.DataArray], *,
                options: ScoreOptions, convention: str | None = None) -> dict:
        """:func:`.compare.compare_layers`."""
        return compare_layers(self, features_a, features_b, convention=convention or DEFAULT_CONVENTION,
                              options=options)

    def _record(self, s: LayerScore, options: ScoreOptions, *, n_units: int) -> ScoreRecord:
        """The record of one LayerScore; ``n_units`` is the layer's real width (kernel features have n columns)."""
        score = {k: getattr(s, k) for k in SCORE_FIELDS}
        score["n_units"] = n_units
        score["ci_low"], score["ci_high"] = (s.ci or {}).get("raw", (None, None))
        selection = {k: getattr(s, k) for k in SELECTION_FIELDS}
        selection.update(seed=self.protocol.selection_seed, fraction=self.protocol.selection_fraction,
                         mode="none" if s.protocol == "brainscore" else "selection/held-out")
        return ScoreRecord(benchmark=self.record(), layer=s.layer, metric=self._metric(options), score=score,
                           layer_selection=selection)

    def _metric(self, options: ScoreOptions) -> dict:
        """The metric of a record: its name says the regression (and a non-default protocol)."""
        name = f"{options.regression}_predictivity"
        if options.protocol != "brainalign":  # the default protocol keeps the historical name
            name += f"@{options.protocol}"
        protocol = nayebi_protocol(self) if options.protocol == "nayebi2023" else self.protocol
        return {"name": name, "protocol": options.protocol, "regression": options.regression,
                "parameters": protocol.to_dict(), "options": options.to_dict(), "stratify": self.stratify_coord}
