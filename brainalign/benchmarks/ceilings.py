"""Noise ceilings of neural targets, or NaN with the reason they cannot be computed.

:class:`SplitHalfCeiling`: Brain-Score's split-half internal consistency with Spearman-Brown
(``brainscore`` / ``brainalign`` protocols); :class:`InterAnimalCeiling`: how well the other
animals predict each animal (``nayebi2023``). A degenerate target (one repetition, one animal)
gives a NaN ceiling and its reason in ``note``, never an error.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, InputError
from ..metrics.ceiling import spearman_brown_split_half, split_half_means
from ..metrics.nayebi import interanimal_consistency
from .alignment import NeuralTarget
from .protocols import BrainScoreProtocol, NayebiProtocol


class SplitHalfCeiling:
    """The split-half ceiling of ``responses`` (n_repetitions, n_stimuli, n_neuroids), or NaN with the reason.

    Attributes: ``value``, ``per_split``, ``halves`` (the split-half means the bootstrap resamples),
    ``note`` and ``samples`` (the bootstrap replicates, filled in once by :func:`.intervals.prediction_ci`).
    """

    def __init__(self, responses: np.ndarray, protocol: BrainScoreProtocol):
        self.value, self.per_split, self.halves, self.note, self.samples = np.nan, [], None, None, None
        if responses.shape[0] < 2:
            self.note = (f"no split-half ceiling: {responses.shape[0]} repetition per stimulus "
                         "(the ceiling needs at least 2)")
            return
        try:
            result = spearman_brown_split_half(responses, n_splits=protocol.ceiling_splits,
                                               random_state=protocol.random_state)
        except DataError as error:
            self.note = f"no split-half ceiling: {error.message}"
            return
        self.value, self.per_split = float(result.ceiling), [float(v) for v in result.per_split]
        self.halves = split_half_means(responses, n_splits=protocol.ceiling_splits,
                                       random_state=protocol.random_state)


class InterAnimalCeiling:
    """Inter-animal consistency of the target on the stimuli ``images`` (indices), or NaN with the reason."""

    def __init__(self, target: NeuralTarget, images: np.ndarray, protocol: NayebiProtocol, backend: str = "numpy"):
        self.value, self.note, self.animals, self.n_components = np.nan, None, [], None
        if target.animals is None or len(set(target.animals)) < 2:
            self.note = ("no inter-animal ceiling: the assembly names fewer than 2 animals "
                         "(neuroid coordinate 'animal' or 'subject')")
            return
        by_animal = {name: target.responses[:, images][:, :, target.animals == name]
                     for name in sorted(set(target.animals))}
        try:
            result, self.animals = interanimal_consistency(
                by_animal, n_components=protocol.n_components, n_splits=protocol.n_splits,
                train_frac=protocol.train_frac, n_halves=protocol.n_halves,
                min_unit_percentile=protocol.min_unit_percentile, backend=backend)
        except (DataError, InputError) as error:
            self.note = f"no inter-animal ceiling: {error.message}"
            return
        self.value, self.n_components = result.score, result.n_components
