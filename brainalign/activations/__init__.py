"""Activation extraction (forward hooks), the content-keyed cache and activation files."""

from .cache import ActivationCache, activation_key
from .extract import extract_activations
from .io import load_activations, save_activations

__all__ = ["ActivationCache", "activation_key", "extract_activations", "load_activations", "save_activations"]
