"""Model responses to in-memory image batches: layer activations or the network's output (logits)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import ModelError
from ..models.base import LoadedModel
from ..models.layers import record_outputs

LOGITS = "logits"


def model_responses(loaded: LoadedModel, images: np.ndarray, layers=(LOGITS,), *, batch_size: int = 32,
                    device: str = "cpu", progress: bool = False) -> dict[str, np.ndarray]:
    """Flattened responses of ``layers`` to ``images``.

    Parameters
    ----------
    loaded : the model, in eval mode, with its preprocessing.
    images : float ndarray of shape (n_images, H, W, 3) in [0, 1].
    layers : layer names from ``loaded.layers``; ``"logits"`` is the module's own output.

    Returns
    -------
    dict of layer -> float32 ndarray of shape (n_images, n_units)
    """
    images = np.asarray(images, dtype=np.float32)
    hooked = [layer for layer in layers if layer != LOGITS]
    unknown = [layer for layer in hooked if layer not in loaded.layers]
    if unknown:
        raise ModelError(f"{loaded.spec} has no layer {unknown[0]!r}",
                         hint=f"see `brainalign models layers {loaded.spec}`, or use --logits")
    module = loaded.module.to(device)
    chunks: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    with record_outputs(module, hooked) as outputs, torch.inference_mode():
        for start in tqdm(range(0, len(images), batch_size), desc=f"responses {loaded.spec}", unit="batch",
                          disable=not progress, leave=False):
            batch = torch.from_numpy(images[start:start + batch_size]).permute(0, 3, 1, 2)
            outputs.clear()
            final = module(loaded.preprocessing(batch).to(device))
            for layer in layers:
                value = final if layer == LOGITS else outputs.get(layer)
                if not isinstance(value, torch.Tensor):
                    raise ModelError(f"{layer!r} of {loaded.spec} gives no tensor",
                                     hint=f"pick another layer (`brainalign models layers {loaded.spec} --all`)")
                chunks[layer].append(value.to("cpu", torch.float32).reshape(len(batch), -1).numpy())
    return {layer: np.concatenate(parts) for layer, parts in chunks.items()}
