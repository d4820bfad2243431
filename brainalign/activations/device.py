"""Where extraction runs: device checks and optional mixed precision.

``--device cuda`` on a machine without a usable CUDA build fails at once with one clear line
instead of a torch traceback hours into a run.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from ..errors import InputError
from ..models.options import PRECISIONS

#: The autocast dtype of each precision but fp32, which runs without autocast.
_AUTOCAST_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """``device`` as a torch.device after checking that it exists on this machine.

    Raises
    ------
    InputError
        Unknown device string, CUDA asked for but unavailable, or a CUDA index out of range.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"unknown torch device {device!r}", hint="use cpu, cuda or cuda:N") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            why = "torch was built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise InputError(f"--device {device}: CUDA is not available on this machine ({why})",
                             hint="use --device cpu, or check nvidia-smi and CUDA_VISIBLE_DEVICES")
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise InputError(f"--device {device}: this machine has {count} CUDA device(s)",
                             hint=f"use cuda:0 .. cuda:{count - 1}")
    elif resolved.type not in ("cpu", "mps"):
        raise InputError(f"unsupported torch device {device!r}", hint="use cpu, cuda or cuda:N")
    return resolved


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else InputError."""
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}", hint=f"use one of {', '.join(PRECISIONS)}")
    return precision


@contextlib.contextmanager
def autocast(device: torch.device, precision: str) -> Iterator[None]:
    """Run the body under ``torch.autocast`` for fp16/bf16; a no-op for fp32.

    Outputs recorded under autocast are converted back to float32 by the caller.
    """
    if check_precision(precision) == "fp32":
        yield
        return
    with torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[precision]):
        yield
