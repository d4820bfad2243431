"""Activation extraction (forward hooks), the content-keyed cache, activation files, and the
bounded-memory path: HDF5 streaming, out-of-core kernels and reductions, memory preflight.

Names are imported on first use: reading an activation file (:mod:`.activation_files`) never
imports torch.
"""

from .._lazy import lazy_package

_LAZY = {"ActivationCache": "cache", "activation_key": "cache", "extract_activations": "extract",
         "iter_batches": "extract", "features_for_scoring": "features",
         "load_activations": "activation_files", "save_activations": "activation_files",
         "MemoryPlan": "preflight", "parse_size": "preflight", "preflight": "preflight",
         "stream_activations": "streaming"}

__all__ = sorted(_LAZY)

lazy_package(__name__, _LAZY)
