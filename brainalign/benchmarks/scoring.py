"""Score layer activations on a neural benchmark under a named protocol (:func:`score_layers`).

Protocols (``ScoreOptions.protocol``; every record stores the name and its parameters):

- ``brainalign`` (default): Brain-Score's regression, splits and split-half ceiling
  (:class:`.protocols.BrainScoreProtocol`), plus brainalign's layer commitment (the layer is chosen
  on a *selection* half of the stimuli and reported on the *held-out* half) and bootstrap
  confidence intervals over stimuli and neuroids (:mod:`.brainscore`).
- ``brainscore``: Brain-Score exactly: the same full-data numbers, no selection/held-out split.
  Bootstrap intervals are still reported next to them (they change no number).
- ``nayebi2023``: noise-corrected PLS predictivity from single trials with the inter-animal
  ceiling (:class:`.protocols.NayebiProtocol`, :mod:`.nayebi`); intervals resample neuroids only.

Degenerate data never give a silent number: a single repetition gives a NaN ceiling with its
reason in ``ceiling_note``; constant neuroids are NaN for every split and named in ``notes``;
too few stimuli for the splits, or NaN responses after averaging, raise :class:`DataError`.
"""

from __future__ import annotations

import xarray as xr

from ..metrics.conventions import DEFAULT_CONVENTION
from .alignment import check_stimulus_ids, neural_target
from .brainscore import score_brainscore
from .layer_score import LayerScore
from .nayebi import score_nayebi
from .options import ScoreOptions


def score_layers(benchmark, activations: dict[str, xr.DataArray], *, convention: str = DEFAULT_CONVENTION,
                 gram_cache: dict | None = None, options: ScoreOptions | None = None) -> list[LayerScore]:
    """Score each layer of ``activations`` ({layer: DataArray(stimulus, unit)}) on ``benchmark``
    (a :class:`.predictivity.NeuralBenchmark`).

    Returns one LayerScore per layer, in the order given. ``gram_cache`` (a dict the caller keeps
    for one model) shares each layer's (n_stimuli, n_stimuli) kernel between benchmarks that use
    the same stimuli. See the module docstring for the protocols.
    """
    options = options or ScoreOptions()
    gram_cache = {} if gram_cache is None else gram_cache
    target = neural_target(benchmark)
    for layer, array in activations.items():
        check_stimulus_ids(array, target.stimulus_ids, layer=layer)
    if options.protocol == "nayebi2023":
        return score_nayebi(benchmark, activations, target, convention=convention, options=options)
    return score_brainscore(activations, target, benchmark.protocol, convention=convention, options=options,
                            gram_cache=gram_cache)
