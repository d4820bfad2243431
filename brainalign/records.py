"""Score records: what a benchmark measured of one layer (:class:`ScoreRecord`), and its stored JSON.

Every record the tool stores is built here, by :func:`stamp`: neural predictivity, RSA,
texture and psychometric records alike. A benchmark returns :class:`ScoreRecord` values (its
own part); :func:`stamp` adds the model, the software environment, an id, the creation time and
the key, in the layout of schema :data:`SCHEMA` (documented in the README's "Result records").
The module imports nothing heavy, so any layer may use it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import platform
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .safe_files import sha256_bytes

#: The stored layout's name and version; readers accept every ``brainalign.*`` schema.
SCHEMA = "brainalign.score/1"
SCHEMA_PREFIX = "brainalign."
DEFAULT_KIND = "neural"


@dataclass(frozen=True)
class ScoreRecord:
    """One layer's score on one benchmark, as the benchmark reports it (the model is added by :func:`stamp`).

    Attributes
    ----------
    benchmark : the benchmark's part (``identifier``, ``version``, ``region``, ``species``,
        ``dataset``, ``ranked``; :meth:`brainalign.benchmarks.base.Benchmark.record`).
    layer : the layer scored (None for records of no layer, e.g. human observers).
    metric : ``name``, ``protocol``, ``parameters`` and whatever else says how the score was made.
    score : ``raw``, ``ceiling``, ``ceiled``, ``convention``, ``error``, intervals, counts, notes.
    layer_selection : the selection / held-out scores behind layer commitment (``mode`` says which).
    kind : ``neural`` (predictivity, RSA, texture) or ``psychometric``.
    extra : further top-level fields of the kind (``curve`` for psychometric records).
    """

    benchmark: dict
    layer: str | None
    metric: dict
    score: dict
    layer_selection: dict = field(default_factory=dict)
    kind: str = DEFAULT_KIND
    extra: dict = field(default_factory=dict)


def stamp(record: ScoreRecord, *, model: dict) -> dict:
    """The stored JSON of ``record`` measured on ``model``: a new id, the time, the environment and the key."""
    stored = {"schema": SCHEMA, "kind": record.kind, "id": uuid.uuid4().hex,
              "created": _dt.datetime.now(_dt.timezone.utc).isoformat(), "model": model,
              "benchmark": record.benchmark, "layer": record.layer, "metric": record.metric, "score": record.score,
              "layer_selection": record.layer_selection or {}, "provenance": dict(environment()), **record.extra}
    stored["key"] = record_key(stored)
    return stored


def new_record(*, model: dict, benchmark: dict, layer: str | None, metric: dict, score: dict,
               layer_selection: dict | None = None, kind: str = DEFAULT_KIND, **extra) -> dict:
    """:func:`stamp` of the :class:`ScoreRecord` of these parts (for records written by hand, e.g. in tests)."""
    return stamp(ScoreRecord(benchmark=benchmark, layer=layer, metric=metric, score=score,
                             layer_selection=layer_selection or {}, kind=kind, extra=extra), model=model)


def record_kind(record: dict) -> str:
    """``neural`` (predictivity, RSA ...), ``psychometric`` or whatever a newer writer declared."""
    return record.get("kind") or DEFAULT_KIND


def record_key(record: dict) -> str:
    """Hex sha256 of the fields of a stored record that identify what it measured."""
    model, benchmark, metric = record["model"], record["benchmark"], record.get("metric") or {}
    key = [model["spec"], model["weights_sha256"], benchmark["identifier"], str(benchmark.get("version")),
           str(metric.get("protocol")), str(record.get("layer")), str(model.get("seed"))]
    kind, name = record_kind(record), metric.get("name", "pls_predictivity")
    if kind != DEFAULT_KIND or name != "pls_predictivity":   # keys of the first record kind stay as they were
        key += [kind, name]
    extraction = model.get("extraction") or {}
    if extraction.get("precision", "fp32") != "fp32":   # an fp16 score is not a newer fp32 score
        key += [f"precision={extraction['precision']}"]
    if extraction.get("reduction"):                     # nor is a score of reduced features
        key += ["reduction=" + json.dumps(extraction["reduction"], sort_keys=True)]
    return sha256_bytes(*(part.encode() for part in key))


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """Versions that can change a number, recorded with every score."""
    import importlib.metadata

    import numpy

    sklearn = sys.modules.get("sklearn")  # its import takes a second that scoring does not need otherwise
    return {"brainalign": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__ if sklearn else importlib.metadata.version("scikit-learn"),
            "torch": _torch_version()}


def _torch_version() -> str | None:
    """``torch.__version__`` (build tag included, e.g. ``2.4.0+cpu``) without importing torch: scoring
    activation files never needs torch. Read from torch/version.py; the package metadata as a fallback."""
    import importlib.metadata
    import importlib.util
    import re

    if "torch" in sys.modules:
        return sys.modules["torch"].__version__
    spec = importlib.util.find_spec("torch")
    if spec is None:
        return None
    try:
        text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
        return re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M).group(1)
    except (OSError, TypeError, AttributeError):
        return importlib.metadata.version("torch")
