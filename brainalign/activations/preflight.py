"""Memory preflight: estimate the peak before extracting, then keep in memory, stream, or refuse.

The estimate is read off one forward pass at batch 1 (:func:`brainalign.models.layer_shapes`):

- in memory: the float32 (n_stimuli x units) arrays of all layers, the largest layer once more
  (aligned copy made by scoring), one batch of hooked outputs (twice: tensor and NumPy copy)
  and the forward pass's working set;
- streamed (:mod:`.streaming` + :mod:`.kernel`): one batch of hooked outputs (twice), the forward
  working set, one float64 column block per reader, and an (n x n) float64 kernel per layer.

The forward working set is taken as ``batch x 3 x largest layer x 4 bytes`` (input, output and a
residual branch of the widest block alive together). Both figures add the model's parameters and
:data:`BASELINE_BYTES` for the interpreter, torch and NumPy, then a :data:`SAFETY` margin for
allocator slack and library scratch space. ``perf/bench_memory.py`` compares the estimate
with the measured peak RSS.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass

from ..errors import InputError
from ..models.base import LoadedModel
from ..models.layers import layer_shapes
from ..safe_files import storage_errors

#: Resident size of a process that has imported brainalign, torch and NumPy (measured: ~0.45 GB).
BASELINE_BYTES = 600 * 2**20
#: Margin on every estimate: ResNet-50, 450 images, streamed, peaked at 1.22x the unmargined figure.
SAFETY = 1.3
#: Share of the available memory used when no budget is given.
DEFAULT_FRACTION = 0.8
#: Units per column block read back from a stream file (see :data:`.streaming.CHUNK_UNITS`).
BLOCK_UNITS = 16384

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


def parse_size(text: str | int | float) -> int:
    """Bytes in ``text`` such as ``"3GB"``, ``"512 MiB"`` or ``2e9`` (powers of 1024 for K/M/G/T)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not match or match.group(2).upper() not in _UNITS:
        raise InputError(f"cannot read memory size {text!r}", hint="write e.g. 3GB, 512MB or 2e9")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def available_memory() -> int:
    """Bytes of memory available to a new allocation (psutil, else /proc/meminfo MemAvailable)."""
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except ImportError:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    raise RuntimeError("cannot tell the available memory")  # pragma: no cover


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


@dataclass(frozen=True)
class MemoryPlan:
    """Outcome of :func:`preflight` (all sizes in bytes).

    mode : ``"memory"`` (plain extraction) or ``"stream"`` (HDF5 + out-of-core kernels).
    batch_size : images per forward pass to use (may be smaller than asked in stream mode).
    """

    mode: str
    batch_size: int
    budget: int
    in_memory_bytes: int
    stream_bytes: int
    disk_bytes: int
    n_stimuli: int
    units: dict

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        peak = self.stream_bytes if self.mode == "stream" else self.in_memory_bytes
        return (f"{self.mode}: estimated peak {_gib(peak)}"
                f" of budget {_gib(self.budget)} (in memory would need {_gib(self.in_memory_bytes)}), "
                f"batch size {self.batch_size}")


def estimate(units: dict[str, int], n_stimuli: int, *, batch_size: int, parameter_bytes: int) -> tuple[int, int]:
    """(in-memory peak, streamed peak) in bytes for layers with ``units`` ({layer: n_units})."""
    total, largest = sum(units.values()), max(units.values())
    fixed = BASELINE_BYTES + parameter_bytes
    batch = 4 * batch_size * (2 * total + 3 * largest)
    in_memory = fixed + batch + 4 * n_stimuli * (total + largest)
    streamed = fixed + batch + 16 * n_stimuli * min(BLOCK_UNITS, largest) + 8 * n_stimuli ** 2 * (len(units) + 2)
    return int(SAFETY * in_memory), int(SAFETY * streamed)


def preflight(model: LoadedModel, n_stimuli: int, layers, *, batch_size: int = 32, budget=None,
              stream: bool | None = None, stream_dir: str | os.PathLike | None = None) -> MemoryPlan:
    """Decide how to extract ``layers`` of ``model`` on ``n_stimuli`` images within ``budget``.

    ``budget`` is bytes or a size string; None uses :data:`DEFAULT_FRACTION` of the available
    memory. ``stream`` True / False forces a mode (False still refuses what does not fit in
    memory). Keeps everything in memory when the estimate fits; otherwise streams to HDF5 under
    ``stream_dir`` (halving the batch size until it fits); refuses with InputError when even one
    image at a time, or the disk space for the stream, does not fit.
    """
    budget = int(DEFAULT_FRACTION * available_memory()) if budget is None else parse_size(budget)
    shapes = layer_shapes(model, list(layers))
    units = {layer: int(_prod(shape)) for layer, shape in shapes.items()}
    parameter_bytes = sum(p.numel() * p.element_size() for p in model.module.parameters())
    in_memory, streamed = estimate(units, n_stimuli, batch_size=batch_size, parameter_bytes=parameter_bytes)
    disk = 4 * n_stimuli * sum(units.values())
    plan = dict(budget=budget, in_memory_bytes=in_memory, disk_bytes=disk, n_stimuli=n_stimuli, units=units)
    if in_memory <= budget and not stream:
        return MemoryPlan(mode="memory", batch_size=batch_size, stream_bytes=streamed, **plan)
    if stream is False:
        raise InputError(f"{model.spec} layers {_short(units)} on {n_stimuli} stimuli need about {_gib(in_memory)} "
                         f"in memory, more than the memory budget of {_gib(budget)}",
                         hint="choose fewer layers or stimuli, or score with `brainalign score`/`run`, "
                              "which stream wide layers to disk (all metrics but crossnobis RDMs)")
    size = batch_size
    while streamed > budget and size > 1:
        size = max(1, size // 2)
        _, streamed = estimate(units, n_stimuli, batch_size=size, parameter_bytes=parameter_bytes)
    if streamed > budget:
        raise InputError(f"{model.spec} layers {_short(units)} on {n_stimuli} stimuli need about {_gib(streamed)} "
                         f"even streamed one image at a time, more than the memory budget of {_gib(budget)}",
                         hint="raise --max-memory, score fewer layers per task, or use a machine with more memory")
    if stream_dir is not None:
        with storage_errors(stream_dir, "point BRAINALIGN_CACHE at a writable disk"):
            os.makedirs(stream_dir, exist_ok=True)
        free = shutil.disk_usage(stream_dir).free
        if disk > free:
            raise InputError(f"streaming {model.spec} layers {_short(units)} needs {_gib(disk)} of disk in "
                             f"{stream_dir}, only {_gib(free)} free",
                             hint="point BRAINALIGN_CACHE at a larger disk, or score fewer layers per task")
    return MemoryPlan(mode="stream", batch_size=size, stream_bytes=streamed, **plan)


def _prod(shape) -> int:
    result = 1
    for value in shape:
        result *= int(value)
    return result


def _short(units: dict) -> str:
    names = list(units)
    return ",".join(names) if len(names) <= 4 else f"{','.join(names[:3])},... ({len(names)} layers)"
