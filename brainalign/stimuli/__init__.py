"""Stimulus sets: ordered images with metadata, from registered sets, folders or zips."""

from .sources import registered_stimulus_sets, resolve_stimuli
from .stimulus_set import StimulusSet, as_rgb_float

__all__ = ["StimulusSet", "as_rgb_float", "registered_stimulus_sets", "resolve_stimuli"]
