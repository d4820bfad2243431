"""Layer activations from forward hooks, batched, cached by content."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from ..errors import InputError, ModelError
from ..models.base import LoadedModel
from ..models.layers import parse_layer, record_outputs
from ..stimuli.stimulus_set import StimulusSet
from .cache import ActivationCache, activation_key
from .device import autocast, check_precision, resolve_device


def extract_activations(model: LoadedModel, stimuli: StimulusSet, layers, *, batch_size: int = 32,
                        device: str = "cpu", precision: str = "fp32", cache: ActivationCache | None = None,
                        use_cache: bool = True, progress: bool = True) -> dict[str, xr.DataArray]:
    """Activations of ``layers`` for every stimulus.

    Parameters
    ----------
    model : LoadedModel, in eval mode.
    stimuli : StimulusSet of n_stimuli images.
    layers : sequence of layer names (already resolved against ``model.layers``).
    batch_size : images per forward pass.
    device : torch device of the forward pass (``cuda`` fails with one line when absent).
    precision : ``fp32``, or ``fp16`` / ``bf16`` autocast (cached under a separate key).
    use_cache : read and write the content-keyed cache.

    Returns
    -------
    dict of str to xarray.DataArray
        Per layer, float32 of shape (n_stimuli, n_units) with dims ``stimulus`` x ``unit``,
        coordinate ``stimulus_id`` and the layer's unflattened shape in ``attrs["layer_shape"]``.
    """
    cache = cache or ActivationCache()
    check_precision(precision)
    variant = None if precision == "fp32" else {"precision": precision}
    keys = {layer: activation_key(weights_sha256=model.weights_sha256, stimuli_hash=stimuli.content_hash,
                                  layer=layer, preprocessing=model.preprocessing.to_dict(), variant=variant)
            for layer in layers}
    found = {layer: cache.get(key) for layer, key in keys.items()} if use_cache else {}
    shapes = {}
    missing = [layer for layer in layers if found.get(layer) is None]
    if missing and use_cache:
        with cache.writer() as create:
            shapes = _run_forward(model, stimuli, missing, batch_size=batch_size, device=device, precision=precision,
                                  progress=progress, open_sink=lambda layer, shape: create(keys[layer], shape))
        found.update({layer: cache.get(keys[layer]) for layer in missing})
    elif missing:
        arrays, shapes = forward_arrays(model, stimuli, missing, batch_size=batch_size, device=device,
                                        precision=precision, progress=progress)
        found.update(arrays)
    return {layer: _as_dataarray(np.asarray(found[layer]), stimuli, layer, shapes.get(layer)) for layer in layers}


def _as_dataarray(values: np.ndarray, stimuli: StimulusSet, layer: str, shape) -> xr.DataArray:
    attrs = {"layer": layer}
    if shape is not None:
        attrs["layer_shape"] = list(shape)
    return xr.DataArray(values, dims=("stimulus", "unit"),
                        coords={"stimulus_id": ("stimulus", stimuli.stimulus_ids)}, name=layer, attrs=attrs)


def forward_arrays(model: LoadedModel, stimuli: StimulusSet | np.ndarray, layers, *, batch_size: int = 32,
                   device: str = "cpu", precision: str = "fp32", progress: bool = True,
                   output: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
    """Every layer's activations in memory, without the cache: ``({layer: array}, {layer: layer_shape})``.

    Parameters
    ----------
    stimuli : StimulusSet, or float32 ndarray of shape (n_stimuli, H, W, 3) in [0, 1].
    layers : sequence of hooked layer names.
    output : a name under which the module's own output (e.g. logits) is returned too, or None.

    Returns
    -------
    dict of str to ndarray
        Per layer (and ``output``), float32 of shape (n_stimuli, n_units), rows in stimulus order.
    dict of str to tuple
        Each one's unflattened shape without the batch dimension.
    """
    arrays = {}

    def in_memory(layer, shape):
        arrays[layer] = np.empty(shape, dtype=np.float32)
        return _RowFiller(arrays[layer])

    shapes = _run_forward(model, stimuli, list(layers), batch_size=batch_size, device=device, precision=precision,
                          progress=progress, open_sink=in_memory, output=output)
    return arrays, shapes


def _load_batch(model: LoadedModel, stimuli: StimulusSet | np.ndarray, indices: range) -> torch.Tensor:
    """Preprocessed input (batch, channels, size, size); one vectorised call when the images share a size.

    ``stimuli`` is a StimulusSet, or images already in memory as float32 (n, H, W, 3).
    """
    if isinstance(stimuli, np.ndarray):
        return model.preprocessing(torch.from_numpy(stimuli[indices.start:indices.stop]).permute(0, 3, 1, 2))
    images = [torch.from_numpy(stimuli.load(i)).permute(2, 0, 1)[None] for i in indices]
    if len({image.shape for image in images}) == 1:
        return model.preprocessing(torch.cat(images))
    return torch.cat([model.preprocessing(image) for image in images])


def iter_batches(model: LoadedModel, stimuli: StimulusSet | np.ndarray, layers, *, batch_size: int = 32,
                 device: str = "cpu", precision: str = "fp32", progress: bool = True, into=None, filled=None,
                 output: str | None = None) -> Iterator[tuple[range, dict[str, np.ndarray]]]:
    """One forward pass per batch of stimuli; yield ``(indices, {layer: float32 (batch, *layer_shape)})``.

    Only one batch of outputs is alive at a time, so callers can stream them to disk; the arrays
    are reused by the next batch, so copy (or write) them before asking for it. The next batch's
    images are loaded and preprocessed by a background thread during the forward pass (into
    pinned memory, copied without blocking, on CUDA). Raises ModelError for a layer that outputs
    a non-tensor or never runs, and InputError when the device runs out of memory (e.g. a GPU at
    too large a batch size).

    ``into(layer, shape)``, when given, may return a float32 C-contiguous array of ``shape``
    (batch, *layer_shape) for the next batch's output of ``layer`` (e.g. the staging buffer of
    the file it goes to), or None; on the CPU in fp32 the hooks then copy the output straight
    there, and that array is what is yielded. It is asked from the second batch on, once the
    layer's shape is known. ``filled(layer)``, when given too, is called as soon as a hook has
    copied the output of ``layer`` into that array, during the forward pass (so its rows can be
    written to disk while the later layers compute, even in the last batch).

    ``stimuli`` may also be images already in memory, float32 (n_stimuli, H, W, 3) in [0, 1].
    ``output``, when given, names the module's own output (e.g. ``"logits"``), yielded beside
    the hooked layers.
    """
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    n = len(stimuli)
    target = resolve_device(device)
    module = model.module.to(target)
    seen: set[str] = set()
    host: dict[str, torch.Tensor] = {}  # float32 CPU copies of GPU or reduced-precision outputs, reused
    buffers: dict[str, torch.Tensor] = {}  # where the hooks copy each layer's output
    shapes: dict[str, tuple] = {}
    direct = into is not None and target.type == "cpu" and precision == "fp32"
    batches = [range(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    pin = target.type == "cuda"
    given: dict[str, torch.Tensor] = {}  # this batch's arrays from `into`, until their layer is filled

    def load(batch: range) -> torch.Tensor:
        inputs = _load_batch(model, stimuli, batch)
        return inputs.pin_memory() if pin else inputs

    loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brainalign-loader")
    handles = []
    try:
        with record_outputs(module, layers, reuse_buffers=buffers) as outputs, torch.inference_mode(), \
                tqdm(total=n, desc=f"extract {model.spec}", unit="img", disable=not progress, leave=False) as bar:
            if direct and filled is not None:
                handles = _fill_hooks(module, layers, outputs, given, filled)
            upcoming = loader.submit(load, batches[0]) if batches else None
            for i, batch in enumerate(batches):
                inputs = upcoming.result()
                if i + 1 < len(batches):
                    upcoming = loader.submit(load, batches[i + 1])
                inputs = inputs.to(target, non_blocking=True)
                outputs.clear()
                if direct:
                    for layer, shape in shapes.items():
                        if layer == output:
                            continue  # not hooked: the module's own output, never copied into a buffer
                        array = into(layer, (len(batch), *shape))
                        if array is None:
                            buffers.pop(layer, None)  # not the array yielded last time, which may be in use
                        else:
                            given[layer] = buffers[layer] = torch.from_numpy(array)
                try:
                    with autocast(target, precision):
                        final = module(inputs)
                except torch.OutOfMemoryError:
                    raise InputError(f"{target} ran out of memory in the forward pass of {model.spec} at batch "
                                     f"size {len(batch)}", hint="lower --batch-size (or `batch_size:` in a plan), "
                                                                "or use --precision fp16 on a GPU") from None
                if output is not None:
                    if not isinstance(final, torch.Tensor):
                        raise ModelError(f"{model.spec} outputs a {type(final).__name__}, not a tensor",
                                         hint=f"use one of its layers (`brainalign models layers {model.spec}`)")
                    outputs[output] = final
                arrays = {}
                for layer, value in outputs.items():
                    if not isinstance(value, torch.Tensor):
                        raise ModelError(f"layer {layer!r} of {model.spec} outputs a {type(value).__name__}, "
                                         "not a tensor", hint=f"see `brainalign models layers {model.spec} --all`")
                    arrays[layer] = _on_host(value, host, layer).numpy()
                    shapes[layer] = tuple(value.shape[1:])
                outputs.clear()
                given.clear()
                seen.update(arrays)
                _check_all_recorded(layers, seen, model.spec)
                yield batch, arrays
                bar.update(len(batch))
    finally:
        for handle in handles:
            handle.remove()
        loader.shutdown(wait=True, cancel_futures=True)


def _fill_hooks(module: torch.nn.Module, layers, outputs: dict, given: dict, filled) -> list:
    """Forward hooks, run after :func:`record_outputs`' own, that call ``filled(layer)`` once the
    output of ``layer`` has been copied into its array ``given[layer]`` (module layers only; graph
    nodes are reported with the batch)."""
    modules = dict(module.named_modules())

    def after(layer: str):
        def hook(*_):
            array, value = given.get(layer), outputs.get(layer)
            if array is not None and isinstance(value, torch.Tensor) and value.data_ptr() == array.data_ptr():
                del given[layer]
                filled(layer)
        return hook

    return [modules[base].register_forward_hook(after(layer))
            for layer in layers if (base := parse_layer(layer).base) and base in modules]


def _on_host(output: torch.Tensor, host: dict[str, torch.Tensor], layer: str) -> torch.Tensor:
    """``output`` as a float32 CPU tensor: itself when it already is one, else a copy into a buffer
    kept in ``host`` across batches (pinned when it comes from a GPU)."""
    if output.device.type == "cpu" and output.dtype == torch.float32:
        return output
    kept = host.get(layer)
    if kept is None or kept.shape != output.shape:
        kept = host[layer] = torch.empty(output.shape, dtype=torch.float32,
                                         pin_memory=output.device.type == "cuda")
    return kept.copy_(output)


class _RowFiller:
    """Append rows (batch, n_units) to a preallocated (n_stimuli, n_units) array, in order."""

    def __init__(self, array: np.ndarray):
        self.array, self.filled = array, 0

    def reserve(self, n_rows: int) -> np.ndarray:
        """The array's next ``n_rows`` rows, to be filled in place and then passed to :meth:`append`."""
        return self.array[self.filled:self.filled + n_rows]

    def append(self, rows: np.ndarray) -> None:
        target = self.array[self.filled:self.filled + len(rows)]
        if rows.shape != target.shape or rows.__array_interface__["data"] != target.__array_interface__["data"]:
            target[...] = rows  # not filled in place through reserve()
        self.filled += len(rows)


def _run_forward(model: LoadedModel, stimuli: StimulusSet | np.ndarray, layers: list[str], *, batch_size: int,
                 device: str, precision: str, progress: bool, open_sink, output: str | None = None) -> dict[str, tuple]:
    """Run every batch and append each layer's rows (batch, n_units) to ``open_sink(layer, (n_stimuli,
    n_units))``, an object with ``append(rows)`` and ``reserve(n_rows)`` (the array the next rows
    may be written into in place); return each layer's unflattened shape. ``output`` as in
    :func:`iter_batches`."""
    n = len(stimuli)
    sinks, shapes, reserved, appended = {}, {}, {}, set()

    def into(layer, shape):
        reserved[layer] = sinks[layer].reserve(shape[0])
        return reserved[layer].reshape(shape)

    def filled(layer):  # rows complete in the middle of the forward pass: queue them at once
        sinks[layer].append(reserved.pop(layer))
        appended.add(layer)

    for batch, outputs in iter_batches(model, stimuli, layers, batch_size=batch_size, device=device,
                                       precision=precision, progress=progress, into=into, filled=filled,
                                       output=output):
        for layer, rows in outputs.items():
            if layer not in sinks:
                shapes[layer] = tuple(rows.shape[1:])
                sinks[layer] = open_sink(layer, (n, int(np.prod(shapes[layer]))))
            if layer not in appended:
                sinks[layer].append(rows.reshape(len(batch), -1))
        appended.clear()
    return shapes


def _check_all_recorded(layers, recorded, spec: str) -> None:
    silent = [layer for layer in layers if layer not in recorded]
    if silent:
        raise ModelError(f"layer(s) {', '.join(silent)} of {spec} were never called in the forward pass",
                         hint="choose layers from `brainalign models layers MODEL`")
