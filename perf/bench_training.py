"""Training throughput against a bare forward + backward loop of the same model and batch.

The reference is the floor of any training loop: the objective's loss on views already in
memory, ``backward`` and the optimiser step, repeated. ``brainalign train`` does the same steps
plus everything around them: starting the data loader's workers each epoch, loading images and
drawing each view's seeded augmentations in those workers, moving batches, autocast, the
scheduler, the momentum/bank updates and the loss bookkeeping. Its images/s are the trainer's own
per-epoch figures (``log.jsonl``: the epoch's steps, without the checkpoint writes after them).
Printed: images per second of each (median over repeats; one repeat = one epoch of ``--steps``
steps, the trainer's first epoch and the bare loop's first repeat being warm-ups; the bare loop
runs ``--repeats`` times before and after the trainer) and the ratio (target >= 0.9).
``--quick`` runs batch 16, 2 steps, one repeat (a smoke test). The last line is the JSON result
rows of ``perf/_report.py``.

    python perf/bench_training.py                                  # simclr, alexnet_bn64_headless, CPU
    python perf/bench_training.py --objective rotnet --arch tang_amit_cnn --batch-size 128
    python perf/bench_training.py --device cuda --batch-size 512 --steps 50 --workers 8
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from _report import emit, row

TARGET_RATIO = 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objective", default="simclr")
    parser.add_argument("--arch", default="alexnet_bn64_headless")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8, help="optimiser steps per repeat (one epoch)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in both loops")
    parser.add_argument("--option", "-o", action="append", default=[], help="objective option NAME=VALUE")
    parser.add_argument("--quick", action="store_true", help="batch 16, 2 steps, one repeat (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.batch_size, args.steps, args.repeats = 16, 2, 1

    import yaml

    from brainalign.models import load_model
    from brainalign.training.objectives import get_objective
    from brainalign.training.recipe import make_optimizer, scaled_recipe
    from brainalign.training.trainer import TrainConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    options = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.option)}
    device = torch.device(args.device)
    n_images = args.batch_size * args.steps

    # the reference: the same objective, optimiser and batch, views already on the device
    cls = get_objective(args.objective)
    loaded = load_model(args.arch, seed=0)
    torch.manual_seed(0)
    objective = cls(loaded.module.train().requires_grad_(True), input_size=loaded.preprocessing.input_size,
                    channels=loaded.preprocessing.channels, **options)
    objective.configure(n_images=n_images)
    objective.to(device)
    recipe = scaled_recipe(cls.recipe, epochs=args.repeats, batch_size=args.batch_size, lr=None, device=args.device)
    optimizer = make_optimizer(recipe, objective.parameters())
    size, channels = loaded.preprocessing.input_size, loaded.preprocessing.channels
    views = [torch.randn(args.batch_size, channels, size, size, device=device) for _ in range(cls.n_views)]
    index = torch.arange(args.batch_size, device=device)

    def bare_repeat() -> float:
        started = time.perf_counter()
        for _ in range(args.steps):
            loss, _ = objective.loss(views, index)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            objective.after_step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return n_images / (time.perf_counter() - started)

    bare_repeat()  # warm-up
    bare = [bare_repeat() for _ in range(args.repeats)]  # before the trainer's epochs, and again after them,
    with tempfile.TemporaryDirectory() as tmp:            # so that a load change on a shared machine hits both
        summary = train(TrainConfig(args.objective, args.arch, f"sim:{n_images}", epochs=args.repeats + 1,
                                    out=f"{tmp}/run", batch_size=args.batch_size, device=args.device,
                                    workers=args.workers, threads=args.threads, options=options), progress=False)
    trained = [line["images_per_s"] for line in summary["log"][1:]]  # epoch 1 warms up like the bare loop's
    bare += [bare_repeat() for _ in range(args.repeats)]
    ratio = statistics.median(trained) / statistics.median(bare)
    print(f"{args.objective} on {args.arch}, batch {args.batch_size}, {args.steps} steps x {args.repeats} repeats, "
          f"{args.device}, torch threads {torch.get_num_threads()}, {args.workers} loader worker(s)")
    print(f"bare forward+backward+step : {statistics.median(bare):8.1f} images/s (median; "
          f"{', '.join(f'{v:.1f}' for v in bare)})")
    print(f"brainalign train           : {statistics.median(trained):8.1f} images/s (median; "
          f"{', '.join(f'{v:.1f}' for v in trained)})")
    print(f"ratio train / bare         : {ratio:.3f} of the medians, {max(trained) / max(bare):.3f} of the fastest "
          f"(target >= {TARGET_RATIO})")
    case = (f"{args.objective} on {args.arch}, batch {args.batch_size}, {args.steps} steps x {args.repeats}, "
            f"{args.device}, {args.workers} worker(s)")
    emit([row(case, "images/s ratio brainalign train / bare loop", ratio, target=f">= {TARGET_RATIO}",
              note=f"{statistics.median(trained):.1f} vs {statistics.median(bare):.1f} images/s (medians); "
                   f"fastest {max(trained) / max(bare):.3f}")])


if __name__ == "__main__":
    main()
