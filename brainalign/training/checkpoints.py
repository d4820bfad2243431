"""The run directory a training run writes, and the files brainalign reads back.

::

    RUN_DIR/
      run.json                    the run: id, objective, architecture, seed, data (source, content
                                  sha256, number of images), published and used recipe, objective
                                  options, augmentations, device, precision, processes, code version
      checkpoints/epoch_0000.pt   the backbone at initialisation, then every --save-every epochs and
      checkpoints/epoch_0005.pt   at the last one: {"model": backbone state dict,
      ...                         "brainalign_training": {run, epoch, objective, architecture,
                                  training_data, data_sha256, seed, code_version, step}}
      state.pt                    everything --resume needs after the last finished epoch: the
                                  objective with its heads, queues and memory banks, optimiser,
                                  scheduler, gradient scaler, RNG states, epoch and step
      log.jsonl                   one line per epoch: loss and its parts, learning rate, images/s
      results/                    score records, with --score-every

Every file is written atomically (temporary file + rename). ``brainalign score ARCH --checkpoint
RUN_DIR/checkpoints/epoch_0005.pt`` loads the backbone (checkpoint format ``brainalign``), and its
records carry the run id and epoch, so reports group a run's checkpoints into one curve.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import torch

from .. import __version__
from ..safe_files import atomic_path, dumps_json, storage_errors, write_json_atomic

#: Top-level key of a brainalign training checkpoint (what the checkpoint loader detects).
META_KEY = "brainalign_training"
FORMAT = "brainalign-training/1"


def checkpoint_path(run_dir: str | os.PathLike, epoch: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"epoch_{epoch:04d}.pt"


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """The run's epoch checkpoints, in epoch order."""
    return sorted((Path(run_dir) / "checkpoints").glob("epoch_*.pt"))


def read_run(run_dir: str | os.PathLike) -> dict | None:
    """``run.json`` of ``run_dir``, or None when there is none."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_run(run_dir: str | os.PathLike, run: dict) -> None:
    write_json_atomic(Path(run_dir) / "run.json", run)


def save_torch(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file, renamed onto ``path`` once complete."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def save_checkpoint(run_dir, epoch: int, backbone: torch.nn.Module, meta: dict) -> Path:
    """Write ``checkpoints/epoch_EEEE.pt``: the backbone weights and the run's lineage."""
    state = {k: v.detach().cpu().clone() for k, v in backbone.state_dict().items()}
    return save_torch({"model": state, META_KEY: {**meta, "format": FORMAT, "epoch": epoch}},
                      checkpoint_path(run_dir, epoch))


def append_log(run_dir, line: dict) -> None:
    """Append one JSON line to ``log.jsonl`` (flushed and synced: a kill never leaves half a line)."""
    path = Path(run_dir) / "log.jsonl"
    with storage_errors(run_dir), open(path, "a", encoding="utf-8") as handle:
        handle.write(dumps_json(line, indent=None, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def truncate_log(run_dir, last_epoch: int) -> None:
    """Keep only the ``log.jsonl`` lines of epochs up to ``last_epoch`` (those a resume does not redo)."""
    path = Path(run_dir) / "log.jsonl"
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line)["epoch"] <= last_epoch:
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    from ..safe_files import write_text_atomic
    write_text_atomic(path, "".join(k + "\n" for k in kept))


@functools.lru_cache(maxsize=1)
def code_version() -> dict:
    """brainalign's version and, in a git checkout, its commit and whether the tree is modified."""
    version = {"brainalign": str(__version__), "torch": str(torch.__version__)}
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        version.update(git_commit=commit, git_dirty=bool(dirty))
    except (OSError, subprocess.SubprocessError):
        pass
    return version
