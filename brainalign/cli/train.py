"""`brainalign train OBJECTIVE`: train a model with an SSL objective or a layer-local rule."""

from __future__ import annotations

import click

from . import main
from ..safe_files import dumps_json
from ..training.options import PRECISIONS
from ._common import OutputPath, json_option, quiet_option, user_errors

EPILOG_TRAIN = """\b
Examples:
  brainalign train simclr --arch alexnet_bn64_headless --data sim --epochs 5 --out runs/simclr
  brainalign train rotnet --arch tang_amit_cnn --data sim:1024 --epochs 3 --out runs/rot \\
      --score-every 1 --benchmarks 'sim.VIS*'
  brainalign train moco --arch streamnet_dual --data imagenet/train --device cuda --out runs/moco
  brainalign train simclr ... --out runs/simclr --resume          # after a crash or kill -9
  torchrun --nproc_per_node 4 -m brainalign.cli train simclr ... --device cuda   # DDP
\b
RUN_DIR (--out) holds run.json (objective, architecture, seed, data hash, published and used
recipe, code version), checkpoints/epoch_EEEE.pt (score them with `brainalign score ARCH
--checkpoint ...`, or all at once with a plan entry `- run: RUN_DIR`), state.pt (for --resume)
and log.jsonl (loss per epoch).
"""


def _parse_options(pairs) -> dict:
    import yaml

    from ..errors import InputError

    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--option {pair!r} is not NAME=VALUE", hint="e.g. --option temperature=0.2")
        options[name.strip()] = yaml.safe_load(value)
    return options


class _TrainCommand(click.Command):
    """Lists the objectives from :mod:`brainalign.training.catalog` (no torch import for the help)."""

    def format_epilog(self, ctx, formatter):
        from ..training.catalog import OBJECTIVES

        rows = []
        for name, objective in OBJECTIVES.items():
            optimizer, lr, batch_size, epochs, schedule = objective.recipe
            archs = ", ".join(objective.architectures) or "any (Nayebi et al.: alexnet_bn64_headless, streamnet_*)"
            rows.append(f"  {name:<21} {objective.summary}")
            rows.append(f"  {'':<21} archs: {archs}; views {objective.n_views}; published {optimizer} lr {lr:g} "
                        f"@ batch {batch_size}, {epochs} ep, {schedule}")
            options = ", ".join(f"{k}={v}" for k, v in objective.options.items())
            if options:
                rows.append(f"  {'':<21} --option: {options}")
        formatter.write("\n\b\nObjectives:\n" + "\n".join(rows) + "\n")
        formatter.write_paragraph()
        formatter.write_text(EPILOG_TRAIN)


@main.command(cls=_TrainCommand, short_help="Train a model with an SSL objective or a layer-local learning rule.")
@click.argument("objective")
@click.option("--arch", required=True, help="Model to train: a zoo name (alexnet_bn64_headless, streamnet_dual, "
              "tang_amit_cnn ...), timm:NAME or torchvision:NAME; randomly initialised with --seed.")
@click.option("--data", required=True, help="Training images: sim or sim:N (procedural, offline; default N 2048), "
              "an image folder or a .zip (class folders are ignored).")
@click.option("--epochs", type=int, required=True, help="Epochs to train (the schedule spans them).")
@click.option("--out", type=OutputPath(folder=True), required=True,
              help="Run folder: run.json, checkpoints/, state.pt, log.jsonl.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the init, the heads, the image order and every augmentation.")
@click.option("--batch-size", type=int, default=None,
              help="Global batch size [default: published on CUDA, at most 64 on a CPU].")
@click.option("--lr", type=float, default=None,
              help="Base learning rate [default: published lr x batch / published batch].")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda (cuda:N).")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="Autocast dtype; auto is bf16 on CUDA (fp16 + GradScaler without bf16), fp32 on a CPU.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last finished epoch.")
@click.option("--save-every", type=int, default=1, show_default=True,
              help="Write a checkpoint every K epochs (and at initialisation and the last epoch).")
@click.option("--score-every", type=int, default=None,
              help="Score every checkpoint whose epoch is a multiple of K on --benchmarks as it is written.")
@click.option("--benchmarks", "benchmarks", multiple=True,
              help="Benchmarks (ids or patterns, repeatable) for --score-every, e.g. 'sim.VIS*'.")
@click.option("--results", type=OutputPath(folder=True), default=None,
              help="Results folder for --score-every [default: RUN_DIR/results].")
@click.option("--layers", default="all", show_default=True,
              help="Layers scored with --score-every: comma-separated names or 'all' (the declared inventory).")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="NAME=VALUE",
              help="Objective option (repeatable), e.g. -o temperature=0.2 -o proj_dim=2048.")
@click.option("--workers", type=int, default=None,
              help="Data-loader processes [default: CPUs - 1, at most 4].")
@click.option("--threads", type=int, default=None, help="Torch threads in the training process [default: torch's].")
@click.option("--deterministic", is_flag=True,
              help="torch.use_deterministic_algorithms: bit-identical resumes on a CPU (same --threads).")
@quiet_option
@json_option
@user_errors
def train(objective, arch, data, epochs, out, seed, batch_size, lr, device, precision, resume, save_every,
          score_every, benchmarks, results, layers, option_pairs, workers, threads, deterministic, quiet, as_json):
    """Train ARCH with OBJECTIVE on --data for --epochs, checkpointing into --out.

    Every random choice follows --seed; the batch size and learning rate default to the
    objective's published recipe, scaled for a CPU (both are recorded in RUN_DIR/run.json).
    Interrupted runs continue with --resume. Under `torchrun` each process trains its share of
    every batch (DistributedDataParallel; gloo on CPUs, NCCL on GPUs).
    """
    from ..training.catalog import check_objective

    check_objective(objective)   # an unknown name answers before torch is imported
    from .. import api

    summary = api.train(objective, arch=arch, data=data, epochs=epochs, out=out, seed=seed, batch_size=batch_size,
                        lr=lr, device=device, precision=precision, resume=resume, save_every=save_every,
                        score_every=score_every, benchmarks=list(benchmarks) or None, results=results,
                        layers=layers if layers == "all" else [x.strip() for x in layers.split(",") if x.strip()],
                        workers=workers, threads=threads, options=_parse_options(option_pairs),
                        deterministic=deterministic, progress=not quiet)
    if summary["rank"] != 0:
        return
    if as_json:
        click.echo(dumps_json(summary, indent=2, default=str))
        return
    recipe = summary["recipe"]
    click.echo(f"run {summary['run']} in {summary['out']}: {recipe['optimizer']} lr {recipe['lr']:g} at batch "
               f"{recipe['batch_size']} (published {summary['published']['lr']:g} at {summary['published']['batch_size']})")
    for line in summary["log"]:
        click.echo(f"  epoch {line['epoch']:>3}  loss {line['loss']:.4f}  {line['images_per_s'] or 0:.0f} images/s")
    written = sum(s["written"] for s in summary["scored"])
    if summary["scored"]:
        click.echo(f"{written} score record(s) written; `brainalign report --results "
                   f"{results or summary['out'] + '/results'} --html report.html` draws score against epoch")
