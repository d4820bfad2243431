"""`brainalign models ...`: list models, their layers, and what a checkpoint holds."""

from __future__ import annotations

import click

from ..safe_files import dumps_json
from . import main
from ._common import (checkpoint_load_options, checkpoint_option, complete_checkpoint_format, json_option,
                      seed_option, user_errors)


@main.group("models", short_help="List models, their layers, and inspect checkpoints.")
def models_group():
    """Models: timm:NAME, torchvision:NAME, and brainalign's zoo."""


@models_group.command("list", short_help="List zoo models (and timm/torchvision names matching a pattern).")
@click.argument("pattern", required=False)
@json_option
@user_errors
def models_list(pattern, as_json):
    """List zoo models; with PATTERN (e.g. 'timm:resnet*'), list matching timm/torchvision names too.
    --json gives each spec with its source and, for zoo models, a one-line description."""
    from ..models.registry import zoo_description
    from ..models.specs import list_models, parse_spec

    names = list_models(pattern)
    if as_json:
        rows = []
        for name in names:
            source = parse_spec(name)[0]
            rows.append({"spec": name, "source": source,
                         "description": zoo_description(name) if source == "zoo" else None})
        click.echo(dumps_json(rows, indent=2))
        return
    for name in names:
        click.echo(name)


@models_group.command("layers", short_help="List a model's addressable layers with output shapes.")
@click.argument("model")
@checkpoint_option
@checkpoint_load_options
@seed_option
@click.option("--all", "show_all", is_flag=True,
              help="Every addressable layer: modules, repeated calls (NAME:1) and residual additions.")
@json_option
@user_errors
def models_layers(model, checkpoint, load_options, seed, show_all, as_json):
    """Print MODEL's layers and their output shapes at the model's input size; '*' marks the
    default inventory scored by `--layers all`. With --all, also repeated calls of a module
    (`NAME:1`, ...) and graph nodes that are not modules (residual additions such as
    `layer1.0.add`); vision transformer token layers are shown as --tokens gives them.

    \b
    Examples:
      brainalign models layers alexnet_bn64
      brainalign models layers streamnet_six            # VISp ... VISam area outputs
      brainalign models layers timm:resnet18 --all      # modules, NAME:1 calls, layer1.0.add ...
      brainalign models layers timm:vit_small_patch16_224 --tokens cls
    """
    from ..models.specs import check_model_spec

    check_model_spec(model)  # before any import of torch
    from ..models import layer_shapes, load_model
    from ..models.layers import layer_inventory

    loaded = load_model(model, checkpoint=checkpoint, seed=seed, **load_options)
    if show_all:
        rows = dict(layer_inventory(loaded))
    else:
        rows = {name: (shape, "module") for name, shape in layer_shapes(loaded).items()}
    if as_json:
        click.echo(dumps_json({n: None if s is None else list(s) for n, (s, _) in rows.items()}, indent=2))
        return
    for name, (shape, kind) in rows.items():
        mark = "*" if name in loaded.default_layers or not show_all else " "
        text = "x".join(map(str, shape)) if shape else "(not called)" if shape is None else "-"
        click.echo(f"{mark} {name:<40} {text:<16} {'' if kind == 'module' else kind}".rstrip())


@models_group.command("formats", short_help="List the checkpoint formats --checkpoint-format accepts.")
@json_option
@user_errors
def models_formats(as_json):
    """List the installed checkpoint formats (built-in and from plugin packages) in the order
    `--checkpoint-format auto` asks them, with the codebase that writes each, where its weights
    and backbone are, and its aliases.

    \b
    Examples:
      brainalign models formats
      brainalign models formats --json
    """
    from ..models.checkpoint_formats import list_formats

    rows = [{"name": f.name, "codebase": f.codebase, "aliases": list(f.aliases), "priority": f.priority,
             "entries": [".".join(e) for e in f.entries], "backbones": list(f.backbones), "drop": list(f.drop)}
            for f in list_formats().values()]
    if as_json:
        click.echo(dumps_json(rows, indent=2))
        return
    for row in rows:
        aliases = f" (also {', '.join(row['aliases'])})" if row["aliases"] else ""
        click.echo(f"{row['name']:<14} {row['codebase']}{aliases}")


@models_group.command("inspect", short_help="Show what a checkpoint holds, without building a model.")
@click.argument("ckpt", type=click.Path())
@click.option("--checkpoint-format", default="auto", show_default=True, shell_complete=complete_checkpoint_format,
              help="Force a layout instead of detecting it (`brainalign models formats` lists them).")
@click.option("--trust-checkpoint", is_flag=True,
              help="Allow full unpickling if weights-only loading refuses the file (runs code from it).")
@json_option
@user_errors
def models_inspect(ckpt, checkpoint_format, trust_checkpoint, as_json):
    """Print CKPT's format, the entry and prefix its backbone was found under, how many keys would
    be loaded and dropped, and the architecture its keys look like.

    \b
    Examples:
      brainalign models inspect moco_v2_800ep_pretrain.pth.tar
      brainalign models inspect last.ckpt --trust-checkpoint
    """
    from ..models.inspection import inspect_checkpoint

    info = inspect_checkpoint(ckpt, checkpoint_format=checkpoint_format, trust_checkpoint=trust_checkpoint)
    if as_json:
        click.echo(dumps_json(info, indent=2))
        return
    click.echo(f"format:    {info['format']} ({info['codebase']})")
    click.echo(f"entry:     {info['entry'] or '(top level)'}; prefix stripped: {info['prefix_stripped'] or '(none)'}")
    click.echo(f"backbone:  {info['keys']} tensors, {info['parameters']:,} values")
    dropped = f" (e.g. {', '.join(info['dropped_examples'])})" if info["dropped_examples"] else ""
    click.echo(f"dropped:   {info['dropped']} keys{dropped}; other keys: {info['other']}")
    if info["ignored_entries"]:
        click.echo(f"ignored:   {', '.join(info['ignored_entries'])}")
    click.echo(f"family:    {info['family'] or 'unknown (compare the keys below with `brainalign models layers`)'}")
    for key, shape in info["first_keys"].items():
        click.echo(f"  {key:<40} {'x'.join(map(str, shape)) or 'scalar'}")
