"""Model responses to in-memory image batches: layer activations or the network's output (logits)."""

from __future__ import annotations

import numpy as np

from ..activations.extract import forward_arrays
from ..models.base import LoadedModel
from ..models.layer_names import LOGITS, unknown_layer


def model_responses(loaded: LoadedModel, images: np.ndarray, layers=(LOGITS,), *, batch_size: int = 32,
                    device: str = "cpu", progress: bool = False) -> dict[str, np.ndarray]:
    """Flattened responses of ``layers`` to ``images``, from the extraction's forward loop
    (:func:`brainalign.activations.extract.forward_arrays`; nothing is cached).

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
        raise unknown_layer(unknown[0], loaded.spec, loaded.layers, alternative="use --logits")
    arrays, _ = forward_arrays(loaded, images, hooked, batch_size=batch_size, device=device, progress=progress,
                               output=LOGITS if LOGITS in layers else None)
    return {layer: arrays[layer] for layer in layers}
