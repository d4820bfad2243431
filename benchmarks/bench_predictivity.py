"""Time Brain-Score's PLS predictivity protocol: scikit-learn reference vs brainalign's kernel path.

Run with ``python benchmarks/bench_predictivity.py [--repeats N] [--n-features P]``. Both run in
this process on the same simulated problem (315 stimuli x 1000 float32 features -> 103 neuroids,
10 splits, PLS with 25 components; ``--n-features`` changes the feature count):

(a) scikit-learn ``PLSRegression`` fit per split and a per-neuroid ``scipy.stats.pearsonr``
    loop, as Brain-Score does;
(b) :func:`brainalign.metrics.predictivity.cross_validated_predictivity`, kernel included.

Prints the median time of each, their ratio, and the largest difference of the scores. The
kernel path's cost per power-method step does not depend on the number of features, so the
ratio grows with it. Set ``OPENBLAS_NUM_THREADS=1`` (or the MKL equivalent) for stable timings
on a shared machine.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression

from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.splits import brainscore_splits

N_STIMULI, N_NEUROIDS, N_COMPONENTS = 315, 103, 25


def simulated_problem(n_features, seed=0):
    """Features with a decaying spectrum and noisy responses driven by a few of their directions."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N_STIMULI, 60)) * np.geomspace(3.0, 0.1, 60)
    X = latent @ rng.standard_normal((60, n_features))
    X += 0.3 * rng.standard_normal((N_STIMULI, n_features))
    signal = latent[:, :10] @ rng.standard_normal((10, N_NEUROIDS))
    Y = signal + 1.5 * signal.std() * rng.standard_normal((N_STIMULI, N_NEUROIDS))
    return np.maximum(X, 0).astype(np.float32), Y  # ReLU-like, float32 as activations are


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each (default 3)")
    parser.add_argument("--n-features", type=int, default=1000, help="features (default 1000)")
    args = parser.parse_args()
    repeats = args.repeats
    X, Y = simulated_problem(args.n_features)
    splits = brainscore_splits(N_STIMULI)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both report the same convergence warnings, if any
        reference_time, reference = median_time(lambda: reference_per_split(X, Y, splits), repeats)
        ours_time, ours = median_time(
            lambda: cross_validated_predictivity(X, Y, splits=splits, n_components=N_COMPONENTS),
            repeats)
    print(f"problem: {N_STIMULI} stimuli x {args.n_features} features -> {N_NEUROIDS} neuroids, "
          f"{len(splits)} splits, PLS {N_COMPONENTS} components; median of {repeats} runs")
    print(f"(a) sklearn PLSRegression + scipy pearsonr loop: {reference_time:8.3f} s")
    print(f"(b) brainalign cross_validated_predictivity:     {ours_time:8.3f} s")
    print(f"speed-up (a)/(b): {reference_time / ours_time:.1f}x")
    print(f"raw score: reference {reference.mean():.6f}, brainalign {ours.raw:.6f}")
    print(f"max |difference| of per-split scores: {np.abs(reference - ours.per_split).max():.2e}")


if __name__ == "__main__":
    main()
