"""`brainalign results list|show|prune`: look into and tidy a results directory."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import click

from ..safe_files import dumps_json
from . import main
from ._common import json_option, results_option, user_errors


def _check_results(results) -> None:
    """InputError for a --results folder that does not exist (a typo must not list 0 records)."""
    from ..errors import InputError

    if not Path(results).is_dir():
        raise InputError(f"no results directory {results}",
                         hint="pass the --results folder that `brainalign score` wrote (default brainalign-results)")


def _scan(results):
    from ..reports.store import ResultsStore

    _check_results(results)
    scan = ResultsStore(results).scan()
    for name, reason in scan.skipped:
        click.echo(f"warning: skipping {name}: {reason}", err=True)
    return scan


def _summary(record: dict) -> dict:
    from ..records import record_kind
    from ..reports.labels import model_label

    score = record.get("score") if isinstance(record.get("score"), dict) else {}
    return {"id": record["id"], "created": record["created"], "status": record["_status"],
            "kind": record_kind(record), "model": model_label(record["model"]),
            "benchmark": record["benchmark"].get("identifier"),
            "metric": (record.get("metric") or {}).get("name"), "layer": record.get("layer"),
            "ceiled": score.get("ceiled"), "file": Path(record["_path"]).name}


@main.group("results")
def results_group():
    """Inspect and tidy a results directory (one JSON record per score).

    Records are append-only: a re-run writes a new record that supersedes the older one of the
    same key (model + weights sha256, benchmark + version, metric, protocol, layer, seed); both
    stay on disk until `brainalign results prune`.

    \b
    Examples:
      brainalign results list --results brainalign-results
      brainalign results list --all --model 'alexnet*' --benchmark 'sim.V*'
      brainalign results show 3f2a9c
      brainalign results prune --dry-run
    """


@results_group.command("list")
@results_option
@click.option("--all", "show_all", is_flag=True, help="Include superseded records.")
@click.option("--model", default="*", show_default=True, help="Shell pattern on the model label.")
@click.option("--benchmark", default="*", show_default=True, help="Shell pattern on the benchmark id.")
@json_option
@user_errors
def list_records(results, show_all, model, benchmark, as_json):
    """List the records of RESULTS, newest of each key only unless --all."""
    scan = _scan(results)
    rows = [_summary(r) for r in scan.records if show_all or r["_status"] == "current"]
    rows = [r for r in rows if fnmatch.fnmatch(r["model"], model) and fnmatch.fnmatch(str(r["benchmark"]), benchmark)]
    if as_json:
        click.echo(dumps_json(rows, indent=2))
        return
    if rows:
        click.echo(f"{'id':<12}  {'created':<19}  {'status':<10}  {'kind':<12} {'model':<28} {'benchmark':<14} "
                   f"{'layer':<20} ceiled")
    for r in rows:
        ceiled = "-" if r["ceiled"] is None or r["ceiled"] != r["ceiled"] else f"{r['ceiled']:.3f}"
        click.echo(f"{r['id'][:12]}  {r['created'][:19]}  {r['status']:<10}  {r['kind']:<12} {r['model']:<28} "
                   f"{r['benchmark']:<14} {str(r['layer']):<20} {ceiled}")
    superseded = sum(r["_status"] == "superseded" for r in scan.records)
    click.echo(f"{len(rows)} record(s) shown; {len(scan.records)} on disk, {superseded} superseded, "
               f"{len(scan.skipped)} unreadable", err=True)


@results_group.command("show")
@click.argument("record_id")
@results_option
@user_errors
def show(record_id, results):
    """Print the record whose id (or file name) starts with RECORD_ID, and the history of its key."""
    from ..errors import InputError

    scan = _scan(results)
    found = [r for r in scan.records if r["id"].startswith(record_id) or Path(r["_path"]).name.startswith(record_id)]
    if not found:
        raise InputError(f"no record {record_id!r} in {results}", hint="`brainalign results list` shows the ids")
    if len(found) > 1:
        raise InputError(f"{len(found)} records start with {record_id!r}", hint="give more characters of the id")
    [record] = found
    history = [{"id": r["id"], "created": r["created"], "status": r["_status"], "file": Path(r["_path"]).name}
               for r in scan.records if r["key"] == record["key"]]
    public = {k: v for k, v in record.items() if not k.startswith("_")}
    click.echo(dumps_json({"record": public, "status": record["_status"], "history": history}, indent=2))


@results_group.command("prune")
@results_option
@click.option("--keep", type=int, default=1, show_default=True, help="Records to keep per key (newest first).")
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted.")
@json_option
@user_errors
def prune(results, keep, dry_run, as_json):
    """Delete superseded records, keeping the newest --keep of each key. Unreadable files are
    reported and left alone."""
    from ..reports.store import ResultsStore

    _check_results(results)
    for name, reason in ResultsStore(results).scan().skipped:
        click.echo(f"warning: not touching {name}: {reason}", err=True)
    paths = ResultsStore(results).prune(keep=keep, dry_run=dry_run)
    if as_json:
        click.echo(dumps_json({"dry_run": dry_run, "deleted": [p.name for p in paths]}, indent=2))
        return
    for path in paths:
        click.echo(f"{'would delete' if dry_run else 'deleted'} {path.name}")
    click.echo(f"{len(paths)} superseded record(s) {'to delete' if dry_run else 'deleted'}", err=True)
