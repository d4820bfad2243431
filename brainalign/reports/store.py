"""The results store: one JSON record per score in ``RESULTS/records/``, append-only and atomic.

A record's *key* is (kind, model spec, weights sha256, benchmark, benchmark version, metric,
protocol, layer, seed, extraction precision and reduction). Records are never overwritten or edited: a re-run writes a new file whose
``supersedes`` field names the record it replaces; readers take the newest record of each key
(``created``, then ``id``) and the older one stays on disk until ``prune``.

Concurrent writers are safe: every record goes to its own uniquely named file through a
temporary file and an atomic rename, so no write can lose or truncate another.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..records import SCHEMA, SCHEMA_PREFIX
from ..safe_files import plain_name, write_json_atomic


def _order(record: dict) -> tuple[str, str]:
    return record["created"], str(record.get("id", ""))


@dataclass
class Scan:
    """What a read of the records folder found.

    ``records``: every valid record, oldest first, each with ``_path`` and ``_status``
    (``current`` or ``superseded``); ``skipped``: ``(file name, reason)`` of unreadable or
    foreign files.
    """

    records: list[dict] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def current(self) -> list[dict]:
        return [r for r in self.records if r["_status"] == "current"]


def _problem(record) -> str | None:
    """Why a parsed JSON value is not a usable record, or None."""
    if not isinstance(record, dict) or not str(record.get("schema", "")).startswith(SCHEMA_PREFIX):
        return f"not a {SCHEMA} record"
    missing = [k for k in ("key", "created", "model", "benchmark") if k not in record]
    if missing:
        return f"record lacks {', '.join(missing)}"
    if not isinstance(record["model"], dict) or not isinstance(record["benchmark"], dict):
        return "record's model/benchmark are not objects"
    return None


class ResultsStore:
    """Score records under ``root/records/``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    def _same_key(self, key: str) -> list[dict]:
        found = []
        for path in self.records_dir.glob(f"*-{key[:16]}-*.json") if self.records_dir.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(record, dict) and record.get("key") == key and "created" in record:
                found.append(record)
        return found

    def write(self, record: dict) -> Path:
        """Write ``record`` to a new file, naming the newest older record of its key in ``supersedes``."""
        record = {k: v for k, v in record.items() if not k.startswith("_")}
        record.setdefault("id", uuid.uuid4().hex)
        older = [r for r in self._same_key(record["key"]) if _order(r) < _order(record)]
        if older:
            record["supersedes"] = str(max(older, key=_order).get("id"))
        stamp = record["created"].replace(":", "").replace("-", "").replace("+", "").split(".")[0]
        name = plain_name(f"{stamp}-{record['key'][:16]}-{record['id'][:12]}.json", "record file name")
        return write_json_atomic(self.records_dir / name, record)

    def scan(self) -> Scan:
        """Read every file of the records folder; bad ones go to ``skipped``, never raise."""
        scan = Scan()
        for path in sorted(self.records_dir.glob("*.json")) if self.records_dir.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                scan.skipped.append((path.name, f"unreadable: {exc}"))
                continue
            problem = _problem(record)
            if problem:
                scan.skipped.append((path.name, problem))
                continue
            record.setdefault("id", path.stem)
            record["_path"] = str(path)
            scan.records.append(record)
        scan.records.sort(key=_order)
        newest = {}
        for record in scan.records:
            newest[record["key"]] = record
        for record in scan.records:
            winner = newest[record["key"]]
            record["_status"] = "current" if record is winner else "superseded"
            if record is not winner:
                record["_superseded_by"] = winner["id"]
        return scan

    def read_all(self) -> list[dict]:
        """Every readable record, oldest first; unreadable or foreign files are skipped with a warning."""
        scan = self.scan()
        for name, reason in scan.skipped:
            warnings.warn(f"skipping {name}: {reason}", stacklevel=2)
        return scan.records

    def latest(self) -> list[dict]:
        """The newest record of each key (bad files skipped with a warning)."""
        return [r for r in self.read_all() if r["_status"] == "current"]

    def prune(self, *, keep: int = 1, dry_run: bool = False) -> list[Path]:
        """Delete all but the newest ``keep`` records of each key; return the paths (not) deleted."""
        if keep < 1:
            raise InputError(f"--keep must be at least 1, got {keep}")
        by_key: dict[str, list[dict]] = {}
        for record in self.scan().records:
            by_key.setdefault(record["key"], []).append(record)
        doomed = [Path(r["_path"]) for records in by_key.values() for r in records[:-keep]]
        if not dry_run:
            for path in doomed:
                path.unlink(missing_ok=True)
        return doomed
