"""Named, versioned benchmarks: dataset + metric protocol, and how layers are scored on them.

Names are imported on first use, so listing benchmarks (:mod:`.registry`) stays light.
"""

from .._lazy import lazy_package

_LAZY = {"Benchmark": "base", "BrainScoreProtocol": "protocols", "NeuralBenchmark": "predictivity",
         "benchmark_info": "registry", "benchmarks_for_area": "registry", "list_benchmarks": "registry",
         "load_benchmark": "registry", "register_benchmark": "registry"}

__all__ = sorted(_LAZY)

lazy_package(__name__, _LAZY)
