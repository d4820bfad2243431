"""Time the ``nayebi2023`` protocol for one layer and one area: scikit-learn loop vs brainalign.

Run with ``python perf/bench_nayebi.py [--units 300] [--features 1000] [--reference-halves 10] [--quick]``.

The problem: 118 images (59 train / 59 test per split), ``--features`` rectified model features,
``--units`` units with 50 trials, PLS 25 components; the protocol fits 10 image splits x 100
trial halves x 2 maps = 2000 PLS models.

- brainalign: :func:`brainalign.metrics.nayebi.noise_corrected_predictivity`, the whole protocol,
  timed ``--repeats`` times (median);
- reference: the reference code's loop (scikit-learn ``PLSRegression(25, scale=False)`` per map,
  ``scipy.stats.pearsonr`` per unit) on the first ``--reference-halves`` halves of split 0,
  timed per half and extrapolated to 10 x 100 halves (the full loop takes about 10 minutes on
  2 cores). Its values are compared with brainalign's on those halves.

Prints both times, the ratio, and the largest difference of the per-unit values. Set
``OPENBLAS_NUM_THREADS=1`` for stable timings on a shared machine. ``--quick``: 60 units, 200
features, 2 reference halves, one timed run (a smoke test). The last line is the JSON result rows
of ``perf/_report.py``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression

from _report import emit, row

from brainalign.metrics.nayebi import nayebi_image_splits, noise_corrected_predictivity, trial_halves

N_COMPONENTS, N_SPLITS, N_HALVES = 25, 10, 100
TARGET_SPEEDUP = 20.0


def simulated_area(n_features, n_units, seed=0, n_images=118, n_trials=50):
    """Rectified features with a decaying spectrum; units driven by a few of their directions."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_images, 40)) * np.geomspace(3.0, 0.1, 40)
    X = np.maximum(latent @ rng.standard_normal((40, n_features)) + 0.3 * rng.standard_normal((n_images, n_features)), 0)
    rates = latent[:, :8] @ rng.standard_normal((8, n_units))
    trials = rates + 2.0 * rates.std() * rng.standard_normal((n_trials, n_images, n_units))
    return X.astype(np.float32), trials


def _sb(r):
    return 2 * r / (1 + r)


def reference_halves(X, trials, n_halves):
    """The reference loop on split 0 and the first ``n_halves`` halves: (values, seconds per half)."""
    X = X.astype(np.float64)
    train, test = nayebi_image_splits(X.shape[0], n_splits=1)[0]
    values = np.empty((n_halves, trials.shape[2]))
    start = time.perf_counter()
    for h, (first, second) in enumerate(trial_halves(trials.shape[0], n_halves=n_halves)):
        T1, T2 = trials[first].mean(0), trials[second].mean(0)
        P1 = PLSRegression(N_COMPONENTS, scale=False).fit(X[train], T1[train]).predict(X[test])
        P2 = PLSRegression(N_COMPONENTS, scale=False).fit(X[train], T2[train]).predict(X[test])
        for u in range(trials.shape[2]):
            numerator = pearsonr(P1[:, u], T2[test, u])[0]
            with np.errstate(invalid="ignore"):
                values[h, u] = numerator / np.sqrt(_sb(pearsonr(P1[:, u], P2[:, u])[0])
                                                   * _sb(pearsonr(T1[test, u], T2[test, u])[0]))
    return values, (time.perf_counter() - start) / n_halves


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--reference-halves", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="60 units, 200 features, 2 halves, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.units, args.features, args.reference_halves, args.repeats = 60, 200, 2, 1
    X, trials = simulated_area(args.features, args.units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both report the same convergence warnings, if any
        reference, per_half = reference_halves(X, trials, args.reference_halves)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            ours = noise_corrected_predictivity(X, trials, n_components=N_COMPONENTS, n_splits=N_SPLITS,
                                                n_halves=N_HALVES)
            times.append(time.perf_counter() - start)
    ours_time = float(np.median(times))
    reference_time = per_half * N_SPLITS * N_HALVES
    speedup = reference_time / ours_time
    print(f"nayebi2023: 118 images (59/59), {args.features} features -> {args.units} units, 50 trials; "
          f"{N_SPLITS} splits x {N_HALVES} halves x 2 PLS-{N_COMPONENTS} fits")
    print(f"    reference (sklearn + pearsonr loop): {per_half:.3f} s per half (mean of "
          f"{args.reference_halves}) -> {reference_time:8.1f} s for the protocol (extrapolated)")
    print(f"    brainalign noise_corrected_predictivity: {ours_time:8.2f} s (median of {args.repeats})")
    print(f"    speed-up: {speedup:.1f}x (target >= {TARGET_SPEEDUP:.0f}x: "
          f"{'met' if speedup >= TARGET_SPEEDUP else 'NOT met'})")
    difference = np.nanmax(np.abs(reference - ours.values[0, :args.reference_halves]))
    print(f"    score {ours.score:.6f}; max |difference| of per-unit values on the reference halves: {difference:.2e}")
    case = (f"nayebi2023, 59/59 images, {args.features} features -> {args.units} units, "
            f"{N_SPLITS} x {N_HALVES} x 2 PLS-{N_COMPONENTS} fits")
    emit([row(case, "speed-up vs scikit-learn loop", speedup, unit="x", target=f">= {TARGET_SPEEDUP:g}",
              note=f"{reference_time:.3g} s (extrapolated from {args.reference_halves} halves) vs {ours_time:.3g} s"),
          row(case, "max abs per-unit difference", float(difference), target="<= 1e-6")])


if __name__ == "__main__":
    main()
