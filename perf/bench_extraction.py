"""Extraction throughput against a bare ``model(x)`` loop over the same batches.

The reference is the floor of any extraction: the model's forward pass on batches that are
already preprocessed and in memory. brainalign's ``extract_activations`` does the same forward
passes plus everything around them: loading and preprocessing each image, the forward hooks,
copying every hooked layer to NumPy, and writing the content-keyed cache (a cold cache each
repeat). A second reference adds the same image loading and preprocessing to the bare loop,
isolating the cost of hooks, copies and cache writes. Printed: images per second of each and the
throughput ratios (target >= 0.85 against the bare forward).

    python perf/bench_extraction.py                       # ResNet-18, 224 px, 128 images
    python perf/bench_extraction.py --model timm:resnet50 --images 256 --repeats 3
    python perf/bench_extraction.py --device cuda --images 512    # inputs copied to the GPU in both
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="timm:resnet18")
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--layers", default="all")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5,
                        help="alternating runs of each; medians (robust on a shared machine) and the fastest")
    args = parser.parse_args()

    from brainalign.activations import ActivationCache, extract_activations
    from brainalign.activations.extract import _load_batch
    from brainalign.models import layer_shapes, load_model, resolve_layers
    from brainalign.stimuli import resolve_stimuli

    loaded = load_model(args.model)
    device = torch.device(args.device)
    loaded.module.to(device)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()
    layers = resolve_layers(loaded, args.layers)
    stimuli = resolve_stimuli("sim")
    stimuli = stimuli.subset(stimuli.stimulus_ids[:args.images])
    n = len(stimuli)
    batches = [_load_batch(loaded, stimuli, range(s, min(s + args.batch_size, n))) for s in range(0, n, args.batch_size)]

    def bare() -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            for x in batches:
                loaded.module(x.to(device))
        synchronize()
        return time.perf_counter() - started

    def bare_with_loading() -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            for start in range(0, n, args.batch_size):
                loaded.module(_load_batch(loaded, stimuli, range(start, min(start + args.batch_size, n))).to(device))
        synchronize()
        return time.perf_counter() - started

    def ours() -> float:
        folder = tempfile.mkdtemp(prefix="bench-extraction-")
        try:
            started = time.perf_counter()
            extract_activations(loaded, stimuli, layers, batch_size=args.batch_size, device=args.device,
                                cache=ActivationCache(folder), progress=False)
            return time.perf_counter() - started
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    bare()  # warm-up (allocator, oneDNN kernels)
    times = {"bare": [], "loading": [], "ours": []}
    for _ in range(args.repeats):
        times["bare"].append(bare())
        times["loading"].append(bare_with_loading())
        times["ours"].append(ours())
    best = {k: min(v) for k, v in times.items()}
    units = sum(math.prod(shape) for shape in layer_shapes(loaded, layers).values())
    print(f"model {args.model} on {device}, {n} images, batch {args.batch_size}, {len(layers)} layers "
          f"({units:,} units/image), torch threads {torch.get_num_threads()}")
    print(f"bare model(x) loop:   {n / best['bare']:7.1f} img/s  (runs: {', '.join(f'{t:.2f}' for t in times['bare'])} s)")
    print(f"bare loop + loading:  {n / best['loading']:7.1f} img/s  (runs: {', '.join(f'{t:.2f}' for t in times['loading'])} s)")
    print(f"extract_activations:  {n / best['ours']:7.1f} img/s  (runs: {', '.join(f'{t:.2f}' for t in times['ours'])} s)")
    middle = {k: statistics.median(v) for k, v in times.items()}
    ratio = middle["bare"] / middle["ours"]
    print(f"throughput ratio extract / bare model(x): median {ratio:.3f}, fastest {best['bare'] / best['ours']:.3f}"
          f"  ({'PASS' if ratio >= 0.85 else 'FAIL'}: target >= 0.85 on the medians)")
    print(f"throughput ratio extract / bare loop with the same image loading: median "
          f"{middle['loading'] / middle['ours']:.3f}, fastest {best['loading'] / best['ours']:.3f}")


if __name__ == "__main__":
    main()
