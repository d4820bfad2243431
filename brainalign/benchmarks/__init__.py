"""Named, versioned benchmarks: dataset + metric protocol, and how layers are scored on them."""

from .base import BrainScoreProtocol, NeuralBenchmark
from .registry import benchmark_info, benchmarks_for_area, list_benchmarks, load_benchmark, register_benchmark

__all__ = ["BrainScoreProtocol", "NeuralBenchmark", "benchmark_info", "benchmarks_for_area", "list_benchmarks",
           "load_benchmark", "register_benchmark"]
