"""Peak memory of scoring every default layer of ResNet-50 (224 px) on 450 images.

The scoring runs in a child process under ``/usr/bin/time -v`` (GNU time; falls back to
``resource.getrusage(RUSAGE_CHILDREN)`` where it is missing) with ``max_memory`` set to the bound,
so the preflight streams the wide layers (act1 and layer1 are 802,816 units each) to HDF5 and
scores them from out-of-core kernels. Printed: the measured peak RSS against the bound, the
preflight's estimates for the streamed and the in-memory paths, and their ratios.

    python perf/bench_memory.py            # 1-3 minutes on 2 quiet CPU cores (longer on a loaded machine)
    python perf/bench_memory.py --bound 3GB --images 450
    python perf/bench_memory.py --reduce pca:100 --fit-images 150   # exact PCA fit on 150 other images
    python perf/bench_memory.py --reduce srp:1000
    python perf/bench_memory.py --quick    # smoke test: ResNet-18, 64 images, a 1.5 GB bound

The last line is the JSON result rows of ``perf/_report.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit, row


def _stimuli_and_benchmark(n_images: int):
    """A 450-image set (simulated seeds 0 and 1) with a simulated V1 assembly, registered as ``bench.mem``."""
    import numpy as np
    import pandas as pd

    from brainalign.safe_files import sha256_bytes
    from brainalign.benchmarks.predictivity import NeuralBenchmark
    from brainalign.benchmarks.registry import register_benchmark
    from brainalign.neural.simulated import simulate_assemblies
    from brainalign.stimuli.procedural import simulated_stimuli
    from brainalign.stimuli.stimulus_set import StimulusSet, as_rgb_float

    images, metadata = [], []
    for seed in (0, 1, 2):
        part, meta = simulated_stimuli(seed=seed)
        keep = (meta["kind"] != "grating").to_numpy() if seed else np.ones(len(meta), bool)  # gratings repeat
        images.append(part[keep])
        metadata.append(meta[keep].assign(stimulus_id=lambda m, s=seed: f"s{s}-" + m["stimulus_id"]))
    images = np.concatenate(images)[:n_images]
    metadata = pd.concat(metadata, ignore_index=True).iloc[:n_images].reset_index(drop=True)
    assembly = simulate_assemblies(images, metadata, seed=0)["V1"]
    stimuli = StimulusSet(identifier=f"bench{n_images}", metadata=metadata,
                          loader=lambda i: as_rgb_float(images[i]),
                          content_hash=sha256_bytes(images.tobytes(), "\n".join(metadata["stimulus_id"]).encode()))
    register_benchmark("bench.mem", lambda: NeuralBenchmark(
        identifier="bench.mem", version="1", region="V1", species="macaque", description="memory benchmark",
        load_assembly=lambda: assembly, load_stimuli=lambda: stimuli, stratify_coord="kind"),
        region="V1", species="macaque")


def _fit_folder(folder: Path, n_images: int) -> Path:
    """``n_images`` simulated images (seed 9, ids ``fit-*``) written as PNG files, for ``--reduce-fit``."""
    import numpy as np
    from PIL import Image

    from brainalign.stimuli.procedural import simulated_stimuli

    images, _ = simulated_stimuli(seed=9)
    folder.mkdir(parents=True)
    for i, image in enumerate(images[:n_images]):
        Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8)).save(folder / f"fit-{i:04d}.png")
    return folder


def child(args) -> None:
    from brainalign import api
    from brainalign.activations import preflight
    from brainalign.models import load_model, resolve_layers

    _stimuli_and_benchmark(args.images)
    loaded = load_model(args.model)
    layers = resolve_layers(loaded, "all")
    plan = preflight(loaded, args.images, layers, batch_size=args.batch_size, budget=args.bound)
    del loaded
    started = time.perf_counter()
    records = api.score(args.model, benchmarks=["bench.mem"], layers="all", results=args.results,
                        batch_size=args.batch_size, max_memory=args.bound, progress=False, reduce=args.reduce,
                        reduce_fit=args.reduce_fit)
    print(json.dumps({"plan": plan.to_dict(), "seconds": time.perf_counter() - started,
                      "layers": {r["layer"]: {"n_units": r["score"]["n_units"], "raw": r["score"]["raw"]}
                                 for r in records}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="timm:resnet50")
    parser.add_argument("--images", type=int, default=450)
    parser.add_argument("--bound", default="3GB", help="memory budget given to the preflight, and the pass bound")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--reduce", help="score with --reduce srp:N or pca:N (fit on --fit-images other images)")
    parser.add_argument("--fit-images", type=int, default=150)
    parser.add_argument("--reduce-fit", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="ResNet-18, 64 images, 1.5GB bound, 30 fit images")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick and not args.child:
        args.model, args.images, args.bound, args.fit_images = "timm:resnet18", 64, "1.5GB", 30
    if args.child:
        child(args)
        return

    from brainalign.activations.preflight import parse_size

    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    env = {**os.environ, "BRAINALIGN_CACHE": str(work / "cache")}  # a cold cache: extraction really runs
    command = [sys.executable, __file__, "--child", "--model", args.model, "--images", str(args.images),
               "--bound", args.bound, "--batch-size", str(args.batch_size), "--results", str(work / "results")]
    if args.reduce:
        command += ["--reduce", args.reduce]
    if args.reduce and args.reduce.startswith("pca"):
        command += ["--reduce-fit", str(_fit_folder(work / "fit", args.fit_images))]
    gnu_time = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    try:
        if gnu_time:
            done = subprocess.run([gnu_time, "-v", *command], env=env, capture_output=True, text=True)
            match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
            peak, how = (int(match.group(1)) * 1024 if match else None), "/usr/bin/time -v"
        else:
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            peak, how = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, "getrusage(RUSAGE_CHILDREN)"
        if done.returncode != 0 or peak is None:
            sys.exit(f"child failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bound = parse_size(args.bound)
    plan = result["plan"]
    gib = 2**30
    print(f"model {args.model}, {args.images} images at 224 px, reduce {args.reduce or 'none'}, {len(result['layers'])} layers "
          f"({sum(v['n_units'] for v in result['layers'].values()):,} units), scored in {result['seconds']:.0f} s")
    print(f"preflight: mode {plan['mode']}, batch {plan['batch_size']}; estimated peak streamed "
          f"{plan['stream_bytes'] / gib:.2f} GiB, in memory {plan['in_memory_bytes'] / gib:.2f} GiB")
    estimated = plan["stream_bytes" if plan["mode"] == "stream" else "in_memory_bytes"]
    print(f"peak RSS ({how}): {peak / gib:.2f} GiB; bound {bound / gib:.2f} GiB; "
          f"peak/bound {peak / bound:.2f}; peak/estimate {peak / estimated:.2f}")
    print("PASS" if peak < bound else "FAIL: peak RSS above the bound")
    case = f"{args.model}, {args.images} images, all layers, reduce {args.reduce or 'none'}, bound {args.bound}"
    emit([row(case, "peak RSS", peak / gib, unit="GiB", target=f"<= {bound / gib:.2f}",
              note=f"in-memory estimate {plan['in_memory_bytes'] / gib:.1f} GiB, mode {plan['mode']}, "
                   f"scored in {result['seconds']:.0f} s")])


if __name__ == "__main__":
    main()
