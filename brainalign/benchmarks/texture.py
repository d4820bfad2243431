"""Texture-selectivity benchmark (Freeman et al. 2013; Marques et al. 2020) on the simulated V2 population.

``sim-texture.V2``: the simulated texture / spectrally matched noise pairs (14 families x 6
samples each) plus a uniform mid-grey blank. For every model unit and every simulated V2 neuron:
texture modulation index, texture sparseness and variance ratio (``brainalign.metrics.texture``),
after subtracting the unit's blank response and setting negatives to 0. Neurons use their
repetition-averaged spike counts and, as blank response, the simulator's noise-free rate for the
blank (the expected spontaneous count; the recorded set has no blank trials).

Score of a layer, per property: the bootstrap binned-KS similarity of the model units'
distribution to the neurons' (1000 draws of as many units as there are neurons, seed
``protocol.seed``); ceiling: the neurons' similarity to themselves under the same bootstrap;
ceiled = raw / ceiling (``r/c``). The layer's raw, ceiling and ceiled are the means over the three
properties (Marques et al. average their properties the same way). Layers with more than
``protocol.max_units`` units are subsampled (seeded, recorded; when the layers are streamed to
disk, only those units are kept, see :func:`brainalign.activations.features.sampled_features`). Layer commitment: the families
are split once (seeded) into a selection half and a held-out half and everything is recomputed
on each half.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

from ..activations.gather import FeatureNeeds
from ..errors import DataError
from ..metrics.texture import PROPERTY_BINS, distribution_similarity, texture_properties
from ..neural.assembly import trial_array
from ..records import ScoreRecord
from ..safe_files import sha256_bytes
from ..stimuli.stimulus_set import StimulusSet, as_rgb_float
from .alignment import align_features, check_stimulus_ids
from .base import Benchmark
from .commitment import LayerCommitment
from .options import ScoreOptions
from .rsa import SIMILARITY_CONVENTION

BLANK_ID = "blank-grey"
BLANK_LEVEL = 0.5
VERSION = "1"


@dataclass(frozen=True)
class TextureProtocol(LayerCommitment):
    """How the texture benchmark scores a layer (recorded with every score)."""

    name: str = "texture-ks"
    properties: tuple = tuple(PROPERTY_BINS)
    n_bootstrap: int = 1000
    seed: int = 0
    max_units: int = 20000

    def to_dict(self) -> dict:
        return {**asdict(self), "properties": list(self.properties),
                "bins": {p: PROPERTY_BINS[p].round(6).tolist() for p in self.properties}}


@dataclass(frozen=True)
class _Layout:
    """Which stimulus of the set fills each (family, sample) cell of the texture and noise arrays."""

    families: np.ndarray   # (n_families,)
    texture_ids: np.ndarray  # (n_families, n_samples)
    noise_ids: np.ndarray    # (n_families, n_samples)


def _layout(metadata: pd.DataFrame) -> _Layout:
    pairs = metadata[metadata["kind"].isin(["texture", "noise"])]
    families = np.array(sorted(pairs["family"].unique()))
    samples = np.array(sorted(pairs["sample"].unique()))
    grid = {}
    for kind in ("texture", "noise"):
        table = pairs[pairs["kind"] == kind].pivot(index="family", columns="sample", values="stimulus_id")
        table = table.reindex(index=families, columns=samples)
        if table.isna().to_numpy().any():
            raise DataError(f"texture benchmark: the {kind} images do not cover every family x sample")
        grid[kind] = table.to_numpy(dtype=str)
    return _Layout(families, grid["texture"], grid["noise"])


def _arrange(values: np.ndarray, row_of: dict, layout: _Layout, families: np.ndarray):
    """(texture, noise) arrays (n_families, n_samples, n_units) of ``values`` (n_stimuli, n_units)."""
    keep = np.isin(layout.families, families)
    take = lambda ids: values[np.vectorize(row_of.__getitem__)(ids[keep])]  # noqa: E731
    return take(layout.texture_ids), take(layout.noise_ids)


@dataclass(frozen=True)
class TextureBenchmark(Benchmark):
    """Distribution similarity of texture-selectivity properties between model units and neurons.

    Attributes
    ----------
    identifier, version, region, species, description, dataset, citation, ranked : see :class:`.base.Benchmark`.
    load_responses : returns (responses DataFrame-like (n_stimuli, n_neurons) repetition-averaged with
        ``stimulus_id`` index, baseline (n_neurons,)).
    load_stimuli : returns the StimulusSet (texture and noise images plus the blank ``blank-grey``).
    """

    identifier: str
    version: str
    region: str
    species: str
    description: str
    load_responses: Callable
    load_stimuli: Callable[[], StimulusSet]
    protocol: TextureProtocol = field(default_factory=TextureProtocol)
    dataset: dict = field(default_factory=dict)
    citation: str = ""
    ranked: bool = True

    def needs(self) -> FeatureNeeds:
        """A seeded sample of each wide layer's units (:meth:`unit_sample`), kept while streaming."""
        return FeatureNeeds(streamed="units", unit_sample=self.unit_sample)

    def score(self, features: dict[str, xr.DataArray], *, options: ScoreOptions | None = None,
              convention: str | None = None, cache: dict | None = None) -> list[ScoreRecord]:
        """One record per layer of ``features`` (:func:`score_texture`; ``options`` and ``cache`` are not used)."""
        return score_texture(self, features, convention=convention)

    def unit_sample(self, n_units: int) -> np.ndarray | None:
        """Sorted indices of the units a layer of ``n_units`` is scored on (seeded), or None for all."""
        if n_units <= self.protocol.max_units:
            return None
        rng = np.random.default_rng(self.protocol.seed)
        return np.sort(rng.choice(n_units, self.protocol.max_units, replace=False))


def _similarities(model_props: dict, data_props: dict, protocol: TextureProtocol) -> dict:
    out = {}
    for i, name in enumerate(protocol.properties):
        bins = PROPERTY_BINS[name]
        raw = distribution_similarity(model_props[name], data_props[name], bins, n_bootstrap=protocol.n_bootstrap,
                                      seed=protocol.seed + i)
        ceiling = distribution_similarity(data_props[name], data_props[name], bins,
                                          n_bootstrap=protocol.n_bootstrap, seed=protocol.seed + i)
        out[name] = (raw, ceiling)
    return out


def _summary(similarities: dict) -> dict:
    raws = np.array([r.center for r, _ in similarities.values()])
    ceilings = np.array([c.center for _, c in similarities.values()])
    combined = np.mean([r.samples for r, _ in similarities.values()], axis=0)
    return {"raw": float(raws.mean()), "error": float(combined.std()), "ceiling": float(ceilings.mean()),
            "ceiled": float(np.mean(raws / ceilings))}


def score_texture(benchmark: TextureBenchmark, activations: dict[str, xr.DataArray], *,
                  convention: str | None = None) -> list[ScoreRecord]:
    """Score each layer on the texture benchmark (see the module docstring)."""
    protocol = benchmark.protocol
    stimuli = benchmark.load_stimuli()
    layout = _layout(stimuli.metadata)
    responses, baseline = benchmark.load_responses()
    ids = np.concatenate([layout.texture_ids.ravel(), layout.noise_ids.ravel()])
    missing = pd.Index(ids).difference(responses.index)
    if len(missing):
        raise DataError(f"{benchmark.identifier}: no neural responses to {len(missing)} texture/noise stimuli "
                        f"(first: {str(missing[0])!r})")
    data = responses.loc[ids]
    data_row = {s: i for i, s in enumerate(data.index)}
    rng = np.random.default_rng(protocol.selection_seed)
    shuffled = rng.permutation(layout.families)
    n_selection = int(round(protocol.selection_fraction * len(shuffled)))
    parts = {"full": layout.families, "selection": np.sort(shuffled[:n_selection]),
             "heldout": np.sort(shuffled[n_selection:])}
    data_props = {part: texture_properties(*_arrange(data.to_numpy(), data_row, layout, families), baseline)
                  for part, families in parts.items()}
    wanted = np.concatenate([ids, [BLANK_ID]])
    for layer, array in activations.items():
        check_stimulus_ids(array, wanted, layer=layer)
    notes = []
    if convention not in (None, SIMILARITY_CONVENTION):
        notes.append(f"distribution similarities are ceiled as raw / ceiling (r/c) rather than {convention}")
    metric = {"name": "texture_ks_similarity", "protocol": protocol.name, "parameters": protocol.to_dict(),
              "stratify": "family"}
    records = []
    for layer, array in activations.items():
        values = align_features(array, wanted, layer=layer)
        n_units = int(array.attrs.get("n_units", values.shape[1]))
        layer_notes = list(notes)
        keep = None if array.attrs.get("units_sampled") else benchmark.unit_sample(values.shape[1])
        if keep is not None:
            values = values[:, keep]
        if values.shape[1] < n_units:   # sampled here, or already while streaming (the same units)
            layer_notes.append(f"{values.shape[1]} of {n_units} units sampled (seed {protocol.seed})")
        model_row = {s: i for i, s in enumerate(wanted)}
        blank = values[model_row[BLANK_ID]]
        results = {}
        for part, families in parts.items():
            model_props = texture_properties(*_arrange(values, model_row, layout, families), blank)
            results[part] = (_similarities(model_props, data_props[part], protocol), model_props)
        full, model_props = results["full"]
        summary = _summary(full)
        per_property = {name: {"raw": r.center, "error": r.error, "ceiling": c.center, "ceiled": r.center / c.center,
                               "n_units": r.n_model, "n_neurons": r.n_data,
                               "model_median": float(np.nanmedian(model_props[name]))
                               if np.isfinite(model_props[name]).any() else float("nan"),
                               "data_median": float(np.nanmedian(data_props["full"][name]))}
                        for name, (r, c) in full.items()}
        score = {**summary, "convention": SIMILARITY_CONVENTION, "per_property": per_property,
                 "n_stimuli": len(wanted), "n_neuroids": int(responses.shape[1]), "n_units": int(n_units),
                 "n_units_used": int(values.shape[1]), "notes": layer_notes}
        selection, heldout = _summary(results["selection"][0]), _summary(results["heldout"][0])
        layer_selection = {"mode": "selection/held-out", "selection_raw": selection["raw"],
                           "heldout_raw": heldout["raw"],
                           "heldout_ceiling": heldout["ceiling"], "heldout_ceiled": heldout["ceiled"],
                           "n_selection": int(len(parts["selection"])), "n_heldout": int(len(parts["heldout"])),
                           "unit": "texture family", "seed": protocol.selection_seed,
                           "fraction": protocol.selection_fraction}
        records.append(ScoreRecord(benchmark=benchmark.record(), layer=layer, metric=metric, score=score,
                                   layer_selection=layer_selection))
    return records


# ---------------------------------------------------------------------------------------------
# the simulated V2 instance

@functools.lru_cache(maxsize=None)
def _simulated_parts(seed: int = 0):
    from ..neural.simulated import simulated_rates
    from ..stimuli.simulated import simulated_images
    from .simulated import simulated_assembly

    images, metadata = simulated_images(seed)
    pairs = metadata["kind"].isin(["texture", "noise"]).to_numpy()
    blank = np.full((1,) + images.shape[1:], BLANK_LEVEL, dtype=np.float32)
    assembly = simulated_assembly("V2", seed)
    trials = trial_array(assembly)
    responses = pd.DataFrame(trials.mean(), index=pd.Index(trials.stimulus_ids, name="stimulus_id"))
    baseline = simulated_rates(blank, model_seed=int(assembly.attrs.get("model_seed", 0)))["V2"][0]
    set_images = np.concatenate([images[pairs], blank])
    set_metadata = pd.concat([metadata[pairs], pd.DataFrame([{"stimulus_id": BLANK_ID, "kind": "blank",
                                                              "family": "blank", "sample": 0,
                                                              "texture_type": "blank"}])], ignore_index=True)
    return set_images, set_metadata, responses, baseline


def _simulated_stimuli(seed: int = 0) -> StimulusSet:
    images, metadata, _, _ = _simulated_parts(seed)
    digest = sha256_bytes(b"sim-texture", "\n".join(metadata["stimulus_id"]).encode(),
                          np.ascontiguousarray(images).tobytes())
    return StimulusSet(identifier="sim-texture", metadata=metadata, loader=lambda i: as_rgb_float(images[i]),
                       content_hash=digest)


def _simulated_responses(seed: int = 0):
    _, _, responses, baseline = _simulated_parts(seed)
    return responses, baseline


def make_simulated_texture() -> TextureBenchmark:
    """The ``sim-texture.V2`` benchmark."""
    from .simulated import dataset_record

    return TextureBenchmark(
        identifier="sim-texture.V2", version=VERSION, region="V2", species="macaque",
        description="texture selectivity (modulation index, sparseness, variance ratio) of simulated V2; "
                    "binned-KS distribution similarity",
        load_responses=_simulated_responses, load_stimuli=_simulated_stimuli, dataset=dataset_record("V2"),
        citation="Freeman et al. 2013 Nat Neurosci; Marques, Schrimpf & DiCarlo 2021 (texture properties)")
