"""`demo`, `extract`, `score` and `report`: the main pipeline."""

from __future__ import annotations

import click

from . import main
from ..benchmarks.registry import resolve_benchmarks
from ..models.options import PRECISIONS
from ..models.specs import check_model_spec
from ..safe_files import check_writable, dumps_json
from ._scoring import scoring_options
from ._common import (OutputPath, batch_size_option, checkpoint_load_options, checkpoint_option, device_option,
                      json_option, layers_option, quiet_option, results_option, seed_option, user_errors)

EPILOG_SCORE = """\b
Examples:
  brainalign score alexnet_bn64 --benchmark sim.V1
  brainalign score timm:resnet18 --area V2 --layers layer2,layer3
  brainalign score alexnet_bn64 --checkpoint ckpt.pth --benchmark 'sim.*' --objective simclr
  brainalign score --activations acts.nc --assembly recordings.nc
  brainalign score alexnet_bn64 --benchmark sim.V1 --layers auto          # commit a layer per area
  brainalign score pixels --benchmark cowley2023.V4 --protocol brainscore --metric ridge
  brainalign score alexnet_bn64 --benchmark sim.VISp --protocol nayebi2023 --bootstrap 200
"""


@main.command(short_help="Score the demo models on the simulated benchmark and print the leaderboard.")
@click.option("--out", type=OutputPath(folder=True), default="brainalign-demo", show_default=True,
              help="Output folder (results/, leaderboard.csv, layers.csv); the demo owns it.")
@seed_option
@quiet_option
@json_option
@user_errors
def demo(out, seed, quiet, as_json):
    """Score a positive control (the simulator's own rates), a pixel baseline, AlexNet-BN-64 and
    ResNet-18 (random init) on every simulated area, print the leaderboard and write
    OUT/leaderboard.csv. Runs offline in about a minute on 2 CPU cores."""
    from .. import api

    result = api.demo(out, seed=seed, progress=not quiet)
    if as_json:
        click.echo(result["leaderboard"].to_json(orient="records", indent=2))
        return
    from ..reports.leaderboard import terminal_table
    click.echo(terminal_table(result["leaderboard"], max_width=_terminal_width()))
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
@checkpoint_load_options
@seed_option
@click.option("-o", "--output", type=OutputPath(), required=True, help="Output .nc file.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@batch_size_option
@device_option
@quiet_option
@json_option
@user_errors
def extract(model, stimuli, layers, checkpoint, load_options, seed, output, overwrite, batch_size, device, quiet,
            as_json):
    """Extract activations of MODEL's layers for every image of --stimuli.

    MODEL is timm:NAME, torchvision:NAME or a zoo name (see `brainalign models list`).
    Activations are cached by content (weights hash, image hashes, layer, preprocessing), so a
    second run is instant and a changed checkpoint is never served stale values.

    \b
    Example:
      brainalign extract alexnet_bn64 --stimuli images/ --layers features.3,features.7 -o acts.nc
    """
    check_writable(output, overwrite=overwrite)  # before any import or work
    check_model_spec(model, layers)
    from .. import api

    activations = api.extract(model, stimuli=stimuli, layers=layers, checkpoint=checkpoint, seed=seed,
                              output=output, overwrite=overwrite, batch_size=batch_size, device=device,
                              progress=not quiet, **load_options)
    summary = {layer: list(array.shape) for layer, array in activations.items()}
    if as_json:
        click.echo(dumps_json({"output": output, "layers": summary}, indent=2))
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
@checkpoint_load_options
@seed_option
@click.option("--activations", type=click.Path(), default=None,
              help="Precomputed activations instead of MODEL: a `brainalign extract` file, a NetCDF/xarray file "
                   "(variables along a stimulus_id coordinate), .npy/.npz, HDF5, or a THINGSvision output folder.")
@click.option("--stimulus-ids", type=click.Path(dir_okay=False), default=None,
              help="With --activations: a text file naming each row's stimulus, one per line (for files without "
                   "ids; THINGSvision's file_names.txt is found by itself).")
@click.option("--assembly", type=click.Path(dir_okay=False), default=None,
              help="Recordings to score --activations against: a NetCDF DataArray (presentation x neuroid) with a "
                   "stimulus_id coordinate.")
@click.option("--stratify", default=None, help="With --assembly: stimulus coordinate to stratify the splits by.")
@click.option("--objective", default=None, help="Training objective recorded with the scores (e.g. simclr).")
@click.option("--tag", default=None, help="Free-form label recorded with the scores.")
@click.option("--epoch", type=int, default=None,
              help="Training epoch of --checkpoint (default: read from the checkpoint or its file name).")
@scoring_options
@results_option
@batch_size_option
@click.option("--device", default="cpu", show_default=True, help="torch device of the forward pass, e.g. cuda.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True,
              help="Forward-pass precision (fp16/bf16: autocast); recorded in each record's model.extraction.")
@click.option("--max-memory", default=None,
              help="Memory budget, e.g. 3GB (default: 80% of free memory); wider layers are streamed to disk.")
@click.option("--reduce", default=None,
              help="Reduce each layer before scoring: srp:N (seeded sparse random projection) or pca:N "
                   "(PCA fit on --reduce-fit images); recorded with every score.")
@click.option("--reduce-fit", default=None,
              help="With --reduce pca:N: images to fit the PCA on (folder or zip, none of the benchmark's).")
@click.option("--reduce-seed", type=int, default=0, show_default=True, help="Seed of the reduction.")
@quiet_option
@json_option
@user_errors
def score(model, benchmarks, area, layers, checkpoint, load_options, seed, activations, stimulus_ids, assembly, stratify,
          objective, tag, epoch,
          convention, options, results, batch_size, device, precision, max_memory, reduce, reduce_fit, reduce_seed,
          quiet, as_json):
    """Score MODEL's layers with neural predictivity (PLS-25 or ridge) under --protocol and write one
    JSON record per layer and benchmark to --results, with raw r, ceiling, ceiled score (and its
    convention) and bootstrap CIs. --layers auto commits each area to the layer best on a
    selection half of the stimuli and reports it on the held-out half."""
    from ..errors import InputError

    if activations or assembly or stimulus_ids:  # usage errors first: they answer before any science is imported
        if not (activations and assembly) or model:
            raise InputError("--activations and --assembly go together, without MODEL")
        if benchmarks or area:
            raise InputError("--benchmark/--area score a model; --activations are scored against --assembly",
                             hint="drop --benchmark/--area, or score MODEL on them instead of --activations")
    else:
        if not model:
            raise InputError("missing MODEL", hint="e.g. `brainalign score alexnet_bn64 --benchmark sim.V1`")
        resolve_benchmarks(list(benchmarks), area)  # the benchmark first, then the model and its layers
        check_model_spec(model, layers)
    if activations:
        from ._process import xarray_without_dask

        with xarray_without_dask():   # files are read whole: xarray's dask import would be a quarter of the command
            from .. import api

            records = api.score_files(activations, assembly, layers=layers, stratify=stratify, results=results,
                                      objective=objective, tag=tag, convention=convention, options=options,
                                      stimulus_ids=stimulus_ids)
    else:
        from .. import api

        records = api.score(model, benchmarks=list(benchmarks), area=area, layers=layers, checkpoint=checkpoint,
                            seed=seed, results=results, objective=objective, tag=tag, epoch=epoch, convention=convention,
                            batch_size=batch_size, device=device, precision=precision, max_memory=max_memory,
                            progress=not quiet, options=options, reduce=reduce, reduce_fit=reduce_fit,
                            reduce_seed=reduce_seed, **load_options)
    if as_json:
        click.echo(dumps_json(records, indent=2))
        return
    for r in records:
        click.echo(_score_line(r))
    auto = next((r["layer_selection"]["auto"] for r in records if (r.get("layer_selection") or {}).get("auto")), None)
    if auto:
        for region, layer in auto["region_layer_map"].items():
            click.echo(f"--layers auto: {region} -> {layer} (chosen on the selection stimuli; report its held-out score)")
    else:
        for line in _committed_lines(records):
            click.echo(line)
    metrics = sorted({f"protocol {r['metric']['protocol']}, metric {r['metric'].get('name')}" for r in records})
    reduction = (records[0]["model"].get("extraction") or {}).get("reduction") if records else None
    if reduction:
        metrics.append(f"layers reduced with {reduction['spec']}"
                       + (f" fit on {reduction['fit_stimuli']['source']}" if reduction.get("fit_stimuli") else
                          f", seed {reduction['seed']}"))
    click.echo(f"{len(records)} record(s) written to {results} ({'; '.join(metrics)})")


def _terminal_width() -> int:
    """The terminal's columns (``$COLUMNS`` when set, 100 when not a terminal)."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _number(value) -> str:
    """3 decimals, or an em dash for a missing value (never "nan")."""
    return "\u2014" if value is None or value != value else f"{value:.3f}"


def _interval(pair) -> str:
    """`` [low, high]`` of a two-item interval, or nothing when it has none (or NaNs)."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 or any(v is None or v != v for v in pair):
        return ""
    return f" [{pair[0]:.3f}, {pair[1]:.3f}]"


def _score_line(r: dict) -> str:
    """One record: raw (± standard error when there is one) with its interval, ceiling, ceiled with its
    interval, and the held-out ceiled score with its own interval."""
    s, sel = r["score"], r.get("layer_selection") or {}
    ci = s.get("ci") if isinstance(s.get("ci"), dict) else {}
    raw_ci = (s["ci_low"], s["ci_high"]) if s.get("ci_low") is not None else ci.get("raw") or s.get("ci")
    error = s.get("error")
    line = (f"{r['benchmark']['identifier']:<14} {str(r['layer']):<24} raw {_number(s.get('raw'))}"
            + ("" if error is None or error != error else f" \u00b1 {error:.3f}") + _interval(raw_ci)
            + f"  ceiling {_number(s.get('ceiling'))}  ceiled({s.get('convention')}) {_number(s.get('ceiled'))}"
            + _interval(ci.get("ceiled")))
    if sel.get("heldout_ceiled") is not None and sel.get("heldout_ceiled") == sel.get("heldout_ceiled"):
        line += f"  held-out ceiled {sel['heldout_ceiled']:.3f}" + _interval((sel.get("heldout_ci") or {}).get("ceiled"))
    if s.get("ceiling_note"):
        line += f"  ({s['ceiling_note']})"
    return line


def _committed_lines(records: list[dict]) -> list[str]:
    """Per benchmark and metric, the layer the leaderboard reports and its score, as `report` shows them."""
    from ..reports.leaderboard import layer_table, leaderboard

    lines = []
    for row in leaderboard(layer_table(records)).to_dict("records"):
        how = ("best on the selection stimuli, scored on the held-out ones" if row["commitment"] == "held-out"
               else "best layer on the same stimuli: optimistic")
        lines.append(f"committed layer: {row['measure']} -> {row['layer']} ({how}); score {_number(row['score'])}"
                     + _interval((row["score_ci_low"], row["score_ci_high"])))
    return lines


EPILOG_REPORT = """\b
Examples:
  brainalign report                                  # print the leaderboard of ./brainalign-results
  brainalign report --results runs/ --csv board.csv --layers-csv layers.csv --summary-csv summary.csv
  brainalign report --results runs/ --html report.html --markdown report.md --overwrite
"""


@main.command(short_help="Leaderboard tables and reports (CSV, HTML, Markdown) from a results directory.",
              epilog=EPILOG_REPORT)
@results_option
@click.option("--csv", "csv_path", type=OutputPath(), default=None,
              help="Write the model x benchmark leaderboard (committed layer) here.")
@click.option("--layers-csv", type=OutputPath(), default=None,
              help="Write the per-layer table (one row per model, benchmark, layer) here.")
@click.option("--summary-csv", type=OutputPath(), default=None,
              help="Write the tidy summary (per benchmark, per area, overall) here.")
@click.option("--html", "html_path", type=OutputPath(), default=None,
              help="Write the self-contained HTML report here (sortable tables, layer profiles, provenance).")
@click.option("--markdown", "markdown_path", type=OutputPath(), default=None,
              help="Write a Markdown summary here.")
@click.option("--title", default="brainalign leaderboard", show_default=True, help="Title of the HTML/Markdown.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@json_option
@user_errors
def report(results, csv_path, layers_csv, summary_csv, html_path, markdown_path, title, overwrite, as_json):
    """Print the leaderboard: per model and benchmark, the layer committed on the selection
    stimuli and its ceiled score on the held-out stimuli; the mean over areas ranks models.
    Files in RESULTS that are not readable records are reported on stderr and skipped."""
    import warnings

    for path in (csv_path, layers_csv, summary_csv, html_path, markdown_path):
        if path is not None:
            check_writable(path, overwrite=overwrite)  # before reading a record
    from .. import api

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tables = api.report(results, csv=csv_path, layers_csv=layers_csv, summary_csv=summary_csv, html=html_path,
                            markdown=markdown_path, overwrite=overwrite, title=title)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    if as_json:
        click.echo(tables["leaderboard"].to_json(orient="records", indent=2))
        return
    from ..reports.leaderboard import terminal_table
    click.echo(terminal_table(tables["leaderboard"], max_width=_terminal_width()))
    for path in (csv_path, layers_csv, summary_csv, html_path, markdown_path):
        if path:
            click.echo(f"wrote {path}", err=True)
