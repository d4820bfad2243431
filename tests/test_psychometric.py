"""`brainalign psychometric` and `brainalign consistency` end to end, on the real model-vs-human data."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from cli_helpers import error_line as _error_line
from cli_helpers import run
from sklearn.metrics import cohen_kappa_score

from brainalign.psychometrics import humans
from brainalign.psychometrics.imagenet16 import CATEGORIES

HUMAN_CONTRAST = {0.01: .062, 0.03: .150, 0.05: .353, 0.1: .595, 0.15: .734, 0.3: .795, 0.5: .827, 1.0: .856}




def _records(results):
    return [json.loads(p.read_text()) for p in sorted((results / "records").glob("*.json"))]


@pytest.mark.shared_data("model-vs-human")
def test_human_contrast_curve_and_threshold(shared_data, tmp_path):
    result = run("psychometric", "humans", "--experiment", "contrast", "--results", tmp_path / "r",
                 "--plot", tmp_path / "humans.png", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)[0]
    assert record["kind"] == "psychometric" and _records(tmp_path / "r")[0]["key"] == record["key"]
    curve = record["curve"]
    assert dict(zip(curve["levels"], np.round(curve["accuracy"], 3))) == HUMAN_CONTRAST  # METHODS.md
    fit = curve["fit"]
    assert fit["sigmoid"] == "weibull" and fit["guess"] == pytest.approx(1 / 16)
    assert fit["threshold_ci"][0] < fit["threshold"] < fit["threshold_ci"][1]
    assert 0.06 < fit["threshold"] < 0.085          # between the 5 % and 10 % points, nearer 10 %
    assert record["score"]["threshold"] == fit["threshold"]
    residuals = np.interp(np.log(curve["levels"]), np.log(fit["x"]), fit["prediction"]) - np.array(curve["accuracy"])
    assert np.abs(residuals).max() < 0.06           # the fitted curve goes through the data
    assert curve["consistency"]["kappa"] == pytest.approx(0.4370, abs=5e-4)
    from matplotlib.image import imread
    assert imread(tmp_path / "humans.png").std() > 0.05


@pytest.mark.shared_data("model-vs-human", "geirhos2019-edges-silhouettes")
@pytest.mark.parametrize("experiment, folder", [("edge", "edges"), ("silhouette", "filled-silhouettes")])
def test_timm_model_consistency_with_humans(shared_data, tmp_path, experiment, folder):
    result = run("consistency", "timm:test_resnet", "--experiment", experiment, "--results", tmp_path, "-q", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    score, decisions = record["score"], record["curve"]["decisions"]
    images = sorted((shared_data / "geirhos2019-edges-silhouettes" / "stimuli" / folder).rglob("*.png"))
    assert len(decisions) == len(images) == score["n_stimuli"] == 160
    truth = {p.name: p.parent.name for p in images}
    assert set(decisions) == set(truth) and set(decisions.values()) <= set(CATEGORIES)
    model_correct = {name: decisions[name] == truth[name] for name in truth}
    assert score["accuracy"] == pytest.approx(np.mean(list(model_correct.values())))
    trials = humans.load_experiment(experiment)
    kappas = []
    for _, subject in trials.groupby("subj"):
        subject = subject.set_index("image_id")
        kappas.append(cohen_kappa_score(subject["correct"].to_numpy(bool),
                                        [model_correct[i] for i in subject.index]))
    assert score["raw"] == pytest.approx(np.mean(kappas), abs=1e-12)    # kappa = direct computation
    assert score["ceiling"] == pytest.approx({"edge": 0.3184, "silhouette": 0.4757}[experiment], abs=5e-4)
    assert score["human_accuracy"] == pytest.approx(trials["correct"].mean())
    assert _records(tmp_path)[0]["benchmark"]["identifier"] == f"model-vs-human.{experiment}.error-consistency"


def test_parametric_task_curve_from_a_layer_readout(tmp_path):
    levels = "0.005,0.01,0.02,0.04,0.08,0.16,0.32"
    result = run("psychometric", "pixels", "--task", "grating-contrast", "--layer", "pixels", "--n-per-class", 16,
                 "--levels", levels, "--max-features", 256, "--results", tmp_path / "r",
                 "--plot", tmp_path / "curve.svg", "-q", "--json")
    assert result.exit_code == 0, result.output
    curve = json.loads(result.output)[0]["curve"]
    assert curve["n_trials"] == [32] * 7 and curve["chance"] == 0.5
    assert curve["accuracy"][-1] > 0.9 and curve["accuracy"][0] < 0.75     # 0.32 contrast vs 0.005 in noise
    assert 0.005 < curve["fit"]["threshold"] < 0.32
    assert curve["readout"] == {"n_splits": 5, "max_features": 256, "readout_noise": 0.0, "seed": 0, "folds": "pairs"}
    assert (tmp_path / "curve.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    again = run("psychometric", "pixels", "--task", "grating-contrast", "--layer", "pixels", "--n-per-class", 16,
                "--levels", "0.02,0.04,0.08", "--max-features", 256, "--results", tmp_path / "r", "-q", "--json")
    assert json.loads(again.output)[0]["curve"]["accuracy"] == curve["accuracy"][2:5]       # seeded


@pytest.mark.shared_data("model-vs-human", "geirhos2019-edges-silhouettes")
def test_condition_curve_accuracy_matches_the_decisions(shared_data, tmp_path):
    """--logits decisions of a timm model on rotated silhouettes: the record's accuracy is the decisions'."""
    source = shared_data / "geirhos2019-edges-silhouettes" / "stimuli" / "filled-silhouettes"
    for category in sorted(p.name for p in source.iterdir())[:8]:
        (tmp_path / "s" / category).mkdir(parents=True)
        shutil.copy(source / category / f"{category}1.png", tmp_path / "s" / category)
    from brainalign import api
    from brainalign.models import load_model
    from brainalign.psychometrics.conditions import get_condition
    from brainalign.psychometrics.curves import load_images
    from brainalign.psychometrics.imagenet16 import decisions_16
    from brainalign.psychometrics.responses import model_responses
    from brainalign.stimuli import resolve_stimuli

    record = api.psychometric("timm:test_resnet", task="rotation", logits=True, stimuli=str(tmp_path / "s"),
                              results=tmp_path / "r", progress=False)[0]
    curve = record["curve"]
    assert curve["levels"] == [0.0, 90.0, 180.0, 270.0] and curve["fit"] is None and curve["n_trials"] == [8] * 4
    stimuli = resolve_stimuli(str(tmp_path / "s"))
    loaded = load_model("timm:test_resnet")
    images = get_condition("rotation").apply(load_images(stimuli), 90.0)
    decided = decisions_16(model_responses(loaded, images)["logits"])
    truth = [s.split("/")[0] for s in stimuli.stimulus_ids]
    assert curve["accuracy"][1] == pytest.approx(np.mean(decided == np.array(truth)))
    assert curve["human"]["levels"] == [0.0, 90.0, 180.0, 270.0]
    from brainalign.errors import DataError
    with pytest.raises(DataError, match="levels 90 and 450 of condition 'rotation' give identical stimuli"):
        api.psychometric("timm:test_resnet", task="rotation", logits=True, stimuli=str(tmp_path / "s"),
                         levels=[90, 450], results=tmp_path / "r2", progress=False)
    assert not (tmp_path / "r2").exists()


@pytest.mark.shared_data("model-vs-human")
def test_bad_input_gives_one_error_line(shared_data, tmp_path):
    raw = shared_data / "model-vs-human" / "raw-data"
    original = pd.read_csv(raw / "contrast" / "contrast_subject-01_session_1.csv")
    (tmp_path / "missing" / "contrast").mkdir(parents=True)
    original.drop(columns=["category"]).to_csv(tmp_path / "missing" / "contrast" / "s1.csv", index=False)
    line = _error_line(run("psychometric", "humans", "--experiment", "contrast", "--raw-data", tmp_path / "missing"))
    assert "lacks column(s) category" in line
    (tmp_path / "unknown" / "contrast").mkdir(parents=True)
    original.assign(condition=original["condition"].replace("c05", "c07")).to_csv(
        tmp_path / "unknown" / "contrast" / "s1.csv", index=False)
    line = _error_line(run("psychometric", "humans", "--experiment", "contrast", "--raw-data", tmp_path / "unknown",
                           "--results", tmp_path / "r"))
    assert "unknown condition 'c07'" in line
    assert "unknown task 'blur'" in _error_line(run("psychometric", "pixels", "--task", "blur"))
    line = _error_line(run("psychometric", "pixels", "--task", "orientation", "--layer", "pixels", "--levels", "0,8"))
    assert "identical stimuli" in line
    line = _error_line(run("psychometric", "pixels", "--task", "orientation", "--layer", "pixels", "--levels", "4,724"))
    assert "levels 4 and 724" in line
    assert "not available" in _error_line(run("consistency", "pixels", "--experiment", "contrast"))
    assert not (tmp_path / "r").exists()        # no partial records


def test_plot_path_is_checked_before_any_work(tmp_path):
    (tmp_path / "old.png").write_bytes(b"keep")
    line = _error_line(run("psychometric", "pixels", "--task", "grating-contrast", "--layer", "pixels",
                           "--plot", tmp_path / "old.png", "--results", tmp_path / "r"))
    assert "already exists" in line and (tmp_path / "old.png").read_bytes() == b"keep"
    assert "png or .svg" in _error_line(run("psychometric", "humans", "--experiment", "contrast",
                                            "--plot", tmp_path / "x.pdf", "--results", tmp_path / "r"))
    assert not (tmp_path / "r").exists()
