"""The results store: one JSON record per score in a results directory, written atomically.

A record's *key* is (model spec, weights sha256, benchmark, benchmark version, protocol, layer,
seed). Records are never overwritten: a re-run writes a new file, and readers take the newest
record of each key (``created`` timestamp) while the older one stays on disk.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import uuid
import warnings
from pathlib import Path

from .. import __version__
from .._io import sha256_bytes, write_json_atomic

SCHEMA = "brainalign.score/1"


def record_key(record: dict) -> str:
    """Hex sha256 of the fields that identify what a record measured."""
    model, benchmark = record["model"], record["benchmark"]
    key = [model["spec"], model["weights_sha256"], benchmark["identifier"], benchmark["version"],
           record["metric"]["protocol"], record["layer"], str(model.get("seed"))]
    return sha256_bytes(*(part.encode() for part in key))


def environment() -> dict:
    """Versions that can change a number, recorded with every score."""
    import numpy
    import sklearn
    import torch

    return {"brainalign": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "torch": torch.__version__}


def new_record(*, model: dict, benchmark: dict, layer: str, metric: dict, score: dict,
               layer_selection: dict) -> dict:
    """A complete score record (see the README's "Result records")."""
    record = {"schema": SCHEMA, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(),
              "model": model, "benchmark": benchmark, "layer": layer, "metric": metric, "score": score,
              "layer_selection": layer_selection, "provenance": environment()}
    record["key"] = record_key(record)
    return record


class ResultsStore:
    """Score records under ``root/records/``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    def write(self, record: dict) -> Path:
        """Write ``record`` to a new file; never replaces an existing one."""
        stamp = record["created"].replace(":", "").replace("-", "").split(".")[0]
        name = f"{stamp}-{record['key'][:12]}-{uuid.uuid4().hex[:8]}.json"
        return write_json_atomic(self.records_dir / name, record)

    def read_all(self) -> list[dict]:
        """Every readable record, oldest first; unreadable or foreign files are skipped with a warning."""
        records = []
        for path in sorted(self.records_dir.glob("*.json")) if self.records_dir.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                warnings.warn(f"skipping unreadable record {path.name}: {exc}", stacklevel=2)
                continue
            if not isinstance(record, dict) or record.get("schema") != SCHEMA:
                warnings.warn(f"skipping {path.name}: not a {SCHEMA} record", stacklevel=2)
                continue
            records.append(record)
        return sorted(records, key=lambda r: r["created"])

    def latest(self) -> list[dict]:
        """The newest record of each key."""
        newest = {}
        for record in self.read_all():
            newest[record["key"]] = record
        return list(newest.values())
