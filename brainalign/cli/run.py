"""`brainalign run PLAN.yaml`: expand a run plan into tasks and run them on an executor."""

from __future__ import annotations

import click

from ..safe_files import dumps_json
from . import main
from ._common import OutputPath, json_option, quiet_option, user_errors

EPILOG_RUN = """\b
Examples:
  brainalign run plan.yaml --dry-run
  brainalign run plan.yaml                              # in this process
  brainalign run plan.yaml --scheduler local:4          # Dask LocalCluster, 4 workers
  brainalign run plan.yaml --scheduler tcp://node01:8786
\b
A minimal plan.yaml:
  models:
    - {spec: alexnet_bn64, checkpoints: "runs/simclr/epoch_*.pth", objective: simclr}
    - {spec: "timm:resnet18", seed: 0}
    - {run: runs/rotnet}        # every checkpoint of a `brainalign train` run
  benchmarks: ["sim.*"]
  layers: all
  layers_per_task: 4

Other keys: results, areas, metrics, protocols, convention, batch_size, device, precision,
max_memory, reduce, reduce_fit, reduce_seed (the README's "Scaling out" section has them all).
"""


@main.command(short_help="Run a plan of models x benchmarks x layers, resumably, on any executor.",
              epilog=EPILOG_RUN)
@click.argument("plan", type=click.Path(dir_okay=False))
@click.option("--scheduler", default=None,
              help="inprocess (default), processes:N, local:N (Dask LocalCluster) or tcp://HOST:PORT.")
@click.option("--results", type=OutputPath(folder=True), default=None,
              help="Results directory (overrides the plan's `results`).")
@click.option("--dry-run", is_flag=True, help="List the tasks and how many are already done; run nothing.")
@quiet_option
@json_option
@user_errors
def run(plan, scheduler, results, dry_run, quiet, as_json):
    """Expand PLAN (YAML) into tasks of one model x one benchmark x a group of layers and run
    the tasks not yet in the results store. Workers write the records themselves, so a crash,
    Ctrl-C or lost worker loses at most the tasks in flight: run the same command again to
    finish. One progress bar counts all tasks."""
    from ..parallel import make_executor
    from ..plans import load_plan, pending_tasks, run_plan

    expanded = load_plan(plan, results=results)
    if dry_run:
        pending = pending_tasks(expanded)
        if as_json:
            click.echo(dumps_json({"results": str(expanded.results), "tasks": len(expanded.tasks),
                                   "pending": [t.describe() for t in pending]}, indent=2))
            return
        for task in pending:
            click.echo(task.describe())
        click.echo(f"{len(expanded.tasks)} task(s), {len(expanded.tasks) - len(pending)} done, "
                   f"{len(pending)} to run; results in {expanded.results}")
        return
    try:
        with make_executor(scheduler) as executor:
            summary = run_plan(expanded, executor, progress=not quiet)
    except KeyboardInterrupt:
        click.echo("interrupted: finished records are kept; run the same command again to resume", err=True)
        raise SystemExit(130) from None
    summary.update(results=str(expanded.results), executor=executor.describe())
    if as_json:
        click.echo(dumps_json(summary, indent=2))
    else:
        click.echo(f"{summary['ran']} task(s) run on {summary['executor']}, {summary['already_done']} already done, "
                   f"{summary['written']} record(s) written to {summary['results']} in {summary['seconds']:.1f} s")
        for task, error in summary["failed"]:
            click.echo(f"failed: {task}: {error}", err=True)
    if summary["failed"]:
        raise SystemExit(2)
