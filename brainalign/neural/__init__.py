"""Neural data: the NeuralAssembly schema, its file io and the simulated populations."""

from .assembly import (TrialArray, average_time_window, stimulus_metadata, trial_array,
                       validate_assembly)
from .io import read_assembly, write_assembly

__all__ = ["TrialArray", "average_time_window", "read_assembly", "stimulus_metadata", "trial_array",
           "validate_assembly", "write_assembly"]
