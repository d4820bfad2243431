"""Layer commitment: the selection / held-out split every benchmark makes, and the layer it commits to.

A model is committed to the layer with the best raw score on a *selection* part of the stimuli;
that layer's score on the *held-out* part is the one reported (the leaderboard does this per
benchmark; :func:`commit_layers` does it per region for ``--layers auto``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from ..errors import InputError
from ..metrics.splits import shuffle_split
from ..records import ScoreRecord


@dataclass(frozen=True)
class LayerCommitment:
    """The layer-commitment split that every protocol shares (brainalign's own, recorded with every score).

    The stimuli (or stimulus families) are split once, stratified where the benchmark has labels,
    into a *selection* part (``selection_fraction``, seed ``selection_seed``) and a *held-out*
    part; a model is committed to the layer with the best raw score on the selection part, and
    that layer's score on the held-out part is reported.
    """

    selection_fraction: float = 0.5
    selection_seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def selection_partition(n_stimuli: int, labels, protocol: LayerCommitment) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of the layer-selection part and the held-out part of ``n_stimuli`` stimuli.

    ``labels`` (n_stimuli,) stratify the split, or None.
    """
    kwargs = dict(n_splits=1, train_size=protocol.selection_fraction, random_state=protocol.selection_seed)
    if labels is None:
        [(selection, heldout)] = shuffle_split(n_stimuli, **kwargs)
    else:
        from sklearn.model_selection import StratifiedShuffleSplit  # a second to import: only when stratified

        selection, heldout = next(StratifiedShuffleSplit(**kwargs).split(np.zeros(n_stimuli), labels))
    return np.sort(selection), np.sort(heldout)


def commit_layers(records: list[ScoreRecord]) -> list[ScoreRecord]:
    """``--layers auto``: each region's layer, best mean ``selection_raw`` over its benchmarks' records.

    Returns the records, each with ``layer_selection.auto = {"region_layer_map", "committed"}``.
    The committed layer's held-out score (``heldout_*``) is then the reported one: the layer was
    chosen on the other half of the stimuli. InputError when a record has no selection score
    (the ``brainscore`` protocol makes no selection / held-out split).
    """
    by_region: dict[str, dict[str, list]] = {}
    for record in records:
        value = record.layer_selection.get("selection_raw")
        if value is None or value != value:
            raise InputError("--layers auto needs a selection/held-out split",
                             hint="use --protocol brainalign (the default) or nayebi2023")
        by_region.setdefault(record.benchmark["region"], {}).setdefault(record.layer, []).append(value)
    mapping = {region: max(layers, key=lambda layer: sum(layers[layer]) / len(layers[layer]))
               for region, layers in by_region.items()}
    return [replace(record, layer_selection={**record.layer_selection, "auto": {
                "region_layer_map": mapping, "committed": mapping[record.benchmark["region"]] == record.layer}})
            for record in records]
