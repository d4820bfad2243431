"""Neural data: the NeuralAssembly schema, its files and the simulated populations.

Names are imported on first use, so commands that only look for files (`brainalign data list`)
never import xarray.
"""

from .._lazy import lazy_package

_LAZY = {"TrialArray": "assembly", "average_time_window": "assembly", "stimulus_metadata": "assembly",
         "trial_array": "assembly", "validate_assembly": "assembly",
         "read_assembly": "assembly_files", "write_assembly": "assembly_files"}

__all__ = sorted(_LAZY)

lazy_package(__name__, _LAZY)
