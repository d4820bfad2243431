"""RDM of a wide layer: rsatoolbox on the whole layer against brainalign's kernel-moment path.

A ResNet ``act1``-sized layer (802,816 units) on 264 stimuli, float32 (850 MB). The reference is
``rdm_from_features`` on the whole layer (rsatoolbox ``calc_rdm``, float64 copies of the layer);
brainalign's RSA benchmarks instead accumulate the layer's kernel moments over unit blocks and
build the RDM from (n x 2n) features (``brainalign.benchmarks.rsa.rdm_ready``). Printed: the
largest difference between the two RDMs, the median time of each and their ratio, and the peak
memory each allocates (tracemalloc, which sees NumPy's allocations) and their ratio.

    python perf/bench_rsa_wide.py
    python perf/bench_rsa_wide.py --units 200704 --stimuli 500 --method euclidean
    python perf/bench_rsa_wide.py --quick        # smoke test: 50,000 units, 100 stimuli, 1 repeat

The last line is the JSON result rows of ``perf/_report.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np
import xarray as xr
from _report import emit, row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stimuli", type=int, default=264)
    parser.add_argument("--units", type=int, default=802816)
    parser.add_argument("--method", default="correlation", choices=["correlation", "euclidean"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50,000 units, 100 stimuli, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.units, args.stimuli, args.repeats = 50000, 100, 1

    from brainalign.benchmarks.rsa import rdm_ready
    from brainalign.benchmarks.alignment import align_features
    from brainalign.metrics.rsa import rdm_from_features

    rng = np.random.default_rng(0)
    values = np.maximum(rng.standard_normal((args.stimuli, args.units), dtype=np.float32) + 0.2, 0)
    ids = np.array([f"s{i:04d}" for i in range(args.stimuli)])
    layer = xr.DataArray(values, dims=("stimulus", "unit"), coords={"stimulus_id": ("stimulus", ids)})

    def reference():
        return rdm_from_features(align_features(layer, ids, layer="x"), ids, method=args.method).get_vectors()

    def ours():
        return rdm_from_features(rdm_ready(layer, ids, args.method, layer="x"), ids, method=args.method).get_vectors()

    results, times, peaks = {}, {"reference": [], "ours": []}, {}
    for name, run in (("reference", reference), ("ours", ours)):
        tracemalloc.start()
        results[name] = run()
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    for _ in range(args.repeats):
        for name, run in (("reference", reference), ("ours", ours)):
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    gib = 2**30
    middle = {name: statistics.median(t) for name, t in times.items()}
    print(f"{args.method} RDM of {args.stimuli} stimuli x {args.units:,} units ({values.nbytes / gib:.2f} GiB float32)")
    print(f"max |RDM difference|: {np.abs(results['ours'] - results['reference']).max():.2e} "
          f"(RDM values up to {np.abs(results['reference']).max():.3g})")
    print(f"time: rsatoolbox on the layer {middle['reference']:.2f} s, kernel moments {middle['ours']:.2f} s, "
          f"ratio {middle['reference'] / middle['ours']:.1f}x (medians of {args.repeats})")
    print(f"peak allocated: rsatoolbox {peaks['reference'] / gib:.2f} GiB, kernel moments {peaks['ours'] / gib:.2f} GiB, "
          f"ratio {peaks['reference'] / peaks['ours']:.1f}x (the layer itself not counted)")
    case = f"{args.method} RDM, {args.stimuli} stimuli x {args.units:,} units"
    difference = float(np.abs(results["ours"] - results["reference"]).max())
    emit([row(case, "time: rsatoolbox / kernel moments", middle["reference"] / middle["ours"], unit="x",
              note=f"{middle['reference']:.3g} s vs {middle['ours']:.3g} s"),
          row(case, "peak memory: rsatoolbox / kernel moments", peaks["reference"] / peaks["ours"], unit="x",
              note=f"{peaks['reference'] / gib:.2f} GiB vs {peaks['ours'] / gib:.2f} GiB"),
          row(case, "max abs RDM difference", difference, target="<= 1e-10")])


if __name__ == "__main__":
    main()
