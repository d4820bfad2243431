"""Features for a benchmark, as it asks for them (:class:`FeatureNeeds`), within a memory budget.

A benchmark says how it wants each layer (:meth:`brainalign.benchmarks.base.Benchmark.needs`);
:class:`FeatureSource` holds one model's layers and the extraction options and gives each
benchmark its features, choosing among the paths of :mod:`.features`: the activations in memory,
(n x n) kernel features or RDM features from out-of-core kernels when a layer does not fit, a
seeded sample of units kept while streaming, or the ``--reduce`` projection / PCA of every layer
(shared by the benchmarks with the same stimuli). This module imports nothing heavy until
features are asked for, so benchmarks can name :class:`FeatureNeeds` freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

    from ..models.base import LoadedModel
    from ..models.options import ExtractionOptions
    from ..stimuli.stimulus_set import StimulusSet


@dataclass(frozen=True)
class FeatureNeeds:
    """How a benchmark wants each layer's features (stimulus x unit).

    Attributes
    ----------
    streamed : what a layer over the memory budget becomes: ``"kernel"`` ((n, n) features with the
        layer's centred linear kernel, all that PLS and ridge see), ``"rdm:correlation"`` /
        ``"rdm:euclidean"`` (features with the layer's RDM of that kind), ``"units"`` (the units of
        ``unit_sample``, kept while streaming), or None (always the activations in memory).
    unit_sample : for ``"units"``: ``n_units -> sorted indices of the units scored`` (seeded), or None for all.
    """

    streamed: str | None = "kernel"
    unit_sample: Callable[[int], np.ndarray | None] | None = None

    def __post_init__(self):
        if self.streamed not in ("kernel", "units", None) and not str(self.streamed).startswith("rdm:"):
            raise ValueError(f"unknown streamed features {self.streamed!r}: kernel, rdm:METHOD, units or None")
        if (self.streamed == "units") != (self.unit_sample is not None):
            raise ValueError("streamed='units' goes with a unit_sample, and a unit_sample with streamed='units'")


def check_reduction(reduce: str | None, reduce_fit: str | None) -> tuple[str, int] | None:
    """``--reduce`` parsed (``("srp", N)``, ``("pca", N)`` or None); InputError when ``--reduce-fit`` does not fit it."""
    from .reduction import parse_reduction

    reduction = parse_reduction(reduce)
    if reduction is not None and (reduction[0] == "pca") != bool(reduce_fit):
        raise InputError(f"--reduce {reduce} " + ("needs images to fit the PCA on" if reduction[0] == "pca"
                                                   else "is not fitted, so it takes no --reduce-fit"),
                         hint="use --reduce pca:N --reduce-fit IMAGES, or --reduce srp:N alone")
    return reduction


class FeatureSource:
    """The features of ``layers`` of ``model`` for each benchmark, as its :class:`FeatureNeeds` ask.

    ``extraction`` sets the forward passes and the memory budget (:mod:`.features`). With ``reduction`` (``("srp", N)`` seeded by ``reduce_seed``,
    or ``("pca", N)`` fit on ``fit_stimuli``), every benchmark gets the reduced layers instead,
    computed once per stimulus set.
    """

    def __init__(self, model: LoadedModel, layers, extraction: ExtractionOptions, *,
                 reduction: tuple[str, int] | None = None, reduce_seed: int = 0,
                 fit_stimuli: StimulusSet | None = None):
        self.model, self.layers, self.extraction = model, list(layers), extraction
        self.reduction, self.reduce_seed, self.fit_stimuli = reduction, reduce_seed, fit_stimuli
        self._reduced: dict[str, dict] = {}   # {stimulus-set content hash: reduced layers}

    def features(self, stimuli: StimulusSet, needs: FeatureNeeds) -> dict[str, xr.DataArray]:
        """``{layer: DataArray(stimulus, unit)}`` on ``stimuli``, each with its real width in ``attrs["n_units"]``."""
        from . import features

        model, layers, extraction = self.model, self.layers, self.extraction
        if self.reduction is not None:   # bounded memory, whatever the benchmark
            if stimuli.content_hash not in self._reduced:
                method, n_components = self.reduction
                self._reduced[stimuli.content_hash] = (
                    features.projected_features(model, stimuli, layers, n_components, extraction,
                                                seed=self.reduce_seed)
                    if method == "srp" else
                    features.pca_features(model, stimuli, self.fit_stimuli, layers, n_components, extraction))
            return self._reduced[stimuli.content_hash]
        if needs.streamed == "units":
            return features.sampled_features(model, stimuli, layers, needs.unit_sample, extraction)
        rdm = needs.streamed[len("rdm:"):] if needs.streamed and needs.streamed.startswith("rdm:") else None
        activations, _ = features.features_for_scoring(model, stimuli, layers, extraction,
                                                       stream=False if needs.streamed is None else None, rdm=rdm)
        return activations
