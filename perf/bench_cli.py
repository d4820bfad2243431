"""Time the CLI as a user meets it: quick commands and usage errors, and scoring activation files.

Run with ``python perf/bench_cli.py [--repeats N] [--skip-scoring] [--quick] [--brainscore-python PY]``. Every command runs in a fresh
process (``python -m brainalign.cli``-style, through the installed entry point's code), ``--repeats``
times (default 5); the table gives the median wall time, the median CPU time (user + system of the
child: what the command itself costs on a shared machine) and PASS/FAIL against the 0.5 s target,
next to ``python -c pass`` (the interpreter's own start-up).

Scoring (needs the Cowley V4 data in ``$BRAINALIGN_SHARED_DATA``): Brain-Score's protocol on Cowley
V4, 640 stimuli x 1,000 features -> 50 neuroids,

- ``brainalign score --activations A --assembly B --protocol brainscore --bootstrap 0`` as a command,
- the same scoring alone, in process (``brainalign.api.score_files``),
- **Brain-Score's own code** in process, when ``--brainscore-python`` (or ``$BRAINSCORE_PYTHON``) names
  the Python of a venv with ``brainscore-vision`` installed: ``perf/brainscore_reference.py`` runs there
  on the same two files and times ``average_repetition``, ``load_metric('pls')`` and
  ``load_ceiling('internal_consistency')``; its numbers are checked against the command's (raw, error,
  per-split, ceiling: the differences are printed and make a result row with a 1e-6 target);
- a re-implementation, always: scikit-learn ``PLSRegression`` fit per split with a per-neuroid
  ``scipy.stats.pearsonr`` loop (``perf/bench_predictivity.py``'s reference), then the split-half
  ceiling loop (10 halvings of the repetitions, Pearson r per neuroid, Spearman-Brown, median over
  neuroids), as Brain-Score computes them, but without Brain-Score's xarray machinery (so faster);

the command must be at least 5x faster than Brain-Score's own code (than the re-implementation when no
Brain-Score venv is given; the row says which).

The Brain-Score venv (separate: brainscore-vision pins numpy<2, xarray<2022.6, scikit-learn<1.6; ``--no-deps``
keeps torch and the rest of its model-side requirements out, as the metric and the ceiling need none of them)::

    python3 -m venv /work/bsvenv
    /work/bsvenv/bin/pip install --no-deps brainscore-vision==2.4.2 brainscore-core==2.5.0 \\
        brainscore-brainio==1.1.0 result-caching==0.5
    /work/bsvenv/bin/pip install "numpy<2" "pandas<2" "xarray<2022.6" "scikit-learn<1.6" scipy netCDF4 \\
        h5py tqdm pyyaml "importlib-metadata<5" six entrypoints Pillow boto3 requests pybtex psutil
    BRAINALIGN_SHARED_DATA=../shared/data python perf/bench_cli.py --brainscore-python /work/bsvenv/bin/python

``--quick`` runs each command once and the reference once (a smoke test). The last line is the JSON
result rows of ``perf/_report.py`` (the exit status is 0 whenever the script ran: a missed target
is a FAIL row).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from _report import emit, row

TARGET_S = 0.5
TARGET_SPEEDUP = 5.0
N_FEATURES = 1000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

QUICK = [
    ("--help", ["--help"]),
    ("models list", ["models", "list"]),
    ("benchmarks list", ["benchmarks", "list"]),
    ("results list", ["results", "list", "--results", "{results}"]),
    ("data list", ["data", "list"]),
    ("error: unknown model", ["score", "nope", "--benchmark", "sim.V1"]),
    ("error: unknown benchmark", ["score", "alexnet_bn64", "--benchmark", "nope"]),
    ("error: unknown option", ["score", "alexnet_bn64", "--bogus"]),
    ("error: unknown layer", ["score", "alexnet_bn64", "--benchmark", "sim.V1", "--layers", "features.99"]),
    ("error: unknown timm model (names remembered)", ["score", "timm:resnet1", "--benchmark", "sim.V1"]),
    ("error: unknown model (layers)", ["models", "layers", "nope"]),
    ("error: output exists (extract)", ["extract", "alexnet_bn64", "--stimuli", "sim", "-o", "{exists}"]),
]


def brainalign_command(args: list[str]) -> list[str]:
    """The ``brainalign`` entry point, run by this interpreter (so this checkout is what runs)."""
    return [sys.executable, "-c", "import sys; from brainalign.cli import main; sys.argv[0] = 'brainalign'; main()",
            *args]


def run_timed(command: list[str], env: dict) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, exit code) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def median_of(command: list[str], env: dict, repeats: int, prepare=None) -> tuple[float, float, int]:
    runs = []
    for _ in range(repeats):
        if prepare is not None:
            prepare()
        runs.append(run_timed(command, env))
    return float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs])), runs[-1][2]


def print_row(name: str, wall: float, cpu: float, code: int, verdict: str = "") -> None:
    print(f"{name:<50} {wall:8.3f} {cpu:8.3f} {code:>4}  {verdict}")


def quick_commands(env: dict, repeats: int, folder: Path) -> list[dict]:
    """Time ``python -c pass`` and every command of :data:`QUICK`; print the table, return the rows."""
    (folder / "results").mkdir(exist_ok=True)
    (folder / "exists.nc").write_text("an existing file")
    print(f"{'command':<50} {'wall s':>8} {'CPU s':>8} {'exit':>4}  vs {TARGET_S} s: wall, CPU; median of {repeats}")
    wall, cpu, code = median_of([sys.executable, "-c", "pass"], env, repeats)
    print_row("python -c pass", wall, cpu, code, "(interpreter start-up)")
    rows = [row("python -c pass", "wall time", wall, unit="s", note=f"CPU {cpu:.3g} s, median of {repeats}")]
    for name, args in QUICK:
        args = [a.format(results=folder / "results", exists=folder / "exists.nc") for a in args]
        if "remembered" in name:   # one untimed run imports timm and remembers its names
            run_timed(brainalign_command(args), env)
        wall, cpu, code = median_of(brainalign_command(args), env, repeats)
        print_row(f"brainalign {name}", wall, cpu, code,
                  f"{'PASS' if wall < TARGET_S else 'FAIL'}  {'PASS' if cpu < TARGET_S else 'FAIL'}")
        rows.append(row(f"brainalign {name}", "wall time", wall, unit="s", target=f"< {TARGET_S}",
                        note=f"CPU {cpu:.3g} s, exit {code}, median of {repeats}"))
    return rows


def cowley_files(folder: Path) -> tuple[Path, Path]:
    """The Cowley V4 assembly and 1,000 seeded features per image (a decaying spectrum, ReLU-like)."""
    from brainalign.activations.activation_files import save_activations
    from brainalign.benchmarks.real import make_cowley2023_v4
    from brainalign.neural.assembly_files import write_assembly

    benchmark = make_cowley2023_v4()
    assembly = benchmark.load_assembly()
    ids = np.unique(assembly["stimulus_id"].values.astype(str))
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((len(ids), 60)) * np.geomspace(3.0, 0.1, 60)
    features = np.maximum(latent @ rng.standard_normal((60, N_FEATURES))
                          + 0.3 * rng.standard_normal((len(ids), N_FEATURES)), 0).astype(np.float32)
    import xarray as xr

    array = xr.DataArray(features, dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", ids)})
    activations, recordings = folder / "acts.nc", folder / "v4.nc"
    save_activations({"features": array}, activations,
                     provenance={"model": {"spec": "bench", "checkpoint": None, "weights_sha256": "0" * 64,
                                           "seed": 0}})
    write_assembly(assembly, recordings)
    return activations, recordings


def brainscore_reference(X: np.ndarray, trials: np.ndarray) -> float:
    """Brain-Score's metric (sklearn PLS + pearsonr loop) and split-half ceiling on X (n_stimuli, n_features)
    and trials (n_repetitions, n_stimuli, n_neuroids; NaN-padded), in process; the ceiled score."""
    from scipy.stats import pearsonr
    from sklearn.model_selection import ShuffleSplit

    from bench_predictivity import reference_per_split
    from brainalign.metrics.splits import brainscore_splits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = np.mean(reference_per_split(X, np.nanmean(trials, axis=0), brainscore_splits(len(X))))
        ceilings = []
        for first, second in ShuffleSplit(10, train_size=0.5, test_size=None, random_state=1).split(trials):
            half1, half2 = np.nanmean(trials[first], axis=0), np.nanmean(trials[second], axis=0)
            r = np.array([pearsonr(half1[:, j], half2[:, j]).statistic for j in range(trials.shape[2])])
            ceilings.append(np.nanmedian(2 * r / (1 + r)))
    return float(raw ** 2 / np.mean(ceilings))


def brainscore_own(python: str, activations: Path, recordings: Path, repeats: int) -> dict:
    """Run ``perf/brainscore_reference.py`` under ``python`` (a Brain-Score venv); its JSON result."""
    done = subprocess.run([python, str(HERE / "brainscore_reference.py"), str(activations), str(recordings),
                           "--repeats", str(repeats)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: Brain-Score's reference failed under {python}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(record: dict, own: dict) -> dict:
    """Largest absolute differences between brainalign's record and Brain-Score's numbers."""
    score = record["score"]
    return {"raw": abs(score["raw"] - own["raw"]), "error": abs(score["error"] - own["error"]),
            "per_split": float(np.max(np.abs(np.subtract(score["per_split"], own["per_split"])))),
            "ceiling": abs(score["ceiling"] - own["ceiling"]),
            # brainalign's r2/c keeps the sign of r; Brain-Score's explained_variance squares it away
            "ceiled (|.|)": abs(abs(score["ceiled"]) - abs(own["ceiled"]))}


def scoring(env: dict, repeats: int, reference_repeats: int, folder: Path, brainscore_python: str | None
            ) -> list[dict]:
    """Time the scoring command, the scoring alone and the references; print them, return the rows."""
    from brainalign import api
    from brainalign.benchmarks.options import ScoreOptions

    activations, recordings = cowley_files(folder)
    results = folder / "scores"
    args = ["score", "--activations", str(activations), "--assembly", str(recordings), "--protocol", "brainscore",
            "--bootstrap", "0", "--results", str(results), "-q"]
    wall, cpu, code = median_of(brainalign_command(args), env, repeats,
                                prepare=lambda: subprocess.run(["rm", "-rf", str(results)], check=True))
    options = ScoreOptions(protocol="brainscore", n_boot=0)
    alone = []
    for _ in range(repeats):
        start = time.perf_counter()
        [record] = api.score_files(activations, recordings, results=folder / "alone", options=options)
        alone.append(time.perf_counter() - start)
    from brainalign.activations.activation_files import load_activations
    from brainalign.neural.assembly import trial_array
    from brainalign.neural.assembly_files import read_assembly

    trials = trial_array(read_assembly(recordings))
    features = load_activations(activations)["features"]
    assert list(features["stimulus_id"].values) == list(trials.stimulus_ids)  # both sorted by id
    reference, reference_cpus = [], []
    for _ in range(reference_repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        brainscore_reference(features.values, trials.values)
        reference.append(time.perf_counter() - start)
        reference_cpus.append(time.process_time() - start_cpu)
    alone_s, reimpl_s = float(np.median(alone)), float(np.median(reference))
    reimpl_cpu = float(np.median(reference_cpus))
    print(f"\nscoring: Brain-Score's protocol on Cowley V4, 640 stimuli x {N_FEATURES} features -> 50 neuroids; "
          f"median of {repeats} (references: of {reference_repeats})")
    print_row("brainalign score --activations", wall, cpu, code, "(command, end to end)")
    print(f"{'  scoring alone (api.score_files)':<50} {alone_s:8.3f}")
    own = None
    if brainscore_python:
        own = brainscore_own(brainscore_python, activations, recordings, reference_repeats)
        parts = ", ".join(f"{name} {part['wall_s']:.2f} s" for name, part in own["parts"].items())
        print(f"{'  Brain-Score metric + ceiling (its code)':<50} {own['total']['wall_s']:8.3f} "
              f"{own['total']['cpu_s']:8.3f}   (brainscore-vision {own['brainscore_vision']}, in process: {parts})")
        differences = agreement(record, own)
        print("  brainalign vs Brain-Score, largest |difference|: "
              + ", ".join(f"{name} {value:.2g}" for name, value in differences.items()))
    print(f"{'  re-implementation of it (not its code)':<50} {reimpl_s:8.3f} {reimpl_cpu:8.3f}   "
          "(sklearn PLS + pearsonr loops, no xarray; in process)")
    rows = []
    case = f"score --activations --assembly, Cowley V4 640 x {N_FEATURES} -> 50, brainscore protocol"
    references = [("re-implementation (sklearn PLS + pearsonr loops)", reimpl_s, reimpl_cpu)]
    if own is not None:
        references.insert(0, (f"Brain-Score's own metric + ceiling (brainscore-vision {own['brainscore_vision']})",
                              own["total"]["wall_s"], own["total"]["cpu_s"]))
        rows.append(row(case, "max |difference| brainalign vs Brain-Score (raw, error, per split, ceiling)",
                        max(v for k, v in agreement(record, own).items() if not k.startswith("ceiled")),
                        target="<= 1e-6", note=f"raw {record['score']['raw']:.6f} vs {own['raw']:.6f}, ceiling "
                                               f"{record['score']['ceiling']:.6f} vs {own['ceiling']:.6f}"))
    for i, (name, seconds, seconds_cpu) in enumerate(references):
        speedup, cpu_speedup = seconds / wall, seconds_cpu / cpu
        counts = i == 0  # the target is against Brain-Score's own code when it ran, else the re-implementation
        verdict = ("PASS" if speedup >= TARGET_SPEEDUP else "FAIL") if counts else "no target"
        print(f"speed-up of the command over {name} in process: {speedup:.1f}x wall, {cpu_speedup:.1f}x CPU "
              f"({f'target >= {TARGET_SPEEDUP:.0f}x: ' if counts else ''}{verdict})")
        rows.append(row(case, f"speed-up vs {name} in process", speedup, unit="x",
                        target=f">= {TARGET_SPEEDUP:g}" if counts else None,
                        note=f"{wall:.3g} s (command, median of {repeats}) vs {seconds:.3g} s (median of "
                             f"{reference_repeats}); CPU {cpu_speedup:.1f}x ({cpu:.3g} s vs {seconds_cpu:.3g} s); "
                             f"scoring alone {alone_s:.3g} s"))
    if own is None:
        print("  (Brain-Score's own code not timed: pass --brainscore-python, see perf/brainscore_reference.py)")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--reference-repeats", type=int, default=3,
                        help="runs of each in-process reference (default 3: they are the slow ones)")
    parser.add_argument("--brainscore-python", default=os.environ.get("BRAINSCORE_PYTHON") or None,
                        help="Python of a venv with brainscore-vision (default $BRAINSCORE_PYTHON): time Brain-Score's "
                             "own metric and ceiling as the reference (perf/brainscore_reference.py)")
    parser.add_argument("--skip-scoring", action="store_true", help="only the quick commands")
    parser.add_argument("--quick", action="store_true", help="each command and the reference once (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.reference_repeats = 1, 1
    sys.path[:0] = [str(ROOT), str(HERE)]  # this checkout's brainalign, and bench_predictivity
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s): wall times include what other "
          "processes take; CPU times do not\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = quick_commands(env, args.repeats, Path(tmp))
        if not args.skip_scoring:
            from brainalign.config import shared_data_dir

            if not (shared_data_dir() / "cowley2023-macaque-v4").is_dir():
                print(f"\nscoring skipped: no Cowley V4 data in {shared_data_dir()} (set $BRAINALIGN_SHARED_DATA)")
            else:
                rows += scoring(env, args.repeats, args.reference_repeats, Path(tmp), args.brainscore_python)
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
