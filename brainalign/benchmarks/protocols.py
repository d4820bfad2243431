"""The predictivity protocols' constants: Brain-Score's (``brainscore``, ``brainalign``) and Nayebi et al. 2023's.

Each is a frozen dataclass recorded with every score (``to_dict``); both add brainalign's layer
commitment (:class:`.commitment.LayerCommitment`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .commitment import LayerCommitment


@dataclass(frozen=True)
class BrainScoreProtocol(LayerCommitment):
    """The ``brainscore`` neural-predictivity protocol (METHODS.md), plus brainalign's layer commitment.

    PLS with ``n_components`` (scale=False), ``n_splits`` ShuffleSplits over unique stimulus ids
    with ``train_size`` and ``random_state`` (stratified by the benchmark's stratification
    column when it has one); Pearson r per neuroid, median over neuroids, mean over splits.
    Ceiling: split-half internal consistency with Spearman-Brown over ``ceiling_splits`` splits
    of the repetitions.

    Layer commitment (brainalign's own, recorded with every score): the stimuli are split once,
    stratified, into a *selection* part (``selection_fraction``, seed ``selection_seed``) and a
    *held-out* part; the leaderboard commits each model to the layer with the best raw score on
    the selection part and reports that layer's ceiled score on the held-out part only.
    """

    name: str = "brainscore"
    n_components: int = 25
    n_splits: int = 10
    train_size: float = 0.9
    random_state: int = 1
    ceiling_splits: int = 10


def protocol_for_stimuli(n_stimuli: int) -> BrainScoreProtocol:
    """The brainscore protocol, with PLS components capped below the smallest training split.

    The held-out half of ``n_stimuli`` trains on ``floor(0.9 * n_stimuli / 2)`` stimuli; PLS
    needs fewer components than that, so small sets (e.g. 24 stimuli) get fewer than 25.
    The number used is recorded with every score.
    """
    protocol = BrainScoreProtocol()
    smallest_train = int(protocol.train_size * (n_stimuli // 2))
    return replace(protocol, n_components=max(1, min(protocol.n_components, smallest_train - 1)))


@dataclass(frozen=True)
class NayebiProtocol(LayerCommitment):
    """The ``nayebi2023`` protocol (METHODS.md): noise-corrected PLS predictivity from single trials.

    PLS with ``n_components`` fit jointly over the units; ``n_splits`` image splits with
    ``train_frac`` of the images for training (split s permuted by ``RandomState(s)``);
    ``n_halves`` trial split-halves per split (half i shuffled by ``RandomState(i)``); per unit
    ``r(F1(X), T2) / sqrt(SB(r(F1(X), F2(X))) SB(r(T1, T2)))`` on the test images, mean over
    splits x halves, median over units. Ceiling: inter-animal consistency ("holdout": the other
    animals' pooled units predict each animal's, same formula), over animals with at least the
    ``min_unit_percentile`` of the unit counts. Layer commitment as in
    :class:`BrainScoreProtocol`.
    """

    name: str = "nayebi2023"
    n_components: int = 25
    n_splits: int = 10
    train_frac: float = 0.5
    n_halves: int = 100
    min_unit_percentile: float = 75.0
