"""Leaderboard tables, CSV / HTML / Markdown reports: numbers against hand-computed values."""

import re
from statistics import mean

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_reports_data import BENCHMARKS, LAYERS, MODELS, all_records, expected_score, neural_record

from brainalign import api
from brainalign.cli import main
from brainalign.reports import ResultsStore, area_scores, format_table, layer_table, leaderboard, summary
from brainalign.records import new_record, stamp


def _record(layer, selection, heldout, *, spec="m"):
    return new_record(
        model={"spec": spec, "weights_sha256": "ab" * 32, "seed": 0, "checkpoint": None},
        benchmark={"identifier": "sim.V1", "version": "1", "region": "V1", "species": "macaque"},
        layer=layer, metric={"name": "pls_predictivity", "protocol": "brainscore"},
        score={"raw": 0.5, "error": 0.01, "ceiling": 0.8, "ceiled": 0.3125, "convention": "r2/c",
               "n_stimuli": 100, "n_neuroids": 10, "n_units": 50},
        layer_selection={"selection_raw": selection, "heldout_raw": 0.4, "heldout_ceiling": 0.8,
                         "heldout_ceiled": heldout})


def test_leaderboard_commits_on_selection_and_reports_heldout():
    records = [_record("l1", 0.6, 0.30), _record("l2", 0.7, 0.25), _record("l3", 0.5, 0.90),
               _record("l1", 0.2, 0.10, spec="other")]
    board = leaderboard(layer_table(records))
    best = board.set_index("model").loc["m (seed 0)"]
    assert best["layer"] == "l2"            # best on the selection half ...
    assert best["score"] == pytest.approx(0.25)  # ... scored on the held-out half, not l3's 0.90
    assert best["n_layers"] == 3 and best["commitment"] == "held-out"
    wide = summary(board)
    assert list(wide.index) == ["m (seed 0)", "other (seed 0)"]
    assert wide.loc["other (seed 0)", "mean"] == pytest.approx(0.10)


@pytest.fixture(scope="module")
def synthetic():
    records = all_records()
    layers = layer_table(records)
    return records, layers, leaderboard(layers)


def test_layer_table_has_every_scored_record_and_marks_one_committed_layer(synthetic):
    records, layers, board = synthetic
    assert len(layers) == len(MODELS) * len(BENCHMARKS) * len(LAYERS) + 2   # + RSA + psychometric; not the gaze record
    assert list(layers.loc[layers["model"].str.startswith("pixels"), "depth"].unique()) == [0, 1, 2, 3]
    committed = layers[layers["committed"]]
    assert len(committed) == len(board) == len(MODELS) * len(BENCHMARKS) + 2
    for label, (_, _, _, _, _, _, best) in MODELS.items():
        rows = committed[committed["weights_sha256"] == (label.encode().hex() * 64)[:64]]
        assert set(rows.loc[rows["metric"] == "pls_predictivity", "layer"]) == {LAYERS[best]}


def test_area_means_and_overall_by_hand(synthetic):
    _, _, board = synthetic
    areas = area_scores(board)
    top = areas.loc["timm:resnet18 @ rn18-ep=30.ckpt [73696d63]"]
    mouse = mean(expected_score("simclr-e30", b) for b in ("sim.VISp", "sim.VISl"))
    assert top["mouse"] == pytest.approx(mouse)
    assert top["V1"] == pytest.approx(expected_score("simclr-e30", "sim.V1"))
    assert top["behaviour"] == pytest.approx(0.9)
    assert top["overall"] == pytest.approx(mean([mouse, top["V1"], top["V2"], 0.9]))
    alexnet = areas.loc["alexnet_bn64 @ alexnet.pth [73757065]"]
    assert alexnet["V1"] == pytest.approx(mean([expected_score("supervised", "sim.V1"), 0.5]))   # PLS and RSA
    assert alexnet["coverage"] == pytest.approx(5 / 6) and pd.isna(alexnet["behaviour"])
    rsa = board[(board["metric"] == "rsa")].iloc[0]
    assert rsa["commitment"] == "same data" and (rsa["raw_full_ci_low"], rsa["raw_full_ci_high"]) == (0.25, 0.35)
    assert pd.isna(rsa["score_ci_low"])  # the raw interval is never printed beside the ceiled score


def test_every_score_column_carries_its_own_interval():
    record = neural_record("pixels", "sim.V1", 0, heldout_shift=-0.02)
    record["score"].update(ci_low=0.534, ci_high=0.636, ci={"raw": [0.534, 0.636], "ceiled": [0.30, 0.50]})
    record["layer_selection"]["heldout_ci"] = {"raw": [0.11, 0.29], "ceiled": [0.02, 0.10]}
    [row] = leaderboard(layer_table([record])).to_dict("records")
    assert row["raw_heldout"] == pytest.approx(0.18) and (row["raw_heldout_ci_low"], row["raw_heldout_ci_high"]) == (0.11, 0.29)
    assert (row["score_ci_low"], row["score_ci_high"]) == (0.02, 0.10)
    assert row["raw_full"] == pytest.approx(0.2) and (row["raw_full_ci_low"], row["raw_full_ci_high"]) == (0.534, 0.636)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    store = ResultsStore(root / "results")
    for record in all_records():
        store.write(record)
    store.write(neural_record("pixels", "sim.V1", 0, heldout_shift=0.05))     # supersedes one record
    (store.records_dir / "broken.json").write_text('{"schema": "brainalign.score/1", "key"')
    (store.records_dir / "foreign.json").write_text('[1, 2, 3]')
    out = {name: root / name for name in ("board.csv", "layers.csv", "summary.csv", "report.html", "report.md")}
    result = CliRunner().invoke(main, ["report", "--results", str(root / "results"), "--csv", str(out["board.csv"]),
                                       "--layers-csv", str(out["layers.csv"]), "--summary-csv", str(out["summary.csv"]),
                                       "--html", str(out["report.html"]), "--markdown", str(out["report.md"])])
    return result, out


def test_report_cli_skips_corrupt_files_with_a_warning(written):
    result, out = written
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and "broken.json" in warnings[0] and "foreign.json" in warnings[1]
    assert all(path.is_file() for path in out.values())


def test_csv_tables(written):
    _, out = written
    layers, board, tidy = (pd.read_csv(out[n]) for n in ("layers.csv", "board.csv", "summary.csv"))
    for column in ("raw", "ceiling", "ceiled", "convention", "raw_ci_low", "raw_ci_high", "ceiled_ci_low",
                   "heldout_raw_ci_low", "heldout_ceiled_ci_high", "n_stimuli", "n_neuroids",
                   "protocol", "benchmark_version", "weights_sha256", "objective", "architecture", "epoch"):
        assert column in layers.columns, column
    assert len(layers) == len(MODELS) * len(BENCHMARKS) * len(LAYERS) + 2
    assert not layers.duplicated(["model", "benchmark", "metric", "layer"]).any()
    assert len(board) == layers["committed"].sum()
    pixel_v1 = board[(board["model"] == "pixels (seed 0)") & (board["benchmark"] == "sim.V1")].iloc[0]
    assert pixel_v1["raw_heldout"] == pytest.approx(0.2 + 0.05)        # the superseding record is reported
    overall = tidy[tidy["level"] == "overall"].set_index("model")["score"]
    assert overall.idxmax() == "timm:resnet18 @ rn18-ep=30.ckpt [73696d63]"
    assert set(tidy["level"]) == {"benchmark", "area", "overall"}


def test_markdown_summary(written):
    _, out = written
    text = out["report.md"].read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == len(MODELS)
    assert rows[0].split(" | ")[1] == r"timm:resnet18 @ rn18-ep=30.ckpt \[73696d63\]"   # brackets escaped
    assert "2 unreadable file(s) skipped" in text


def test_html_is_self_contained_and_has_every_section(written):
    _, out = written
    html = out["report.html"].read_text()
    without_namespaces = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|//cdn|@import|url\(|<script[^>]+src=|<img[^>]+src=\"(?!data:)", without_namespaces)
    assert html.count("<svg") == (len(MODELS)           # layer profiles
                                  + 2                   # model and neural RDM of the RSA record
                                  + 1                   # psychometric curve
                                  + 1)                  # score vs epoch of the simclr run (3 epochs)
    assert "RDMs, sim.V1 · conv3" in html and "psychometric: psy.contrast (fit: threshold 0.25, width 0.3)" in html
    assert "score vs training epoch: simclr/rn18 (simclr)" in html
    assert re.search(r"<td>eye-tracking</td><td class=\"num\">1</td>", html)        # unknown kind listed
    assert "<code>broken.json</code>" in html and "1 superseded record(s)" in html
    assert html.count('<tr data-model=') == len(MODELS) + len(MODELS) * len(BENCHMARKS) + 2


def test_report_errors_are_one_line_and_leave_no_file(tmp_path):
    runner = CliRunner()
    empty = runner.invoke(main, ["report", "--results", str(tmp_path / "none")])
    assert empty.exit_code == 2 and empty.stderr.startswith("error: no score records")
    store = ResultsStore(tmp_path / "r")
    store.write(neural_record("pixels", "sim.V1", 0))
    (tmp_path / "exists.html").write_text("mine")
    refused = runner.invoke(main, ["report", "--results", str(tmp_path / "r"), "--csv", str(tmp_path / "new.csv"),
                                   "--html", str(tmp_path / "exists.html")])
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert (tmp_path / "exists.html").read_text() == "mine" and not (tmp_path / "new.csv").exists()


def test_scored_model_carries_metadata_into_the_report(tmp_path):
    records = api.score("pixels", benchmarks=["sim.V1"], results=tmp_path, objective="SimCLR", epoch=3, progress=False)
    model = records[0]["model"]
    assert (model["objective"], model["epoch"], model["architecture"]) == ("simclr", 3, "pixels")
    assert model["metadata_source"] == {"objective": "flag", "epoch": "flag", "architecture": "model spec"}
    tables = api.report(tmp_path)
    row = tables["leaderboard"].iloc[0]
    assert (row["objective"], row["epoch"], row["score"]) == ("simclr", 3,
                                                              records[0]["layer_selection"]["heldout_ceiled"])


def test_large_rdms_are_block_averaged_exactly():
    from brainalign.reports.plots import _block_mean, heatmap

    matrix = np.random.default_rng(0).random((120, 120))
    assert np.allclose(_block_mean(matrix, 60), matrix.reshape(60, 2, 60, 2).mean(axis=(1, 3)))
    svg = heatmap(matrix, title="rdm", max_cells=60)
    assert svg.count("<rect") == 60 * 60 and "120→60 block means" in svg


def test_psychometric_records_of_the_psychometrics_package_are_drawn(tmp_path):
    from test_reports_data import model_record

    from brainalign.psychometrics.records import curve_parts
    from brainalign.reports.figures import psychometric_curves

    levels, accuracy = [0.01, 0.1, 1.0], [0.52, 0.7, 0.95]
    curve = {"task": "contrast", "decision": "2afc", "levels": levels, "accuracy": accuracy, "n_trials": [20, 20, 20],
             "chance": 0.5, "human": {"levels": levels, "accuracy": [0.5, 0.8, 0.99]},
             "fit": {"threshold": 0.08, "width": 0.5, "lapse": 0.01, "guess": 0.5, "scale": "log",
                     "x": [0.01, 0.1, 1.0], "prediction": [0.51, 0.72, 0.94]}}
    record = stamp(curve_parts(curve, layer="pixels", seed=0), model=model_record("pixels"))
    drawn = psychometric_curves(record)
    assert drawn["model"] == (levels, accuracy) and drawn["human"][1] == [0.5, 0.8, 0.99]
    assert drawn["fit"] == ([0.01, 0.1, 1.0], [0.51, 0.72, 0.94]) and drawn["log"]
    assert drawn["params"] == {"threshold": 0.08, "width": 0.5, "lapse": 0.01}
    store = ResultsStore(tmp_path / "r")
    store.write(neural_record("pixels", "sim.V1", 0))
    store.write(record)
    tables = api.report(tmp_path / "r", html=tmp_path / "r.html")
    assert len(tables["leaderboard"]) == 1                # a curve record has no leaderboard score
    html = (tmp_path / "r.html").read_text()
    assert "psychometric: psychometric.contrast (fit: threshold 0.08, width 0.5, lapse 0.01)" in html
    assert "log10 stimulus level" in html and 'id="other"' not in html


def test_humans_are_a_reference_observer_not_a_model(tmp_path):
    from brainalign.psychometrics.records import HUMANS_MODEL, human_parts

    levels = [0.01, 0.1, 1.0]
    result = {"curve": {"task": "contrast", "levels": levels, "accuracy": [0.5, 0.8, 0.99], "n_trials": [9, 9, 9],
                        "chance": 0.0625, "fit": {"threshold": 0.05, "scale": "log"}},
              "consistency": {"kappa": 0.4}, "n_trials": 27, "experiment": "contrast",
              "accuracy_per_condition": {}, "observers": ["subject-01", "subject-02"]}
    human = stamp(human_parts(result), model=dict(HUMANS_MODEL))
    store = ResultsStore(tmp_path / "r")
    store.write(neural_record("pixels", "sim.V1", 0))
    store.write(human)
    api.report(tmp_path / "r", html=tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "seed None" not in html and "sha256 none" not in html and 'data-model="humans"' not in html
    observers = html[html.index('id="observers"'):html.index('id="provenance"')]
    assert "<h3>humans</h3>" in observers and ">human</text>" in observers and ">model</text>" not in observers


def test_layer_profiles_follow_the_declared_inventory_and_leave_out_logits():
    from brainalign.reports.figures import layer_profile

    inventory = ["act1", "layer1", "layer2", "layer3", "layer4", "global_pool"]
    records = []
    for depth, layer in enumerate(["global_pool", "layer2", "act1", "layer4", "layer1", "layer3"]):
        record = neural_record("pixels", "sim.V1", 0)
        record["model"]["layer_inventory"] = inventory
        record["layer"] = layer
        records.append(record)
    behaviour = new_record(model=records[0]["model"], kind="psychometric", layer="logits",
                           benchmark={"identifier": "model-vs-human.edge.error-consistency", "version": "1",
                                      "region": "behaviour", "species": "human"},
                           metric={"name": "error_consistency"}, score={"raw": 0.2, "ceiling": 0.4, "ceiled": 0.5})
    layers = layer_table(records + [behaviour])
    neural = layers[layers["kind"] == "neural"].sort_values("depth")
    assert list(neural["layer"]) == inventory
    svg = layer_profile(layers, "pixels (seed 0)")
    ticks = re.findall(r'class="tick">([^<]+)</text>', svg)
    assert [t for t in ticks if not t.replace(".", "").replace("-", "").isdigit()] == inventory   # no "logits"


def test_more_than_ten_benchmarks_get_distinct_colours_and_whole_legends():
    from brainalign.reports.plots import Series, distinct_colors, line_chart

    for n in (4, 10, 14, 20, 31):
        assert len(set(distinct_colors(n))) == n
    names = [f"imported.a-long-dataset-name.VIS{i:02d} (rsa_spearman)" for i in range(14)]
    svg = line_chart([Series(name, [0, 1], [0.1, 0.2], color=c) for name, c in zip(names, distinct_colors(14))],
                     title="layer profile: timm:resnet18 @ rn18-ep=30.ckpt [73696d63] on every benchmark",
                     x_label="layer", y_label="raw", x_ticks=[(0, "layer1.0.add"), (1, "global_pool")])
    width, height = map(float, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    assert all(f">{name}</text>" in svg for name in names)            # every legend entry, in full
    legend_x = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="legend">', svg)]
    assert max(legend_x) + 6.2 * max(map(len, names)) <= width        # ... inside the figure
    legend_y = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" class="legend">', svg)]
    assert max(legend_y) <= height and 7 * len("layer profile: timm:resnet18 @ rn18-ep=30.ckpt [73696d63] on every "
                                              "benchmark") <= width


def test_rsa_style_ci_list_and_ceiling_bounds_reach_the_tables():
    record = neural_record("pixels", "sim.V1", 0)
    record["score"].update(ci=[0.1, 0.3], ceiling_lower=0.6, ceiling_upper=0.8)
    [row] = layer_table([record]).to_dict("records")
    assert (row["raw_ci_low"], row["raw_ci_high"], row["ceiling_lower"], row["ceiling_upper"]) == (0.1, 0.3, 0.6, 0.8)


@pytest.mark.parametrize("region, species, kind, area", [
    ("IT", "human", "neural", "IT"),            # human fMRI RDMs of IT are neural data
    ("VISp", "mouse", "neural", "mouse"),
    ("V4", "macaque", "neural", "V4"),
    ("behaviour", "human", "neural", "behaviour"),
    (None, "human", "neural", "behaviour"),
    ("V1", "human", "psychometric", "behaviour"),
])
def test_area_of_a_benchmark(region, species, kind, area):
    from brainalign.reports.leaderboard import area_of
    assert area_of(region, species, kind) == area


def test_supplementary_benchmarks_are_shown_but_not_averaged():
    board = pd.DataFrame({"model": ["m", "m"], "measure": ["it.rsa", "it.cka"], "area": ["IT", "IT"],
                          "ranked": [True, False], "score": [0.2, 0.6]})
    areas = area_scores(board)
    assert areas.loc["m", "IT"] == pytest.approx(0.2) and areas.loc["m", "overall"] == pytest.approx(0.2)


def test_terminal_table_fits_the_width_and_says_what_it_left_out(synthetic):
    _, _, board = synthetic
    wide = summary(board)
    full = format_table(wide)
    assert max(map(len, full.splitlines())) > 60 and "more column" not in full
    narrow = format_table(wide, max_width=60)
    lines = narrow.splitlines()
    assert all(len(line) <= 60 for line in lines[:-1])
    shown = lines[0].split()
    hidden = wide.shape[1] - sum(c in lines[0] for c in wide.columns)
    assert shown[0] == "mean" and lines[-1] == f"({hidden} more column(s) left out to fit 60 characters; --csv has all)"
    assert hidden > 0


def test_terminal_table_falls_back_to_area_means(synthetic):
    from brainalign.reports.leaderboard import terminal_table

    _, _, board = synthetic
    assert terminal_table(board, max_width=400) == format_table(summary(board))
    lines = terminal_table(board, max_width=100).splitlines()
    assert lines[0].split() == ["overall", "coverage", "mouse", "V1", "V2", "behaviour"]
    assert all(len(line) <= 100 for line in lines)
    top = area_scores(board).sort_values("overall", ascending=False)
    assert lines[2].startswith(top.index[0]) and f"{top['overall'].iloc[0]:.3f}" in lines[2]


def test_score_lines_print_intervals_beside_their_numbers_and_no_nan():
    from brainalign.cli.core import _committed_lines, _score_line

    record = neural_record("pixels", "sim.V1", 0, heldout_shift=-0.02)
    record["score"].update(error=float("nan"), ci_low=0.534, ci_high=0.636,
                           ci={"raw": [0.534, 0.636], "ceiled": [0.30, 0.50]})
    record["layer_selection"]["heldout_ci"] = {"raw": [0.11, 0.29], "ceiled": [0.02, 0.10]}
    line = _score_line(record)
    assert "nan" not in line and "±" not in line
    assert "raw 0.200 [0.534, 0.636]" in line and "ceiled(r2/c) 0.050 [0.300, 0.500]" in line
    heldout = f"{record['layer_selection']['heldout_ceiled']:.3f}"
    assert f"held-out ceiled {heldout} [0.020, 0.100]" in line
    single = neural_record("pixels", "sim.V1", 1)
    single["score"].update(ceiling=float("nan"), ceiled=float("nan"))
    assert "ceiling — " in _score_line(single) and "nan" not in _score_line(single)
    [committed] = _committed_lines([record])
    assert committed == ("committed layer: sim.V1 -> conv1 (best on the selection stimuli, scored on the held-out "
                         f"ones); score {heldout} [0.020, 0.100]")
