"""`brainalign psychometric ...` and `brainalign consistency ...`: psychometric curves and error consistency."""

from __future__ import annotations

import click

from ..safe_files import dumps_json
from . import main
from ._common import (OutputPath, checkpoint_option, device_option, json_option, quiet_option, results_option,
                      seed_option, user_errors)


def _levels(text: str | None):
    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of numbers", param_hint="--levels") from None


def _summary_line(record: dict) -> str:
    score, curve = record["score"], record.get("curve", {})
    name = record["benchmark"]["identifier"]
    if score.get("threshold") is not None:
        low, high = score["threshold_ci"]
        return f"{name}: threshold {score['threshold']:.4g} (95% CI {low:.4g} to {high:.4g}) {curve.get('unit', '')}"
    if "levels" in curve:
        pairs = zip(curve["levels"], curve["accuracy"])
    else:
        pairs = curve.get("accuracy_per_condition", {}).items()
    accuracy = ", ".join(f"{lv if isinstance(lv, str) else format(lv, 'g')}: {acc:.3f}" for lv, acc in pairs)
    return f"{name}: accuracy {accuracy or '-'} ({curve.get('note') or 'no fit: categorical levels'})"


@main.command("psychometric", short_help="Psychometric curves of a model (or of the humans).")
@click.argument("model")
@click.option("--task", help="Image condition (contrast, noise, low-pass, high-pass, phase-noise, rotation, grayscale, "
                             "false-colour, power-equalisation) or parametric task (grating-contrast, "
                             "spatial-frequency, orientation, texture-naturalness).")
@click.option("--experiment", help="With MODEL = humans: the model-vs-human experiment (contrast, edge, ...).")
@click.option("--raw-data", type=click.Path(file_okay=False),
              help="With MODEL = humans: folder of experiment folders of trial CSVs (default: the shared data).")
@click.option("--layer", help="Read decisions out of this layer (cross-validated logistic regression).")
@click.option("--logits", is_flag=True, help="Decide from the ImageNet logits (16-way model-vs-human mapping).")
@click.option("--stimuli", help="Images for a condition task: folders named after the 16 categories "
                                "(default: the silhouette images in the shared data).")
@click.option("--levels", help="Comma-separated levels (default: the task's / model-vs-human levels).")
@click.option("--n-per-class", type=int, default=32, show_default=True,
              help="Parametric tasks: stimuli per class and level.")
@click.option("--max-features", type=int, default=64, show_default=True,
              help="Readout capacity: units sampled at random (seeded); 0 = all units.")
@click.option("--readout-noise", type=float, default=0.0, show_default=True,
              help="Readout capacity: Gaussian noise per feature, in units of its standard deviation.")
@click.option("--pixel-noise", type=float, help="Parametric tasks: pixel noise sd (default: the task's, 0.1 or 0.03).")
@click.option("--plot", type=OutputPath(), help="Write a figure (.png or .svg).")
@click.option("--overwrite", is_flag=True, help="Replace the --plot file if it exists.")
@checkpoint_option
@seed_option
@results_option
@device_option
@quiet_option
@json_option
@user_errors
def psychometric(model, task, experiment, raw_data, layer, logits, stimuli, levels, n_per_class, max_features,
                 readout_noise, pixel_noise, plot, overwrite, checkpoint, seed, results, device, quiet, as_json):
    """Measure MODEL's accuracy against stimulus strength, fit a psychometric function (psignifit:
    threshold, width, lapse with 95% credible intervals) and store one record per curve.

    MODEL = humans fits the human data of a model-vs-human experiment instead.

    \b
    Examples:
      brainalign psychometric timm:resnet18 --task contrast --logits --plot contrast.png
      brainalign psychometric alexnet_bn64 --task orientation --layer features.10 --readout-noise 0.5
      brainalign psychometric humans --experiment contrast --plot humans.svg
    """
    from ..errors import InputError
    from ..models.layer_names import LOGITS
    from ..models.specs import check_model_spec

    if model != "humans":  # before any import of torch
        check_model_spec(model, None if layer == LOGITS else layer, alternative="use --logits")
    from .. import api

    if model == "humans":
        if not experiment:
            raise InputError("`psychometric humans` needs --experiment", hint="e.g. --experiment contrast")
        records = [api.psychometric_humans(experiment, results=results, plot=plot, raw_data=raw_data,
                                            overwrite=overwrite)]
    else:
        if not task:
            raise InputError("missing --task", hint="e.g. --task contrast or --task orientation")
        records = api.psychometric(model, task=task, layer=layer, logits=logits, stimuli=stimuli,
                                   levels=_levels(levels), checkpoint=checkpoint, seed=seed, results=results,
                                   plot=plot, n_per_class=n_per_class, max_features=max_features or None,
                                   readout_noise=readout_noise, pixel_noise=pixel_noise, device=device,
                                   overwrite=overwrite,
                                   progress=not quiet)
    if as_json:
        click.echo(dumps_json(records, indent=2, default=str))
        return
    for record in records:
        click.echo(_summary_line(record))
        if record["score"].get("notes"):  # e.g. a threshold outside the tested levels
            click.echo(f"warning: {record['benchmark']['identifier']}: {record['score']['notes']}", err=True)
        if model == "humans":
            summary = record["curve"]["consistency"]
            click.echo(f"human/human error consistency: kappa {summary['kappa']:.3f} "
                       f"({summary['n_pairs']} pairs, {summary['n_conditions']} conditions)")
    if plot:
        click.echo(f"plot: {plot}")


@main.command("consistency", short_help="Error consistency of a model's 16-way decisions with the humans.")
@click.argument("model")
@click.option("--experiment", required=True,
              help="A model-vs-human experiment whose images are available: edge, silhouette.")
@checkpoint_option
@seed_option
@results_option
@device_option
@quiet_option
@json_option
@user_errors
def consistency(model, experiment, checkpoint, seed, results, device, quiet, as_json):
    """Run MODEL on the experiment's images, map its ImageNet logits to the 16 categories, and compute
    accuracy and Cohen's-kappa error consistency with each human observer (mean over observers),
    next to the human/human consistency.

    \b
    Example:
      brainalign consistency timm:resnet18 --experiment silhouette
    """
    from ..models.specs import check_model_spec

    check_model_spec(model)  # before any import of torch
    from .. import api

    record = api.consistency(model, experiment=experiment, checkpoint=checkpoint, seed=seed, results=results,
                             device=device, progress=not quiet)
    if as_json:
        click.echo(dumps_json(record, indent=2, default=str))
        return
    score = record["score"]
    click.echo(f"{record['benchmark']['identifier']}: accuracy {score['accuracy']:.3f} "
               f"(humans {score['human_accuracy']:.3f}), error consistency kappa {score['raw']:.3f} "
               f"(human/human {score['ceiling']:.3f}), squared accuracy difference "
               f"(model - humans)^2 {score['accuracy_difference']:.4f}")
