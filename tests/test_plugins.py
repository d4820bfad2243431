"""Plugins: a package installed beside brainalign adds a model, a benchmark, an importer and a checkpoint
format through entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "plugin_package"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The test plugin package, built and pip-installed (not editable) into its own folder."""
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(PLUGIN)], check=True, capture_output=True, timeout=300)
    assert list(site.glob("brainalign_labplugin-*.dist-info"))
    return site


def _brainalign(site: Path | None, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "brainalign", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_an_installed_plugin_adds_its_model_and_benchmark(plugin_site):
    models = _brainalign(plugin_site, "models", "list", "lab_*")
    assert models.returncode == 0, models.stderr
    assert "lab_pixels" in models.stdout
    benchmarks = _brainalign(plugin_site, "benchmarks", "list", "--json")
    assert benchmarks.returncode == 0, benchmarks.stderr
    assert "lab.V1" in benchmarks.stdout and "sim.V1" in benchmarks.stdout
    # the broken entry point is skipped with one warning line naming it, and the rest still works
    warnings = [line for line in benchmarks.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: plugin 'broken'"), benchmarks.stderr
    assert "Traceback" not in benchmarks.stderr


def test_without_the_plugin_its_names_are_unknown():
    listing = _brainalign(None, "benchmarks", "list", "--json")
    assert listing.returncode == 0 and "lab.V1" not in listing.stdout
    unknown = _brainalign(None, "models", "layers", "lab_pixels")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: ")


def test_a_plugin_model_on_a_plugin_benchmark_scores_like_the_builtins(plugin_site, tmp_path):
    """lab_pixels on lab.V1 is pixels on sim.V1 under other names: the same numbers to 1e-12."""
    scores = {}
    for model, benchmark in (("lab_pixels", "lab.V1"), ("pixels", "sim.V1")):
        run = _brainalign(plugin_site, "score", model, "--benchmark", benchmark, "--protocol", "brainscore",
                          "--results", str(tmp_path / model), "--json", "--quiet")
        assert run.returncode == 0, run.stderr
        [record] = json.loads(run.stdout)
        assert record["benchmark"]["identifier"] == benchmark
        scores[model] = record["score"]
    for field in ("raw", "ceiling", "ceiled"):
        assert scores["lab_pixels"][field] == pytest.approx(scores["pixels"][field], abs=1e-12)


_GUESS = ("import sys, json; from brainalign.neural.importers import guess_importer, list_importers; "
          "importer = guess_importer(sys.argv[1]); assembly = importer.open(sys.argv[1]); "
          "print(json.dumps([importer.name, sorted(list_importers()), assembly.values.tolist(), "
          "assembly['stimulus_id'].values.tolist(), assembly['neuroid_id'].values.tolist()]))")


def test_an_installed_plugin_adds_its_importer(plugin_site, tmp_path):
    """guess_importer finds the plugin's importer for its own format, and its assembly holds the file's counts."""
    table = tmp_path / "session1.spikes.csv"
    table.write_text("stimulus_id,repetition,neuroid_id,count\n"
                     "a,0,n1,1\na,0,n2,2\na,1,n1,3\na,1,n2,4\nb,0,n1,5\nb,0,n2,6\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(plugin_site), os.environ.get("PYTHONPATH"))
                                                      if p))
    run = subprocess.run([sys.executable, "-c", _GUESS, str(table)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    name, installed, values, stimuli, neuroids = json.loads(run.stdout)
    assert name == "lab-spikes" and {"lab-spikes", "generic", "brainscore"} <= set(installed)
    assert values == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] and stimuli == ["a", "a", "b"] and neuroids == ["n1", "n2"]
    # without the plugin, the same file is only a CSV of numbers to the generic (fallback) importer
    without = subprocess.run([sys.executable, "-c", "import sys; from brainalign.neural.importers import "
                              "guess_importer; print(guess_importer(sys.argv[1]).name)", str(table)],
                             capture_output=True, text=True, timeout=300)
    assert without.returncode == 0 and without.stdout.strip() == "generic", without.stderr


def test_an_installed_plugin_adds_its_regression(plugin_site, tmp_path):
    """--metric lists the plugin's regression from its entry point's name, and scoring with it gives the
    numbers of the same file run directly (tests/test_regressions.py checks those against scikit-learn)."""
    help_text = _brainalign(plugin_site, "score", "--help")
    assert help_text.returncode == 0 and "[lstsq|pls|ridge]" in help_text.stdout, help_text.stderr
    run = _brainalign(plugin_site, "score", "pixels", "--benchmark", "sim.V1", "--metric", "lstsq", "--bootstrap",
                      "0", "--results", str(tmp_path / "cli"), "--json", "--quiet")
    assert run.returncode == 0, run.stderr
    [record] = json.loads(run.stdout)
    assert record["metric"]["name"] == "lstsq_predictivity" and record["metric"]["regression"] == "lstsq"
    direct = subprocess.run(
        [sys.executable, "-c", "import json, runpy, sys; runpy.run_path(sys.argv[1]); from brainalign import api; "
         "from brainalign.benchmarks.options import ScoreOptions; [r] = api.score('pixels', benchmarks=['sim.V1'], "
         "results=sys.argv[2], progress=False, options=ScoreOptions(regression='lstsq', n_boot=0)); "
         "print(json.dumps(r['score']))", str(PLUGIN / "brainalign_labplugin" / "regressions.py"), str(tmp_path / "py")],
        capture_output=True, text=True, timeout=300)
    assert direct.returncode == 0, direct.stderr
    assert record["score"] == json.loads(direct.stdout)
    without = _brainalign(None, "score", "pixels", "--benchmark", "sim.V1", "--metric", "lstsq")
    assert without.returncode == 2 and without.stderr.startswith("error: ") and "'lstsq' is not one of" in without.stderr
def test_an_installed_plugin_adds_its_checkpoint_format(plugin_site, tmp_path):
    """`--checkpoint-format auto` finds the plugin's format for its files and loads the `trunk.` weights."""
    import torch

    state = {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.tensor([1.0, -1.0])}
    path = tmp_path / "lab.pt"
    torch.save({"lab_version": 1, "net": {**{f"trunk.{k}": v for k, v in state.items()},
                                          "trunk.head.weight": torch.zeros(1), "ema.weight": torch.zeros(1)}}, path)
    formats = _brainalign(plugin_site, "models", "formats", "--json")
    assert formats.returncode == 0, formats.stderr
    names = [row["name"] for row in json.loads(formats.stdout)]
    assert names[0] == "lab" and "moco" in names and names[-1] == "plain"
    inspected = _brainalign(plugin_site, "models", "inspect", str(path), "--json")
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert (info["format"], info["codebase"], info["entry"], info["prefix_stripped"]) == (
        "lab", "the lab's trainer", "net", "trunk.")
    assert (info["keys"], info["parameters"], info["dropped"], info["other"]) == (2, 8, 2, 0)
    without = _brainalign(None, "models", "inspect", str(path), "--json")
    assert without.returncode == 2 and "is not a plain checkpoint" in without.stderr     # unknown layout: one line


def test_with_a_plugin_installed_scoring_files_leaves_dask_to_xarray(plugin_site, scoring_files):
    """A plugin's regression or importer may use dask: with any plugin installed, `score --activations`
    in its own process does not hide dask from xarray (which then imports it), and scores with the
    plugin's regression."""
    probe = ("import sys; from brainalign.cli import main; sys.argv = ['brainalign', *sys.argv[1:]]\n"
             "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
             "sys.stderr.write(f'PROBE {code} {sys.modules.get(\"dask\") is not None}')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(plugin_site), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-c", probe, "score", "--activations", "acts.nc", "--assembly", "v4.nc",
                           "--metric", "lstsq", "--bootstrap", "0", "--results", "r"],
                          cwd=scoring_files, env=env, capture_output=True, text=True, timeout=300)
    assert done.stderr.strip().endswith("PROBE 0 True"), done.stderr
