"""`brainalign compare`: a paired test of two models on one benchmark."""

from __future__ import annotations

import click

from ..safe_files import dumps_json
from . import main
from ._common import batch_size_option, device_option, json_option, quiet_option, seed_option, user_errors
from ._scoring import scoring_options

EPILOG = """\b
Examples:
  brainalign compare alexnet_bn64 pixels --benchmark sim.V1
  brainalign compare timm:resnet18 alexnet_bn64 --benchmark cowley2023.V4 --bootstrap 2000 --json
  brainalign compare alexnet_bn64 alexnet_bn64 --checkpoint-a a.pth --checkpoint-b b.pth --benchmark sim.V2
  brainalign compare pixels sim_oracle --benchmark sim.V1 --protocol brainscore --layers-a pixels --layers-b V1
"""


@main.command(short_help="Paired test of two models on one benchmark (difference, CI, p-value).", epilog=EPILOG)
@click.argument("model_a")
@click.argument("model_b")
@click.option("--benchmark", required=True, help="Benchmark id (see `brainalign benchmarks list`).")
@click.option("--layers-a", default="auto", show_default=True,
              help="Layers of MODEL_A: 'auto' (every declared layer; the best on the selection stimuli is "
                   "committed) or comma-separated names.")
@click.option("--layers-b", default="auto", show_default=True, help="Layers of MODEL_B, as --layers-a.")
@click.option("--checkpoint-a", type=click.Path(), default=None, help="Weights of MODEL_A (random init when absent).")
@click.option("--checkpoint-b", type=click.Path(), default=None, help="Weights of MODEL_B.")
@seed_option
@scoring_options
@batch_size_option
@device_option
@quiet_option
@json_option
@user_errors
def compare(model_a, model_b, benchmark, layers_a, layers_b, checkpoint_a, checkpoint_b, seed, convention, options,
            batch_size, device, quiet, as_json):
    """Compare MODEL_A and MODEL_B on --benchmark with identical splits and bootstrap resamples of
    stimuli and neuroids: each model's raw score with its CI, the difference A - B, its CI and a
    two-sided bootstrap p-value. With the default protocol both models are scored on the held-out
    stimuli, after committing each to its best layer on the selection stimuli; nayebi2023 does the
    same and resamples the units (the neurons scored for both models); RSA benchmarks resample the
    held-out stimuli of the RDMs."""
    from ..models.specs import check_model_spec

    for spec, layers in ((model_a, layers_a), (model_b, layers_b)):
        check_model_spec(spec, layers)  # before any import of torch
    from .. import api

    result = api.compare(model_a, model_b, benchmark=benchmark, layers_a=layers_a, layers_b=layers_b,
                         checkpoint_a=checkpoint_a, checkpoint_b=checkpoint_b, seed=seed, convention=convention,
                         options=options, batch_size=batch_size, device=device, progress=not quiet)
    if as_json:
        click.echo(dumps_json(result, indent=2))
        return
    difference = result["difference"]
    metric = result.get("metric") or result["regression"]
    click.echo(f"{result['benchmark']}: protocol {result['protocol']}, metric {metric}, "
               f"{result['n_stimuli']} {result['stimuli']} stimuli, ceiling {result['ceiling']:.3f}")
    for name in ("A", "B"):
        m = result["models"][name]
        click.echo(f"  {name}: {m['spec']:<20} layer {m['layer']:<20} raw {m['raw']:.3f} "
                   f"[{m['raw_ci'][0]:.3f}, {m['raw_ci'][1]:.3f}]  ceiled({result['convention']}) {m['ceiled']:.3f}")
    click.echo(f"  A - B: {difference['difference']:+.3f}  {100 * difference['level']:.0f}% CI "
               f"[{difference['ci'][0]:+.3f}, {difference['ci'][1]:+.3f}]  p = {difference['p_value']:.4f} "
               f"(paired bootstrap over {', '.join(difference['over'])}, {difference['n_boot']} resamples, "
               f"seed {difference['seed']})")
