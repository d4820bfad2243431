"""`brainalign models ...`: list models and their layers."""

from __future__ import annotations

import json

import click

from . import main
from ._common import checkpoint_option, json_option, seed_option, user_errors

@main.group("models", short_help="List models and their layers.")
def models_group():
    """Models: timm:NAME, torchvision:NAME, and brainalign's zoo."""


@models_group.command("list", short_help="List zoo models (and timm/torchvision names matching a pattern).")
@click.argument("pattern", required=False)
@user_errors
def models_list(pattern):
    """List zoo models; with PATTERN (e.g. 'timm:resnet*'), list matching timm/torchvision names too."""
    from ..models import list_models

    for name in list_models(pattern):
        click.echo(name)


@models_group.command("layers", short_help="List a model's addressable layers with output shapes.")
@click.argument("model")
@checkpoint_option
@seed_option
@click.option("--all", "show_all", is_flag=True, help="Every named module, not just the default inventory.")
@json_option
@user_errors
def models_layers(model, checkpoint, seed, show_all, as_json):
    """Print MODEL's layers and their output shapes at the model's input size; '*' marks the
    default inventory scored by `--layers all`."""
    from ..models import layer_shapes, load_model

    loaded = load_model(model, checkpoint=checkpoint, seed=seed)
    names = loaded.layers if show_all else loaded.default_layers
    shapes = layer_shapes(loaded, list(names))
    if as_json:
        click.echo(json.dumps({n: list(shapes.get(n, ())) for n in names}, indent=2))
        return
    for name in names:
        mark = "*" if name in loaded.default_layers else " "
        shape = "x".join(map(str, shapes[name])) if name in shapes else "(not called)"
        click.echo(f"{mark} {name:<40} {shape}")
