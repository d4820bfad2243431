"""perf/run_all.py: collects every bench script's rows, marks unmet targets, survives scripts without rows."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "perf" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _script(folder, name, body):
    (folder / name).write_text("import json, sys\n" + body)


def test_rows_targets_quick_and_scripts_without_rows(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "perf"))
    try:
        from _report import row
    finally:
        sys.path.remove(str(ROOT / "perf"))
    rows = [row("case 1", "speed-up", 12.0, unit="x", target=">= 10"), row("case 1", "diff", 1e-3, target="<= 1e-6")]
    _script(tmp_path, "bench_a.py", f"print('human text')\nprint(json.dumps({{'perf_rows': {rows!r}}}))\n")
    _script(tmp_path, "bench_b.py", "print('no rows here')\n")
    _script(tmp_path, "bench_c.py", "sys.exit(3)\n")
    _script(tmp_path, "bench_d.py", "# \"--quick\"\nprint(json.dumps({'perf_rows': [{'case': 'q', 'metric': 'm', "
                                    "'value': 1.0 if '--quick' in sys.argv else 2.0}]}))\n")
    _script(tmp_path, "helper.py", "raise SystemExit('not a bench script')\n")
    out = tmp_path / "out.json"
    status = _run_all().main(["--scripts", str(tmp_path), "--quick", "--json", str(out), "--timeout", "120"])
    text = capsys.readouterr().out
    assert status == 1  # one target not met, one script failed
    assert "| 12x | >= 10 | pass (quick) |" in text and "| 0.001 | <= 1e-6 | fail (quick) |" in text
    assert "| no result row |" in text and "| error (exit 3) |" in text
    runs = {r["script"]: r for r in json.loads(out.read_text())["runs"]}
    assert sorted(runs) == ["bench_a.py", "bench_b.py", "bench_c.py", "bench_d.py"]
    assert runs["bench_d.py"]["rows"][0]["value"] == 1.0 and runs["bench_d.py"]["command"].endswith("--quick")
    assert runs["bench_a.py"]["command"] == f"python {tmp_path.name}/bench_a.py"  # no --quick declared


def test_every_perf_script_follows_the_convention():
    for script in sorted((ROOT / "perf").glob("bench_*.py")):
        source = script.read_text()
        assert '"--quick"' in source and "emit(" in source, script.name


def test_registered_runs_name_existing_scripts():
    # a misspelt name in RUNS would silently run that script once without the README's arguments
    scripts = {path.name for path in (ROOT / "perf").glob("bench_*.py")}
    assert set(_run_all().RUNS) <= scripts
