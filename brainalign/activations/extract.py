"""Layer activations from forward hooks, batched, cached by content."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from ..errors import ModelError
from ..models.base import LoadedModel
from ..models.layers import record_outputs
from ..stimuli.stimulus_set import StimulusSet
from .cache import ActivationCache, activation_key


def extract_activations(model: LoadedModel, stimuli: StimulusSet, layers, *, batch_size: int = 32,
                        device: str = "cpu", cache: ActivationCache | None = None,
                        use_cache: bool = True, progress: bool = True) -> dict[str, xr.DataArray]:
    """Activations of ``layers`` for every stimulus.

    Parameters
    ----------
    model : LoadedModel, in eval mode.
    stimuli : StimulusSet of n_stimuli images.
    layers : sequence of layer names (already resolved against ``model.layers``).
    batch_size : images per forward pass.
    use_cache : read and write the content-keyed cache.

    Returns
    -------
    dict of str to xarray.DataArray
        Per layer, float32 of shape (n_stimuli, n_units) with dims ``stimulus`` x ``unit``,
        coordinate ``stimulus_id`` and the layer's unflattened shape in ``attrs["layer_shape"]``.
    """
    cache = cache or ActivationCache()
    keys = {layer: activation_key(weights_sha256=model.weights_sha256, stimuli_hash=stimuli.content_hash,
                                  layer=layer, preprocessing=model.preprocessing.to_dict()) for layer in layers}
    found = {layer: cache.get(key) for layer, key in keys.items()} if use_cache else {}
    shapes = {}
    missing = [layer for layer in layers if found.get(layer) is None]
    if missing:
        computed, shapes = _run_forward(model, stimuli, missing, batch_size=batch_size, device=device,
                                        progress=progress)
        for layer, values in computed.items():
            if use_cache:
                cache.put(keys[layer], values)
            found[layer] = values
    return {layer: _as_dataarray(np.asarray(found[layer]), stimuli, layer, shapes.get(layer)) for layer in layers}


def _as_dataarray(values: np.ndarray, stimuli: StimulusSet, layer: str, shape) -> xr.DataArray:
    attrs = {"layer": layer}
    if shape is not None:
        attrs["layer_shape"] = list(shape)
    return xr.DataArray(values, dims=("stimulus", "unit"),
                        coords={"stimulus_id": ("stimulus", stimuli.stimulus_ids)}, name=layer, attrs=attrs)


def _load_batch(model: LoadedModel, stimuli: StimulusSet, indices: range) -> torch.Tensor:
    images = [torch.from_numpy(stimuli.load(i)).permute(2, 0, 1)[None] for i in indices]
    return torch.cat([model.preprocessing(image) for image in images])


def _run_forward(model: LoadedModel, stimuli: StimulusSet, layers: list[str], *, batch_size: int,
                 device: str, progress: bool) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
    n = len(stimuli)
    module = model.module.to(device)
    arrays: dict[str, np.ndarray] = {}
    shapes: dict[str, tuple] = {}
    with record_outputs(module, layers) as outputs, torch.inference_mode(), \
            tqdm(total=n, desc=f"extract {model.spec}", unit="img", disable=not progress, leave=False) as bar:
        for start in range(0, n, batch_size):
            batch = range(start, min(start + batch_size, n))
            outputs.clear()
            module(_load_batch(model, stimuli, batch).to(device))
            for layer, output in outputs.items():
                if not isinstance(output, torch.Tensor):
                    raise ModelError(f"layer {layer!r} of {model.spec} outputs a {type(output).__name__}, "
                                     "not a tensor", hint=f"see `brainalign models layers {model.spec} --all`")
                if layer not in arrays:
                    shapes[layer] = tuple(output.shape[1:])
                    arrays[layer] = np.empty((n, int(np.prod(shapes[layer]))), dtype=np.float32)
                arrays[layer][batch.start:batch.stop] = output.reshape(len(batch), -1).to("cpu", torch.float32).numpy()
            bar.update(len(batch))
    _check_all_recorded(layers, arrays, model.spec)
    return arrays, shapes


def _check_all_recorded(layers: list[str], arrays: dict, spec: str) -> None:
    silent = [layer for layer in layers if layer not in arrays]
    if silent:
        raise ModelError(f"layer(s) {', '.join(silent)} of {spec} were never called in the forward pass",
                         hint="choose layers from `brainalign models layers MODEL`")
