"""Synthetic result records with hand-chosen scores, shared by the report tests (no tests here).

Layer scores follow ``raw = peak - 0.1 * |depth - best_depth|`` so each model's best layer and
every summary number are known in advance.
"""

from __future__ import annotations

import numpy as np

from brainalign.records import new_record

BENCHMARKS = {"sim.V1": ("V1", "macaque"), "sim.V2": ("V2", "macaque"),
              "sim.VISp": ("VISp", "mouse"), "sim.VISl": ("VISl", "mouse")}
LAYERS = ["conv1", "conv2", "conv3", "fc"]
CEILING = 0.8

#: label -> (spec, checkpoint, objective, architecture, epoch, peak raw per benchmark, best depth)
MODELS = {
    "simclr-e10": ("timm:resnet18", "runs/simclr/rn18-ep=10.ckpt", "simclr", "resnet18", 10, 0.50, 1),
    "simclr-e20": ("timm:resnet18", "runs/simclr/rn18-ep=20.ckpt", "simclr", "resnet18", 20, 0.60, 2),
    "simclr-e30": ("timm:resnet18", "runs/simclr/rn18-ep=30.ckpt", "simclr", "resnet18", 30, 0.70, 2),
    "supervised": ("alexnet_bn64", "runs/sup/alexnet.pth", "supervised", "alexnet_bn64", None, 0.40, 3),
    "pixels": ("pixels", None, "untrained", "pixels", None, 0.20, 0),
}


def model_record(label: str) -> dict:
    spec, checkpoint, objective, architecture, epoch, _, _ = MODELS[label]
    sha = (label.encode().hex() * 64)[:64]
    return {"spec": spec, "checkpoint": checkpoint, "weights_sha256": sha, "seed": None if checkpoint else 0,
            "objective": objective, "architecture": architecture, "epoch": epoch,
            "run": "simclr/rn18" if objective == "simclr" else None, "tag": None, "training_data": None}


def raw_score(label: str, benchmark: str, depth: int) -> float:
    peak, best = MODELS[label][5], MODELS[label][6]
    offset = 0.05 if BENCHMARKS[benchmark][1] == "mouse" else 0.0
    return round(peak - offset - 0.1 * abs(depth - best), 6)


def neural_record(label: str, benchmark: str, depth: int, *, heldout_shift: float = 0.0) -> dict:
    region, species = BENCHMARKS[benchmark]
    raw = raw_score(label, benchmark, depth)
    heldout = raw + heldout_shift
    return new_record(
        model=model_record(label), layer=LAYERS[depth],
        benchmark={"identifier": benchmark, "version": "1", "region": region, "species": species},
        metric={"name": "pls_predictivity", "protocol": "brainscore"},
        score={"raw": raw, "error": 0.02, "ceiling": CEILING, "ceiled": raw**2 / CEILING, "convention": "r2/c",
               "n_stimuli": 120, "n_neuroids": 40, "n_units": 512},
        layer_selection={"selection_raw": raw, "heldout_raw": heldout, "heldout_ceiling": CEILING,
                         "heldout_ceiled": heldout**2 / CEILING})


def expected_score(label: str, benchmark: str) -> float:
    """Held-out ceiled score of the committed layer (the best depth)."""
    raw = raw_score(label, benchmark, MODELS[label][6])
    return raw**2 / CEILING


def rsa_record(label: str) -> dict:
    rng = np.random.default_rng(0)
    neural = rng.random((6, 6))
    neural = (neural + neural.T) / 2
    np.fill_diagonal(neural, 0)
    return new_record(
        model=model_record(label), layer=LAYERS[2],
        benchmark={"identifier": "sim.V1", "version": "1", "region": "V1", "species": "macaque"},
        metric={"name": "rsa", "protocol": "rsa-spearman"},
        score={"raw": 0.3, "ceiling": 0.6, "ceiling_lower": 0.5, "ceiling_upper": 0.7, "ceiled": 0.5,
               "convention": "r/c", "ci_low": 0.25, "ci_high": 0.35, "n_stimuli": 6, "n_neuroids": 40},
        rdms={"model": (neural * 0.5).tolist(), "neural": neural.tolist()})


def psychometric_record(label: str) -> dict:
    levels = [0.1, 0.2, 0.4, 0.8]
    return new_record(
        model=model_record(label), layer=LAYERS[3], kind="psychometric",
        benchmark={"identifier": "psy.contrast", "version": "1", "region": "behaviour", "species": "human"},
        metric={"name": "psychometric_threshold", "protocol": "2afc"},
        score={"raw": 0.9, "ceiling": 1.0, "ceiled": 0.9, "convention": "threshold ratio"},
        curve={"levels": levels, "accuracy": [0.55, 0.7, 0.85, 0.97],
               "human": {"levels": levels, "accuracy": [0.5, 0.62, 0.8, 0.95]},
               "fit": {"threshold": 0.25, "width": 0.3}})


def all_records() -> list[dict]:
    """Every model on every benchmark and layer, plus an RSA, a psychometric and an unknown-kind record."""
    records = [neural_record(label, bench, depth) for label in MODELS for bench in BENCHMARKS
               for depth in range(len(LAYERS))]
    records += [rsa_record("supervised"), psychometric_record("simclr-e30")]
    records.append(new_record(model=model_record("pixels"), layer=None, kind="eye-tracking",
                              benchmark={"identifier": "gaze.free", "version": "1", "region": None, "species": "human"},
                              metric={"name": "fixations"}, score={"note": "no scalar"}))
    return records
