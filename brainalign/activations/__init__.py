"""Activation extraction (forward hooks), the content-keyed cache, activation files, and the
bounded-memory path: HDF5 streaming, out-of-core kernels and reductions, memory preflight."""

from .cache import ActivationCache, activation_key
from .extract import extract_activations, iter_batches
from .features import features_for_scoring
from .io import load_activations, save_activations
from .preflight import MemoryPlan, parse_size, preflight
from .streaming import stream_activations

__all__ = ["ActivationCache", "MemoryPlan", "activation_key", "extract_activations", "features_for_scoring",
           "iter_batches", "load_activations", "parse_size", "preflight", "save_activations",
           "stream_activations"]
