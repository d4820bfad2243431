"""The regression registry: built-ins as modules, names listed without importing science, and the
README's one-file regression (tests/plugin_package/brainalign_labplugin/regressions.py) scored."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.linear_model import LinearRegression

from brainalign import api
from brainalign.benchmarks.options import ScoreOptions
from brainalign.errors import InputError
from brainalign.metrics import regressions
from brainalign.metrics.predictivity import cross_validated_predictivity
from brainalign.metrics.regressions import Regression, SplitPredictions, get_regression, register_regression
from brainalign.metrics.regressions.pls import PLS
from brainalign.metrics.splits import brainscore_splits
from cli_helpers import error_line, run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "plugin_package" / "brainalign_labplugin" / "regressions.py"


@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry for one test, so that what it registers is gone afterwards."""
    monkeypatch.setattr(regressions, "_REGISTRY", dict(regressions._REGISTRY))
    return regressions._REGISTRY


@pytest.fixture
def lstsq(registry):
    """The README's example regression, registered by running its file."""
    spec = importlib.util.spec_from_file_location("readme_lstsq", EXAMPLE)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return get_regression("lstsq")


def _problem(n, p, t, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32) + 2.0
    return X, X[:, :4].astype(np.float64) @ rng.standard_normal((4, t)) + rng.standard_normal((n, t))


def test_the_readme_shows_the_example_file_verbatim():
    assert EXAMPLE.read_text().strip() in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("n_features", [20, 150])  # over- and under-determined (minimum norm)
def test_the_readme_regression_equals_sklearn_linear_regression(lstsq, n_features):
    X, Y = _problem(60, n_features, 5, seed=n_features)
    splits = brainscore_splits(60)
    result = cross_validated_predictivity(X, Y, splits=splits, regression="lstsq")
    for (train, test), prediction, r in zip(splits, result.predictions, result.per_split_neuroid):
        reference = LinearRegression().fit(X[train].astype(np.float64), Y[train]).predict(X[test].astype(np.float64))
        np.testing.assert_allclose(prediction, reference, rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(r, [pearsonr(reference[:, j], Y[test, j]).statistic for j in range(5)],
                                   rtol=1e-7, atol=1e-8)
    assert result.raw == pytest.approx(np.mean(np.median(result.per_split_neuroid, axis=1)), abs=1e-15)
    assert result.alphas is None


def test_a_registered_regression_is_scored_through_score_options(registry, tmp_path):
    """A regression registered under another name that fits PLS gives the pls records' numbers exactly,
    through the benchmark's protocol, its ceiling and the bootstrap; the record names the regression."""

    @register_regression
    class PLSAgain(PLS):
        name = "pls_again"

    records = {}
    for name in ("pls", "pls_again"):
        options = ScoreOptions(protocol="brainalign", regression=name, n_boot=20)
        records[name] = api.score("pixels", benchmarks=["sim.V1"], results=tmp_path / name, progress=False,
                                  options=options)
    [ours], [theirs] = records["pls_again"], records["pls"]
    assert ours["metric"]["regression"] == "pls_again" and ours["metric"]["name"] == "pls_again_predictivity"
    assert json.dumps(ours["score"], sort_keys=True) == json.dumps(theirs["score"], sort_keys=True)
    assert json.dumps(ours["layer_selection"], sort_keys=True) == json.dumps(theirs["layer_selection"],
                                                                             sort_keys=True)


def test_listing_and_checking_names_imports_no_science():
    code = ("import sys; from brainalign.metrics.regressions import regression_names; "
            "from brainalign.benchmarks.options import REGRESSIONS, ScoreOptions; ScoreOptions(regression='ridge'); "
            "import brainalign.cli; "
            "print(list(regression_names()), list(REGRESSIONS), [m for m in ('numpy', 'scipy', 'sklearn', 'torch') "
            "if m in sys.modules])")
    run_ = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run_.returncode == 0, run_.stderr
    assert run_.stdout.strip() == "['pls', 'ridge'] ['pls', 'ridge'] []"


def test_built_in_regressions_are_the_modules_named_after_them():
    package = Path(regressions.__file__).parent
    modules = sorted(path.stem for path in package.glob("*.py") if not path.stem.startswith("_"))
    assert modules == ["pls", "ridge"] == [name for name in regressions.regression_names()]
    for name in modules:
        regression = get_regression(name)
        assert regression.name == name and regression.__module__ == f"brainalign.metrics.regressions.{name}"


def test_a_module_dropped_into_the_package_is_a_built_in(registry, monkeypatch, tmp_path):
    """The README's file saved as brainalign/metrics/regressions/lstsq.py (here: a folder added to the
    package's path) is listed by name without being imported, and imported when scored."""
    (tmp_path / "lstsq.py").write_text(EXAMPLE.read_text())
    monkeypatch.setattr(regressions, "__path__", [*regressions.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "brainalign.metrics.regressions.lstsq", raising=False)
    assert "lstsq" in regressions.regression_names() and "lstsq" not in registry
    X, Y = _problem(40, 10, 2, seed=2)
    [(train, test)] = splits = brainscore_splits(40)[:1]
    [prediction] = cross_validated_predictivity(X, Y, splits=splits, regression="lstsq").predictions
    assert get_regression("lstsq").__module__ == "brainalign.metrics.regressions.lstsq"
    reference = LinearRegression().fit(X[train].astype(np.float64), Y[train]).predict(X[test].astype(np.float64))
    np.testing.assert_allclose(prediction, reference, rtol=1e-7, atol=1e-8)
    sys.modules.pop("brainalign.metrics.regressions.lstsq")


def test_unknown_names_and_backends_are_input_errors(lstsq):
    X, Y = _problem(40, 10, 2, seed=0)
    with pytest.raises(InputError, match="unknown regression 'rigde'") as caught:
        cross_validated_predictivity(X, Y, splits=brainscore_splits(40), regression="rigde")
    assert "did you mean ridge?" in caught.value.hint and "lstsq, pls, ridge" in caught.value.hint
    with pytest.raises(InputError, match="unknown regression 'lasso'") as caught:
        ScoreOptions(regression="lasso")
    assert caught.value.hint == "use one of lstsq, pls, ridge"
    with pytest.raises(InputError, match="unknown backend 'torch' for the lstsq regression"):
        cross_validated_predictivity(X, Y, splits=brainscore_splits(40), regression="lstsq", backend="torch")
    line = error_line(run("score", "pixels", "--benchmark", "sim.V1", "--metric", "lasso"))
    assert "'lasso' is not one of 'lstsq', 'pls', 'ridge'" in line


def test_a_regression_with_wrong_predictions_or_no_name_is_a_bug(registry):
    @register_regression
    class Short(Regression):
        name = "short"

        def predict_splits(self, X, Y, splits, *, gram):
            return SplitPredictions([Y[test][1:] for _, test in splits])

    X, Y = _problem(40, 10, 2, seed=1)
    with pytest.raises(ValueError, match="regression 'short' returned predictions of shapes"):
        cross_validated_predictivity(X, Y, splits=brainscore_splits(40), regression="short")
    with pytest.raises(RuntimeError, match="registered twice"):
        register_regression(Short)
    with pytest.raises(TypeError, match="not a Regression subclass with a name"):
        register_regression(type("Nameless", (Regression,), {}))
