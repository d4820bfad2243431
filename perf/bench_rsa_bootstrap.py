"""Stimulus-bootstrap RDM comparisons: brainalign's counting shortcut against rsatoolbox per sample.

Both sides draw the same bootstrap samples (n stimuli with replacement, self-pairs left out) and
compare one model RDM with each subject RDM. The reference calls ``rsatoolbox.rdm.compare`` on
every resampled pair vector (re-ranking it for Spearman); brainalign's ``bootstrap_comparisons``
derives each sample's average ranks from the full vectors' ranks by counting. Printed: seconds of
each, their ratio, and the largest difference between the two results.

    python perf/bench_rsa_bootstrap.py                      # 264 stimuli, 3 subjects, 50 samples
    python perf/bench_rsa_bootstrap.py --stimuli 92 --subjects 4 --samples 200 --method corr
    python perf/bench_rsa_bootstrap.py --quick              # smoke test: 5 samples

The last line is the JSON result rows of ``perf/_report.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _report import emit, row
from rsatoolbox.rdm import compare

from brainalign.metrics.rsa import bootstrap_comparisons, rdm_from_features, rdms_from_matrices


def _reference(model, target, method: str, n_samples: int, seed: int) -> np.ndarray:
    m, t, n = model.get_matrices()[0], target.get_matrices(), model.n_cond
    i, j = np.triu_indices(n, 1)
    rng = np.random.default_rng(seed)
    out = np.empty((n_samples, t.shape[0]))
    for b in range(n_samples):
        idx = np.sort(rng.integers(0, n, n))
        keep = idx[i] != idx[j]
        a, c = idx[i][keep], idx[j][keep]
        out[b] = compare(m[a, c][None], t[:, a, c], method=method).reshape(-1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stimuli", type=int, default=264)
    parser.add_argument("--subjects", type=int, default=3)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--method", default="spearman", choices=["spearman", "corr", "cosine"])
    parser.add_argument("--quick", action="store_true", help="5 samples")
    args = parser.parse_args()
    if args.quick:
        args.samples = 5

    rng = np.random.default_rng(0)
    truth = rng.standard_normal((args.stimuli, 60))
    ids = [f"s{k}" for k in range(args.stimuli)]
    model = rdm_from_features(truth, ids)
    subjects = np.stack([1 - np.corrcoef(truth + rng.standard_normal(truth.shape)) for _ in range(args.subjects)])
    target = rdms_from_matrices(subjects, ids, subjects=[f"p{k}" for k in range(args.subjects)])

    start = time.perf_counter()
    reference = _reference(model, target, args.method, args.samples, seed=0)
    t_reference = time.perf_counter() - start
    start = time.perf_counter()
    ours = bootstrap_comparisons(model, target, method=args.method, n_bootstrap=args.samples, seed=0)
    t_ours = time.perf_counter() - start
    print(f"{args.method}, {args.stimuli} stimuli, {args.subjects} subjects, {args.samples} samples")
    print(f"rsatoolbox per sample {t_reference:.2f} s, brainalign {t_ours:.2f} s, "
          f"speed-up {t_reference / t_ours:.1f}x, max |difference| {np.abs(reference - ours).max():.2e}")
    case = f"{args.method}, {args.stimuli} stimuli, {args.subjects} subjects, {args.samples} bootstrap samples"
    emit([row(case, "speed-up vs rsatoolbox per sample", t_reference / t_ours, unit="x",
              note=f"{t_reference:.3g} s vs {t_ours:.3g} s"),
          row(case, "max abs difference", float(np.abs(reference - ours).max()), target="<= 1e-10")])


if __name__ == "__main__":
    main()
