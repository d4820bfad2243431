"""Run every speed and memory benchmark in ``perf/`` and print the table the README shows.

    python perf/run_all.py                      # the README's runs (about an hour on 2 quiet cores)
    python perf/run_all.py --quick              # every script at a smoke-level size (a few minutes)
    python perf/run_all.py --only extraction,predictivity    # runs whose script name contains a word
    python perf/run_all.py --markdown perf/results.md --json perf/results.json

Every ``perf/bench_*.py`` script is discovered and run in a child process (this Python, one at a
time, with the environment listed in :data:`RUNS`, e.g. ``OPENBLAS_NUM_THREADS=1``). The
scripts follow the convention of ``perf/_report.py``: ``--quick`` for a smoke-level size, and a
last stdout line ``{"perf_rows": [...]}`` with each figure, its target and whether it is met. The
table has one line per row, with PASS / FAIL where the row has a target; a script that prints no
such line is listed as "no result row", one that fails or runs out of time as "error" / "timeout",
and the other scripts still run. Scripts named in :data:`RUNS` run with the arguments the README's
figures come from; any other script runs once without arguments. With ``--quick`` the figures
only show that the scripts work (targets are checked, marked "quick").

Exit status: 0 when every target is met and every script gave its rows, else 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SINGLE_BLAS = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: idle OpenMP threads sleep instead of spinning: the process CPU time is then the work done, which
#: bench_extraction reports beside the wall-clock ratio (robust to a shared machine's load)
PASSIVE_OMP = {"OMP_WAIT_POLICY": "PASSIVE"}

#: script name -> the runs the README quotes: (arguments, extra environment). Scripts not listed
#: here run once without arguments.
RUNS = {
    "bench_extraction.py": [(["--images", "128", "--repeats", "5"], PASSIVE_OMP),
                            (["--model", "timm:resnet50", "--images", "64", "--repeats", "3"], PASSIVE_OMP)],
    "bench_predictivity.py": [(["--case", "a"], SINGLE_BLAS)],
    "bench_nayebi.py": [([], SINGLE_BLAS)],
    "bench_rsa_wide.py": [([], {})],
    "bench_rsa_bootstrap.py": [([], {})],
    "bench_memory.py": [([], {}), (["--reduce", "pca:100", "--fit-images", "150"], {}),
                        (["--reduce", "srp:1000"], {})],
    "bench_stimulus_loading.py": [(["--images", "2000", "--repeats", "5"], {})],
    "bench_training.py": [(["--steps", "4", "--repeats", "4", "--threads", "1", "--workers", "1"], {})],
    "bench_cli.py": [(["--repeats", "5"], {})],
}


def discover(folder: Path = HERE, only: list[str] | None = None) -> list[tuple[Path, list[str], dict]]:
    """``(script, arguments, environment)`` of every run, scripts in name order."""
    runs = []
    for path in sorted(folder.glob("bench_*.py")):
        if only and not any(word in path.name for word in only):
            continue
        runs += [(path, list(args), dict(env)) for args, env in RUNS.get(path.name, [([], {})])]
    return runs


def supports_quick(script: Path) -> bool:
    """Whether the script declares a ``--quick`` option (read from its source, without running it)."""
    return '"--quick"' in script.read_text(encoding="utf-8")


def parse_rows(stdout: str) -> list[dict] | None:
    """The rows of the last ``{"perf_rows": [...]}`` line of ``stdout``, or None when there is none."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and '"perf_rows"' in line:
            try:
                rows = json.loads(line)["perf_rows"]
            except (ValueError, KeyError, TypeError):
                return None
            return rows if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) else None
    return None


def run_one(script: Path, args: list[str], env: dict, *, quick: bool, timeout: float) -> dict:
    """Run one script; return its command, rows (or None), status, seconds and output tail."""
    if quick and supports_quick(script):
        args = [*args, "--quick"]
    command = [sys.executable, str(script), *args]
    shown = " ".join(["python", f"{script.parent.name}/{script.name}", *map(shlex.quote, args)])
    if env:
        shown = " ".join(f"{k}={v}" for k, v in env.items()) + " " + shown
    environment = {**os.environ, **env}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    started = time.perf_counter()
    try:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return {"script": script.name, "command": shown, "rows": None, "status": f"timeout after {timeout:.0f} s",
                "seconds": time.perf_counter() - started, "output": out[-2000:]}
    seconds = time.perf_counter() - started
    rows = parse_rows(done.stdout)
    if done.returncode != 0:
        status = f"error (exit {done.returncode})"
    elif rows is None:
        status = "no result row"
    else:
        status = "ok"
    return {"script": script.name, "command": shown, "rows": rows, "status": status, "seconds": seconds,
            "output": (done.stdout + done.stderr)[-2000:]}


def _value(row: dict) -> str:
    value, unit = row.get("value"), row.get("unit") or ""
    if not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:.2e}" if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5) else f"{value:.3g}"
    return f"{text} {unit}".strip() if unit != "x" else f"{text}x"


def _status(row: dict, quick: bool) -> str:
    passed = row.get("pass")
    status = "" if passed is None else "PASS" if passed else "FAIL"
    return f"{status.lower()} (quick)" if quick and status else status


def table(results: list[dict], *, quick: bool) -> list[str]:
    """Markdown table lines: one per result row, one per script run without rows."""
    lines = ["| command | case | measured | value | target | status | note |", "|---|---|---|---|---|---|---|"]
    for result in results:
        command = f"`{result['command']}`"
        if not result["rows"]:
            lines.append(f"| {command} | | | | | {result['status']} | |")
            continue
        for row in result["rows"]:
            cells = [command, row.get("case", ""), row.get("metric", ""), _value(row), row.get("target") or "",
                     _status(row, quick), row.get("note", "")]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
            command = '"'
    return lines


def machine() -> str:
    """One line on where the run happened."""
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Unix
        load = "n/a"
    import torch

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average {load}, "
            f"Python {platform.python_version()}, torch {torch.__version__}, "
            f"CUDA {'yes' if torch.cuda.is_available() else 'no'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke-level sizes (scripts' --quick)")
    parser.add_argument("--only", help="comma-separated words: run only the scripts whose name contains one")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run (default 3600)")
    parser.add_argument("--markdown", type=Path, help="also write the report (Markdown) to this file")
    parser.add_argument("--json", type=Path, help="also write every run's command, status and rows (JSON)")
    parser.add_argument("--scripts", type=Path, default=HERE, help="folder of the bench_*.py scripts (default: perf/)")
    args = parser.parse_args(argv)
    runs = discover(args.scripts, args.only.split(",") if args.only else None)
    if not runs:
        print(f"no bench_*.py script in {args.scripts} matches {args.only!r}", file=sys.stderr)
        return 2
    command = " ".join(["python", "perf/run_all.py", *(argv if argv is not None else sys.argv[1:])])
    started = datetime.datetime.now(datetime.timezone.utc)
    before = machine()
    results = []
    for script, script_args, env in runs:
        print(f"[{len(results) + 1}/{len(runs)}] {script.name} {' '.join(script_args)}", file=sys.stderr, flush=True)
        results.append(run_one(script, script_args, env, quick=args.quick, timeout=args.timeout))
        print(f"    {results[-1]['status']} in {results[-1]['seconds']:.0f} s", file=sys.stderr, flush=True)
        if results[-1]["status"].startswith(("error", "timeout")):
            print("    " + results[-1]["output"].strip().replace("\n", "\n    ")[-1500:], file=sys.stderr)
    finished = datetime.datetime.now(datetime.timezone.utc)
    header = [f"brainalign perf: `{command}`, {started:%Y-%m-%d %H:%M}-{finished:%H:%M} UTC"
              + (" (quick: smoke-level sizes, not the README's figures)" if args.quick else ""),
              f"- machine at start: {before}", f"- machine at end: {machine()}", ""]
    lines = header + table(results, quick=args.quick)
    lines += ["", "- run times: " + ", ".join(f"{r['command']} {r['seconds']:.0f} s" for r in results)]
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"command": command, "started": started.isoformat(),
                                         "finished": finished.isoformat(), "machine": before, "quick": args.quick,
                                         "runs": results}, indent=1), encoding="utf-8")
    failed = any(r["status"] != "ok" or any(row.get("pass") is False for row in r["rows"]) for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
