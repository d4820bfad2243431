"""`demo`, `extract`, `score` and `report`: the main pipeline."""

from __future__ import annotations

import json

import click

from . import main
from ._common import (checkpoint_option, json_option, layers_option, quiet_option, results_option,
                      seed_option, user_errors)

EPILOG_SCORE = """\b
Examples:
  brainalign score alexnet_bn64 --benchmark sim.V1
  brainalign score timm:resnet18 --area V2 --layers layer2,layer3
  brainalign score alexnet_bn64 --checkpoint ckpt.pth --benchmark 'sim.*' --objective simclr
  brainalign score --activations acts.nc --assembly recordings.nc
"""


@main.command(short_help="Score the demo models on the simulated benchmark and print the leaderboard.")
@click.option("--out", type=click.Path(file_okay=False), default="brainalign-demo", show_default=True,
              help="Output folder (results/, leaderboard.csv, layers.csv); the demo owns it.")
@seed_option
@quiet_option
@json_option
@user_errors
def demo(out, seed, quiet, as_json):
    """Score a positive control (the simulator's own rates), a pixel baseline, AlexNet-BN-64 and
    ResNet-18 (random init) on every simulated area, print the leaderboard and write
    OUT/leaderboard.csv. Runs offline in a few minutes on 2 CPU cores."""
    from .. import api

    result = api.demo(out, seed=seed, progress=not quiet)
    if as_json:
        click.echo(result["leaderboard"].to_json(orient="records", indent=2))
        return
    click.echo(result["table"])
    click.echo("\nmodels:")
    for spec, _, description in api.DEMO_MODELS:
        click.echo(f"  {spec:<16} {description}")
    click.echo(f"\nscores: held-out ceiled score (r2/c) of each model's committed layer; "
               f"tables in {result['out'] / 'leaderboard.csv'} and {result['out'] / 'layers.csv'}")


@main.command(short_help="Extract layer activations to a NetCDF4 file.")
@click.argument("model")
@click.option("--stimuli", required=True, help="A registered stimulus set (e.g. 'sim'), a folder of images or a .zip.")
@layers_option
@checkpoint_option
@seed_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Output .nc file.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
@quiet_option
@json_option
@user_errors
def extract(model, stimuli, layers, checkpoint, seed, output, overwrite, batch_size, device, quiet, as_json):
    """Extract activations of MODEL's layers for every image of --stimuli.

    MODEL is timm:NAME, torchvision:NAME or a zoo name (see `brainalign models list`).
    Activations are cached by content (weights hash, image hashes, layer, preprocessing), so a
    second run is instant and a changed checkpoint is never served stale values.

    \b
    Example:
      brainalign extract alexnet_bn64 --stimuli images/ --layers features.3,features.7 -o acts.nc
    """
    from .. import api

    activations = api.extract(model, stimuli=stimuli, layers=layers, checkpoint=checkpoint, seed=seed,
                              output=output, overwrite=overwrite, batch_size=batch_size, device=device,
                              progress=not quiet)
    summary = {layer: list(array.shape) for layer, array in activations.items()}
    if as_json:
        click.echo(json.dumps({"output": output, "layers": summary}, indent=2))
    else:
        for layer, shape in summary.items():
            click.echo(f"{layer}: {shape[0]} stimuli x {shape[1]} units")
        click.echo(f"wrote {output}")


@main.command(short_help="Score a model (or precomputed activations) on benchmarks.", epilog=EPILOG_SCORE)
@click.argument("model", required=False)
@click.option("--benchmark", "benchmarks", multiple=True, help="Benchmark id or pattern (repeatable), e.g. 'sim.*'.")
@click.option("--area", default=None, help="Score every benchmark of this area (e.g. V1, V2, VISp).")
@layers_option
@checkpoint_option
@seed_option
@click.option("--activations", type=click.Path(dir_okay=False), default=None,
              help="Precomputed activations from `brainalign extract` (instead of MODEL).")
@click.option("--assembly", type=click.Path(dir_okay=False), default=None,
              help="A NeuralAssembly NetCDF file to score --activations against.")
@click.option("--stratify", default=None, help="With --assembly: stimulus coordinate to stratify the splits by.")
@click.option("--objective", default=None, help="Training objective recorded with the scores (e.g. simclr).")
@click.option("--tag", default=None, help="Free-form label recorded with the scores.")
@click.option("--convention", type=click.Choice(["r2/c", "r/c", "(r/c)2"]), default="r2/c", show_default=True,
              help="How raw r and ceiling c combine into the ceiled score (raw and ceiling are always kept).")
@results_option
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@quiet_option
@json_option
@user_errors
def score(model, benchmarks, area, layers, checkpoint, seed, activations, assembly, stratify, objective, tag,
          convention, results, batch_size, device, quiet, as_json):
    """Score MODEL's layers with PLS-25 neural predictivity (brainscore protocol) and write one
    JSON record per layer and benchmark to --results."""
    from .. import api
    from ..errors import InputError

    if activations or assembly:
        if not (activations and assembly) or model:
            raise InputError("--activations and --assembly go together, without MODEL")
        records = api.score_files(activations, assembly, layers=layers, stratify=stratify, results=results,
                                  objective=objective, tag=tag, convention=convention)
    else:
        if not model:
            raise InputError("missing MODEL", hint="e.g. `brainalign score alexnet_bn64 --benchmark sim.V1`")
        records = api.score(model, benchmarks=list(benchmarks), area=area, layers=layers, checkpoint=checkpoint,
                            seed=seed, results=results, objective=objective, tag=tag, convention=convention,
                            batch_size=batch_size, device=device, progress=not quiet)
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for r in records:
        s = r["score"]
        click.echo(f"{r['benchmark']['identifier']:<14} {r['layer']:<24} raw {s['raw']:.3f} ± {s['error']:.3f}  "
                   f"ceiling {s['ceiling']:.3f}  ceiled({s['convention']}) {s['ceiled']:.3f}")
    click.echo(f"{len(records)} record(s) written to {results}")


@main.command(short_help="Leaderboard tables from a results directory.")
@results_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Write the model x benchmark leaderboard here.")
@click.option("--layers-csv", type=click.Path(dir_okay=False), default=None, help="Write the per-layer table here.")
@click.option("--overwrite", is_flag=True, help="Replace existing CSV files.")
@json_option
@user_errors
def report(results, csv_path, layers_csv, overwrite, as_json):
    """Print the leaderboard: per model and benchmark, the layer committed on the selection
    stimuli and its ceiled score on the held-out stimuli; the mean over benchmarks ranks models."""
    from .. import api

    tables = api.report(results, csv=csv_path, layers_csv=layers_csv, overwrite=overwrite)
    if as_json:
        click.echo(tables["leaderboard"].to_json(orient="records", indent=2))
        return
    from ..reports import format_table
    click.echo(format_table(tables["summary"]))
