"""A CLI that answers at once: listing commands and usage errors import no torch, xarray or pandas, and
scoring activation files imports no torch at all. Each command runs in a fresh interpreter, which then
reports the heavy packages it imported (timings are measured by perf/bench_cli.py, not here: a shared
machine makes them flaky; the imports are what makes a command slow)."""

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "timm", "torchvision", "xarray", "pandas", "sklearn", "scipy", "rsatoolbox", "matplotlib")

PROBE = """
import json, sys
from brainalign.cli import main
sys.argv = ["brainalign", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
imported = {name.split(".")[0] for name, module in sys.modules.items() if module is not None}
heavy = sorted(imported & set(json.loads(sys.argv_heavy)))
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


def _probe(args, tmp_path, heavy=HEAVY) -> dict:
    """Run ``brainalign ARGS`` in a fresh interpreter; its exit code, output and heavy imports."""
    code = PROBE.replace("sys.argv_heavy", repr(json.dumps(list(heavy))))
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-c", code, json.dumps([str(a) for a in args])], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("PROBE "))
    return {**json.loads(line[len("PROBE "):]), "stdout": done.stdout, "stderr": done.stderr}


@pytest.mark.parametrize("args, code", [
    (["--help"], 0),
    (["models", "list"], 0),
    (["models", "list", "--json"], 0),
    (["benchmarks", "list"], 0),
    (["data", "list"], 0),
    (["results", "list", "--results", "."], 0),
    (["score", "nope", "--benchmark", "sim.V1"], 2),              # unknown model
    (["score", "alexnet_bn64", "--benchmark", "nope"], 2),        # unknown benchmark
    (["score", "alexnet_bn64", "--area", "V9"], 2),               # unknown area
    (["score", "alexnet_bn64", "--bogus"], 2),                    # unknown option
    (["score", "alexnet_bn64", "--benchmark", "sim.V1", "--layers", "features.99"], 2),   # unknown layer
    (["extract", "streamnet_six", "--stimuli", "sim", "--layers", "VISp,nope", "-o", "a.nc"], 2),
    (["compare", "alexnet_bn64", "pixels", "--benchmark", "sim.V1", "--layers-b", "features.3"], 2),
    (["psychometric", "alexnet_bn64", "--task", "contrast", "--layer", "featurs.10"], 2),
    (["score", "zoo:alexnet_bn64", "--benchmark", "sim.V1", "--layers", "featurs.3"], 2),
    (["extract", "nope", "--stimuli", "sim", "-o", "a.nc"], 2),
    (["models", "layers", "nope"], 2),
    (["results", "list", "--results", "typo/"], 2),
    (["train", "--help"], 0),                                      # lists the objectives from the catalog
    (["train", "nope", "--arch", "alexnet_bn64", "--data", "sim", "--epochs", "1", "--out", "run"], 2),
])
def test_listing_and_usage_errors_import_nothing_heavy(args, code, tmp_path):
    out = _probe(args, tmp_path)
    assert out["code"] == code, out["stderr"]
    assert out["heavy"] == [], f"{args} imported {out['heavy']}"
    if code == 2 and args[-1] != "--bogus":
        errors = [ln for ln in out["stderr"].splitlines() if ln.startswith("error: ")]
        assert len(errors) == 1 and "hint:" in errors[0], out["stderr"]


def test_existing_outputs_are_refused_before_any_work(tmp_path):
    (tmp_path / "acts.nc").write_text("mine")
    (tmp_path / "board.csv").write_text("mine")
    for args in (["extract", "alexnet_bn64", "--stimuli", "sim", "-o", "acts.nc"],
                 ["report", "--results", "none", "--csv", "board.csv"]):
        out = _probe(args, tmp_path)
        assert out["code"] == 2 and "already exists" in out["stderr"] and out["heavy"] == [], out
    assert (tmp_path / "acts.nc").read_text() == "mine" and (tmp_path / "board.csv").read_text() == "mine"


def test_models_list_json_lists_zoo_specs_with_descriptions(tmp_path):
    from brainalign.models.registry import list_zoo

    rows = json.loads(_probe(["models", "list", "--json"], tmp_path)["stdout"])
    zoo = [r for r in rows if r["source"] == "zoo"]
    assert [r["spec"] for r in zoo] == list_zoo() and all(r["description"] for r in zoo)
    assert [r["spec"] for r in rows if r["source"] != "zoo"] == ["timm:*", "torchvision:*"]


def test_zoo_index_matches_the_registered_factories():
    import importlib

    from brainalign.models import registry
    from brainalign.models.zoo import MODELS

    for module in {m for m, _ in MODELS.values()}:
        importlib.import_module(f"brainalign.models.zoo.{module}")
    assert sorted(registry._ZOO) == sorted(MODELS)
    for name, (module, description) in MODELS.items():
        assert registry._ZOO[name].__module__ == f"brainalign.models.zoo.{module}"
        assert registry.zoo_factory(name)(seed=0).description == description


def test_training_catalog_matches_the_registered_objectives():
    """`train --help` reads the catalog; every entry says what its class says (no drift)."""
    from brainalign.training.catalog import OBJECTIVES
    from brainalign.training.objectives import get_objective, list_objectives
    from brainalign.training.trainer import objective_options

    assert list(OBJECTIVES) == list_objectives()
    for name, entry in OBJECTIVES.items():
        cls = get_objective(name)
        r = cls.recipe
        assert entry.summary == cls.__doc__.strip().splitlines()[0], name
        assert (entry.architectures, entry.n_views) == (tuple(cls.architectures), cls.n_views), name
        assert entry.recipe == (r.optimizer, r.lr, r.batch_size, r.epochs, r.schedule), name
        assert entry.options == objective_options(cls), name


def test_score_options_alphas_equal_the_ridge_defaults():
    from brainalign.benchmarks.options import DEFAULT_ALPHAS
    from brainalign.metrics.ridge import DEFAULT_ALPHAS as RIDGE

    assert DEFAULT_ALPHAS == RIDGE


def test_benchmarks_list_says_which_real_data_benchmarks_are_hidden(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_SHARED_DATA", str(tmp_path / "absent"))
    out = _probe(["benchmarks", "list"], tmp_path)
    assert out["code"] == 0 and "cowley2023.V4" not in out["stdout"] and "sim.V1" in out["stdout"]
    assert "real-data benchmark(s) hidden" in out["stderr"] and "cowley2023.V4" in out["stderr"]


def test_scoring_activation_files_imports_no_torch(tmp_path, scoring_files):
    """`score --activations A --assembly B` end to end in a fresh interpreter: records written, no torch
    (nor scikit-learn, whose import alone costs about a second: the splits are drawn without it, nor
    rsatoolbox or matplotlib, nor dask, which xarray would import on its first DataArray)."""
    out = _probe(["score", "--activations", "acts.nc", "--assembly", "v4.nc", "--bootstrap", "20",
                  "--results", "r"], tmp_path,
                 heavy=("torch", "timm", "torchvision", "sklearn", "rsatoolbox", "matplotlib", "dask"))
    assert out["code"] == 0, out["stderr"]
    assert out["heavy"] == []
    assert "committed layer: file:v4.nc -> layer" in out["stdout"]
    assert len(list((tmp_path / "r" / "records").glob("*.json"))) == 1


def test_scoring_in_someone_elses_process_leaves_dask_importable(tmp_path, scoring_files):
    """Called through click's CliRunner (a test, a notebook), the command does not own the process:
    dask stays importable after it, and the record equals the one from the command's own process."""
    args = ["score", "--activations", "acts.nc", "--assembly", "v4.nc", "--bootstrap", "20", "--json"]
    own = _probe([*args, "--results", "own"], tmp_path)
    hosted = subprocess.run([sys.executable, "-c", """
import json, sys
from click.testing import CliRunner
from brainalign.cli import main
result = CliRunner().invoke(main, json.loads(sys.argv[1]))
import dask.array
print(result.output)
""", json.dumps([*args, "--results", "hosted"])], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert hosted.returncode == 0, hosted.stderr
    own_record, hosted_record = json.loads(own["stdout"])[0], json.loads(hosted.stdout)[0]
    assert own_record["score"] == hosted_record["score"] and own_record["score"]["raw"] > 0.5


@pytest.mark.parametrize("spec", ["timm:resnet1", "torchvision:resnet1"])
def test_a_misspelt_library_model_is_refused_without_the_library_once_its_names_are_known(spec, tmp_path,
                                                                                           monkeypatch):
    """The first command imports the library to find the name unknown (and remembers the library's
    names); the next refuses it without importing torch, with the same line."""
    monkeypatch.setenv("BRAINALIGN_CACHE", str(tmp_path / "cache"))
    first = _probe(["score", spec, "--benchmark", "sim.V1"], tmp_path)
    second = _probe(["score", spec, "--benchmark", "sim.V1"], tmp_path)
    assert first["code"] == second["code"] == 2
    assert "torch" in first["heavy"] and second["heavy"] == []
    line = f"error: unknown {spec.partition(':')[0]} model 'resnet1' (hint: did you mean resnet18"
    assert first["stderr"].splitlines()[0].startswith(line)
    assert first["stderr"].splitlines()[0] == second["stderr"].splitlines()[0]


def test_the_network_output_and_residual_nodes_pass_the_early_layer_check(tmp_path):
    """`--layer logits` (psychometric) and a residual addition that torch.fx names (left to the built
    model, whose torch.fx may name more) are not refused before the model is built (the built model
    refuses the residual name it lacks)."""
    out = _probe(["psychometric", "alexnet_bn64", "--task", "contrast", "--layer", "logits",
                  "--stimuli", "absent-folder"], tmp_path)
    assert out["code"] == 2 and "unknown layer" not in out["stderr"] and "absent-folder" in out["stderr"]
    out = _probe(["extract", "streamnet_six", "--stimuli", "absent-folder", "--layers", "VISp.add_99", "-o", "a.nc"],
                 tmp_path)
    assert out["code"] == 2 and "unknown layer 'VISp.add_99'" in out["stderr"] and "torch" in out["heavy"]
