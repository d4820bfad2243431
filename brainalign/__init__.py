"""brainalign: how brain-like is a vision model?

The Python API mirrors the CLI: :func:`extract`, :func:`score`, :func:`score_files`,
:func:`report`, :func:`demo`, :func:`train` (and :func:`score_run` for a training run's
checkpoints), and :func:`load_activations` for files written by ``extract``.
They are imported on first use, so ``import brainalign`` (and ``brainalign --help``) stays fast.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("brainalign")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

_LAZY = {"demo": "api", "extract": "api", "report": "api", "score": "api", "score_files": "api",
         "train": "api", "score_run": "api", "load_activations": "activations.activation_files"}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'brainalign' has no attribute {name!r}")
