"""Time Brain-Score's PLS predictivity protocol: scikit-learn reference vs brainalign's kernel path.

Run with ``python perf/bench_predictivity.py [--repeats N] [--n-features P] [--case a|b] [--quick]``.
For each case, both run in this process on the same simulated problem (10 splits, PLS with 25
components):

(a) 315 stimuli x 1000 float32 features -> 103 neuroids (``--n-features`` changes the feature
    count): the required case, where brainalign should be at least 10x faster;
(b) 280 stimuli x 80 rectified, correlated features -> 80 neuroids: few features, where the
    kernel is no smaller than X and the speed comes from the batched power method alone.

and compares

- scikit-learn ``PLSRegression`` fit per split and a per-neuroid ``scipy.stats.pearsonr`` loop,
  as Brain-Score does, with
- :func:`brainalign.metrics.predictivity.cross_validated_predictivity`, kernel included.

Prints the median time of each, their ratio, and the largest difference of the scores. Set
``OPENBLAS_NUM_THREADS=1`` (or the MKL equivalent) for stable timings on a shared machine.
``--quick`` times one call of each (a smoke test). The last line is the JSON result rows of
``perf/_report.py``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression

from _report import emit, row

from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.splits import brainscore_splits

N_COMPONENTS = 25
TARGET_SPEEDUP_A = 10.0


def simulated_problem(n_features, seed=0, n_stimuli=315, n_neuroids=103):
    """Case (a): features with a decaying spectrum, noisy responses driven by a few directions."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_stimuli, 60)) * np.geomspace(3.0, 0.1, 60)
    X = latent @ rng.standard_normal((60, n_features))
    X += 0.3 * rng.standard_normal((n_stimuli, n_features))
    signal = latent[:, :10] @ rng.standard_normal((10, n_neuroids))
    Y = signal + 1.5 * signal.std() * rng.standard_normal((n_stimuli, n_neuroids))
    return np.maximum(X, 0).astype(np.float32), Y  # ReLU-like, float32 as activations are


def few_features_problem(seed=0, n_stimuli=280, n_features=80, n_neuroids=80):
    """Case (b): rectified features from 12 latent factors, responses linear in them plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_stimuli, 12))
    X = np.maximum(latent @ rng.normal(size=(12, n_features))
                   + 0.3 * rng.normal(size=(n_stimuli, n_features)), 0)
    Y = X @ rng.normal(size=(n_features, n_neuroids)) * 0.1
    Y += rng.normal(size=(n_stimuli, n_neuroids))
    return X, Y


def reference_per_split(X, Y, splits):
    """Brain-Score's loop: median over neuroids of the held-out pearsonr, per split."""
    X = X.astype(np.float64)
    per_split = []
    for train, test in splits:
        prediction = PLSRegression(N_COMPONENTS, scale=False).fit(X[train], Y[train]).predict(X[test])
        r = [pearsonr(Y[test, j], prediction[:, j]).statistic for j in range(Y.shape[1])]
        per_split.append(np.median(r))
    return np.array(per_split)


def median_time(function, repeats):
    """Median wall time of ``repeats`` calls and the last call's result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def run_case(label, X, Y, repeats, target=None):
    """Time both on one problem, print the comparison and return its result rows."""
    splits = brainscore_splits(len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both report the same convergence warnings, if any
        reference_time, reference = median_time(lambda: reference_per_split(X, Y, splits), repeats)
        ours_time, ours = median_time(
            lambda: cross_validated_predictivity(X, Y, splits=splits, n_components=N_COMPONENTS),
            repeats)
    speedup = reference_time / ours_time
    print(f"({label}) {X.shape[0]} stimuli x {X.shape[1]} features -> {Y.shape[1]} neuroids, "
          f"{len(splits)} splits, PLS {N_COMPONENTS} components; median of {repeats} runs")
    print(f"    sklearn PLSRegression + scipy pearsonr loop: {reference_time:8.3f} s")
    print(f"    brainalign cross_validated_predictivity:     {ours_time:8.3f} s")
    verdict = "" if target is None else (
        f" (target >= {target:.0f}x: {'met' if speedup >= target else 'NOT met'})")
    print(f"    speed-up: {speedup:.1f}x{verdict}")
    print(f"    raw score: reference {reference.mean():.6f}, brainalign {ours.raw:.6f}; "
          f"max |difference| of per-split scores: {np.abs(reference - ours.per_split).max():.2e}")
    case = (f"({label}) {X.shape[0]} stimuli x {X.shape[1]} features -> {Y.shape[1]} neuroids, "
            f"{len(splits)} splits, PLS-{N_COMPONENTS}")
    return [row(case, "speed-up vs scikit-learn loop", speedup, unit="x",
                target=None if target is None else f">= {target:g}",
                note=f"{reference_time:.3g} s vs {ours_time:.3g} s, median of {repeats}"),
            row(case, "max abs score difference", float(np.abs(reference - ours.per_split).max()), target="<= 1e-6")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls of each (default 5)")
    parser.add_argument("--n-features", type=int, default=1000,
                        help="features of case (a) (default 1000)")
    parser.add_argument("--case", choices=["a", "b", "both"], default="both",
                        help="which case to run (default both)")
    parser.add_argument("--quick", action="store_true", help="one timed call of each (smoke test)")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    rows = []
    if args.case in ("a", "both"):
        rows += run_case("a", *simulated_problem(args.n_features), repeats, target=TARGET_SPEEDUP_A)
    if args.case in ("b", "both"):
        rows += run_case("b", *few_features_problem(), repeats)
    emit(rows)


if __name__ == "__main__":
    main()
