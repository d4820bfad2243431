"""brainalign train: seeded views, recipes, checkpoints the loader reads, resume after kill -9, DDP,
scoring as it learns, and a trained network that reads out texture families better than at init."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from brainalign import api
from brainalign.training.augment import augment, view_seed
from brainalign.training.checkpoints import list_checkpoints, read_run
from brainalign.training.data import EpochSampler, ViewDataset, make_loader, training_images
from brainalign.training.objectives import Augmentations, get_objective, list_objectives
from brainalign.training.recipe import lr_factor, scaled_recipe

from cli_helpers import error_line, run

SSL = ("barlow_twins", "instance_recognition", "moco", "rotnet", "simclr", "simsiam", "sparse_autoencoder", "vicreg")
CLI = [sys.executable, "-m", "brainalign.cli"]
TINY = ["--arch", "tang_amit_cnn", "--batch-size", "16", "--workers", "0", "--threads", "1", "-q"]


def test_registered_objectives_and_their_published_constants():
    assert set(SSL) <= set(list_objectives())
    simclr, moco = get_objective("simclr"), get_objective("moco")
    assert (simclr.recipe.optimizer, simclr.recipe.lr, simclr.recipe.batch_size, simclr.blur) == ("lars", 4.8, 4096, True)
    assert (moco.recipe.lr, moco.recipe.batch_size, moco.recipe.schedule) == (0.06, 512, "cosine")
    assert get_objective("instance_recognition").recipe.milestones == (120, 160)
    assert not get_objective("barlow_twins").blur and get_objective("simsiam").blur


def test_linear_scaling_rule_and_schedule():
    recipe = scaled_recipe(get_objective("simclr").recipe, epochs=20, batch_size=None, lr=None, device="cpu")
    assert recipe.batch_size == 64 and recipe.lr == pytest.approx(4.8 * 64 / 4096)
    assert recipe.warmup_epochs == 1  # 10 of 200 published epochs -> 1 of 20
    assert lr_factor(recipe, 0, 10) == pytest.approx(0.1) and lr_factor(recipe, 9, 10) == pytest.approx(1.0)
    assert lr_factor(recipe, 200, 10) == pytest.approx(0.0, abs=1e-12)
    ir = scaled_recipe(get_objective("instance_recognition").recipe, epochs=20, batch_size=32, lr=None, device="cpu")
    assert ir.milestones == (12, 16) and ir.lr == pytest.approx(0.03 * 32 / 256)
    assert lr_factor(ir, 11 * 5, 5) == 1.0 and lr_factor(ir, 12 * 5, 5) == pytest.approx(0.1)
    assert lr_factor(ir, 16 * 5, 5) == pytest.approx(0.01)
    gpu = scaled_recipe(get_objective("simclr").recipe, epochs=200, batch_size=None, lr=None, device="cuda")
    assert (gpu.batch_size, gpu.lr) == (4096, 4.8)


def test_views_depend_on_seed_epoch_index_and_view_only():
    image = torch.rand(3, 40, 48, generator=torch.Generator().manual_seed(1))
    spec = Augmentations(blur_p=0.5)

    def view(*key):
        return augment(image, spec, 32, torch.Generator().manual_seed(view_seed(*key)))

    assert torch.equal(view(0, 1, 5, 0), view(0, 1, 5, 0))
    for other in [(1, 1, 5, 0), (0, 2, 5, 0), (0, 1, 6, 0), (0, 1, 5, 1)]:
        assert not torch.equal(view(0, 1, 5, 0), view(*other))
    assert view(0, 1, 5, 0).shape == (3, 32, 32)


def test_loader_batches_do_not_depend_on_workers_or_processes():
    images = training_images("sim:24")
    dataset = ViewDataset(images, get_objective("simclr").augmentations(), n_views=2, size=32, channels=3,
                          mean=(0.5,) * 3, std=(0.25,) * 3, seed=3)

    def batches(workers, rank=0, world=1):
        sampler = EpochSampler(images.n, global_batch=8, seed=3, rank=rank, world=world)
        sampler.epoch = 2
        return list(make_loader(dataset, sampler, workers=workers, pin_memory=False))

    single, threaded = batches(0), batches(2)
    assert len(single) == 3
    for (a, ia), (b, ib) in zip(single, threaded):
        assert torch.equal(ia, ib) and torch.equal(a, b)
    halves = [batches(0, rank, 2) for rank in (0, 1)]
    for step, (views, index) in enumerate(single):  # the two ranks' halves make up the global batch
        assert torch.equal(torch.cat([halves[0][step][1], halves[1][step][1]]), index)
        assert torch.equal(torch.cat([halves[0][step][0], halves[1][step][0]]), views)


@pytest.mark.parametrize("name", SSL)
def test_every_objective_takes_a_step_and_keeps_heads_out_of_the_backbone(name):
    from brainalign.models import load_model

    backbone = load_model("tang_amit_cnn").module.train().requires_grad_(True)
    options = {"proj_dim": 64} if name in ("barlow_twins", "vicreg", "simsiam") else {}
    torch.manual_seed(0)
    objective = get_objective(name)(backbone, input_size=32, **options)
    objective.configure(n_images=40)
    views = [torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(v)) for v in range(objective.n_views)]
    loss, parts = objective.loss(views, torch.arange(8))
    assert loss.ndim == 0 and np.isfinite(float(loss)) and parts
    loss.backward()
    assert all(p.grad is not None for p in backbone.parameters())
    objective.after_step()
    assert set(backbone.state_dict()) == set(load_model("tang_amit_cnn").module.state_dict())


def test_instance_recognition_bank_update():
    from brainalign.models import load_model

    objective = get_objective("instance_recognition")(load_model("tang_amit_cnn").module.train(), input_size=32,
                                                      negatives=5)
    objective.configure(n_images=10)
    before = objective.bank.clone()
    views = [torch.randn(4, 3, 32, 32)]
    objective.loss(views, torch.tensor([1, 3, 5, 7]))
    z = torch.nn.functional.normalize(objective.head(objective.backbone(views[0])), dim=1).detach()
    objective.after_step()
    expected = torch.nn.functional.normalize(0.5 * before[[1, 3, 5, 7]] + 0.5 * z, dim=1)
    assert torch.allclose(objective.bank[[1, 3, 5, 7]], expected, atol=1e-6)
    assert torch.equal(objective.bank[[0, 2, 4]], before[[0, 2, 4]])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """RotNet on tang_amit_cnn, 3 epochs of sim:96, scored on sim.VISp (one layer) as it learns."""
    out = tmp_path_factory.mktemp("train") / "rotnet"
    summary = api.train("rotnet", arch="tang_amit_cnn", data="sim:96", epochs=3, out=out, batch_size=32, lr=0.05,
                        workers=0, threads=1, score_every=1, benchmarks=["sim.VISp"], layers=["pool2"],
                        progress=False)
    return out, summary


def test_run_folder_layout_lineage_and_loss_falls(trained_run):
    from brainalign.models import load_model
    from brainalign.reports.metadata import model_metadata

    out, summary = trained_run
    losses = [line["loss"] for line in summary["log"]]
    assert losses[-1] < losses[0]
    run_info = read_run(out)
    assert run_info["run"] == summary["run"] and run_info["objective"] == "rotnet"
    assert run_info["recipe"]["published"]["batch_size"] == 192 and run_info["recipe"]["used"]["lr"] == 0.05
    assert len(run_info["data"]["content_sha256"]) == 64 and "brainalign" in run_info["code_version"]
    assert [p.name for p in list_checkpoints(out)] == [f"epoch_{e:04d}.pt" for e in range(4)]
    assert len((out / "log.jsonl").read_text().splitlines()) == 3
    path = list_checkpoints(out)[2]
    loaded = load_model("tang_amit_cnn", checkpoint=path)
    assert loaded.info["checkpoint"]["format"] == "brainalign" and not loaded.info["checkpoint"]["missing"]
    meta = model_metadata("tang_amit_cnn", path)
    assert (meta["objective"], meta["epoch"], meta["run"]) == ("rotnet", 2, summary["run"])
    assert meta["training"]["data_sha256"] == run_info["data"]["content_sha256"] and meta["training"]["seed"] == 0


def test_scored_as_it_learns_and_drawn_as_one_curve(trained_run, tmp_path):
    from brainalign.reports.html import _epoch_charts

    out, summary = trained_run
    assert sum(s["written"] for s in summary["scored"]) == 4  # epochs 0..3, one layer, one benchmark
    again = api.score_run(out, benchmarks=["sim.VISp"], layers=["pool2"], progress=False)
    assert again["ran"] == 0 and again["already_done"] == 4  # resumable: nothing scored twice
    tables = api.report(out / "results", html=tmp_path / "r.html")
    board = tables["leaderboard"]
    assert sorted(board["epoch"].astype(int)) == [0, 1, 2, 3] and board["run"].nunique() == 1
    charts = _epoch_charts(board)
    assert len(charts) == 1 and summary["run"] in charts[0]
    assert "score vs training epoch" in (tmp_path / "r.html").read_text()


def test_plan_run_entry_expands_to_every_checkpoint(trained_run, tmp_path):
    from brainalign.plans import expand_plan

    out, _ = trained_run
    plan = expand_plan({"models": [{"run": str(out), "layers": ["pool2"]}], "benchmarks": ["sim.VISp"],
                        "results": str(tmp_path / "res")})
    assert sorted(Path(t.checkpoint).name for t in plan.tasks) == [f"epoch_{e:04d}.pt" for e in range(4)]
    assert {t.spec for t in plan.tasks} == {"tang_amit_cnn"}


def _final_weights(out: Path) -> dict:
    return torch.load(list_checkpoints(out)[-1], weights_only=True)["model"]


@pytest.mark.slow
def test_resume_after_sigkill_gives_bit_identical_weights(tmp_path):
    args = ["train", "simclr", "--data", "sim:32", "--epochs", "3", "--deterministic", "-o", "hidden_dim=32",
            *TINY]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*CLI, *args, "--out", str(tmp_path / "whole")], check=True, env=env, timeout=300)
    killed = tmp_path / "killed"
    process = subprocess.Popen([*CLI, *args, "--out", str(killed)], env=env)
    deadline = time.time() + 240
    while not (killed / "checkpoints" / "epoch_0001.pt").exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "checkpoints" / "epoch_0003.pt").exists()
    run_id = read_run(killed)["run"]
    subprocess.run([*CLI, *args, "--out", str(killed), "--resume"], check=True, env=env, timeout=300)
    whole, resumed = _final_weights(tmp_path / "whole"), _final_weights(killed)
    assert whole.keys() == resumed.keys()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    assert read_run(killed)["run"] == run_id
    epochs = [json.loads(line)["epoch"] for line in (killed / "log.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]


def _free_port() -> int:
    """A TCP port nothing listens on now (a fixed one clashes with a concurrent test run)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_equals_one_process(tmp_path):
    """RotNet on tang_amit_cnn (no batch norm): two gloo processes with half the global batch each
    must end where one process does, once DDP has averaged their gradients."""
    if shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("torchrun not installed")
    args = ["train", "rotnet", "--data", "sim:32", "--epochs", "2", "--lr", "0.05", *TINY]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    api.train("rotnet", arch="tang_amit_cnn", data="sim:32", epochs=2, lr=0.05, batch_size=16, workers=0, threads=1,
              out=tmp_path / "one", progress=False)
    torchrun = str(Path(sys.executable).parent / "torchrun")
    subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", str(_free_port()), "-m", "brainalign.cli", *args,
                    "--out", str(tmp_path / "two")], check=True, env=env, timeout=300)
    assert read_run(tmp_path / "two")["processes"] == 2
    one, two = _final_weights(tmp_path / "one"), _final_weights(tmp_path / "two")
    start = torch.load(list_checkpoints(tmp_path / "one")[0], weights_only=True)["model"]
    for key in one:
        assert torch.allclose(one[key], two[key], atol=1e-5, rtol=1e-4), key
        assert not torch.equal(one[key], start[key])  # it did train


@pytest.mark.parametrize("args, message", [
    (["train", "nosuch", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "1"], "unknown training objective"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "0"], "--epochs 0"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "1", "-o", "tau=1"], "no option 'tau'"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "1", "-o", "temperature=abc"],
     "temperature='abc' must be a float"),
    (["train", "tang_amit", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "1", "-o", "steps_per_stage=1.5"],
     "steps_per_stage=1.5 must be a int"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "/no/such/dir", "--epochs", "1"], "not an image folder"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "sim:40", "--epochs", "1", "--batch-size", "64"],
     "larger than the 40 training images"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "1", "--score-every", "1"],
     "go together"),
    (["train", "simclr", "--arch", "tang_amit_cnn", "--data", "sim", "--epochs", "1", "--device", "cuda"]
     if not torch.cuda.is_available() else ["train", "simclr", "--arch", "nosuch_arch", "--data", "sim",
                                             "--epochs", "1"], "cuda" if not torch.cuda.is_available() else "nosuch"),
])
def test_bad_input_is_one_line(tmp_path, args, message):
    line = error_line(run(*args, "-q", "--out", tmp_path / "out"))
    assert message in line
    assert not (tmp_path / "out" / "run.json").exists()


def test_existing_run_needs_resume(trained_run):
    out, _ = trained_run
    line = error_line(run("train", "rotnet", "--arch", "tang_amit_cnn", "--data", "sim:96", "--epochs", "3",
                          "--out", out))
    assert "already holds run" in line and "--resume" in line


def test_help_lists_objectives_and_architectures():
    result = run("train", "--help")
    assert result.exit_code == 0
    for name in list_objectives():
        assert f"  {name} " in result.output
    assert "alexnet_bn64_headless" in result.output and "published lars lr 4.8 @ batch 4096" in result.output


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_mixed_precision_trains(tmp_path, precision):
    summary = api.train("simclr", arch="alexnet_bn64_headless", data="sim:256", epochs=2, out=tmp_path / precision,
                        batch_size=128, device="cuda", precision=precision, workers=2, progress=False)
    losses = [line["loss"] for line in summary["log"]]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert read_run(tmp_path / precision)["precision"] == precision


def _texture_family_readout(model, images: torch.Tensor, families: np.ndarray) -> float:
    """4-fold cross-validated accuracy of a logistic readout of texture family from the model's output."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with torch.no_grad():
        features = model.module(model.preprocessing(images)).numpy()
    readout = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.1))
    return float(cross_val_score(readout, features, families, cv=StratifiedKFold(4, shuffle=True, random_state=0)).mean())


@pytest.mark.slow
def test_trained_network_reads_out_held_out_texture_families_better_than_at_init(tmp_path):
    """SimCLR on the procedural pool improves a linear readout of texture family (14 classes) from
    tang_amit_cnn's embedding, on textures drawn from a seed neither training nor the benchmark uses."""
    from brainalign.models import load_model
    from brainalign.stimuli import procedural

    torch.set_num_threads(1)
    held_out, families = [], np.arange(14 * 12) % 14
    for i, family in enumerate(families):
        texture = procedural.render_texture(procedural.TEXTURE_FAMILIES[family], 64, np.random.default_rng([2, i]))
        held_out.append(np.clip((texture - texture.mean()) / texture.std() * procedural.TEXTURE_RMS_CONTRAST + 0.5, 0, 1))
    images = torch.tensor(np.stack(held_out), dtype=torch.float32)[:, None].expand(-1, 3, -1, -1)
    summary = api.train("simclr", arch="tang_amit_cnn", data="sim:256", epochs=6, out=tmp_path / "run", batch_size=64,
                        lr=1.0, workers=1, threads=1, options={"hidden_dim": 128}, progress=False)
    assert summary["log"][-1]["loss"] < summary["log"][0]["loss"]
    at_init = _texture_family_readout(load_model("tang_amit_cnn", seed=0), images, families)
    trained = _texture_family_readout(load_model("tang_amit_cnn", checkpoint=list_checkpoints(tmp_path / "run")[-1]),
                                      images, families)
    assert trained > at_init + 0.05, (at_init, trained)


def test_epoch_chart_draws_each_areas_interval():
    import pandas as pd

    from brainalign.reports.figures import epoch_chart

    points = pd.DataFrame({"epoch": [0.0, 1.0], "overall": [0.1, 0.3], "mouse": [0.1, 0.3],
                           "mouse__low": [0.05, 0.2], "mouse__high": [0.15, 0.4]})
    def error_bars(svg):
        return re.findall(r'<line x1="([\d.]+)" x2="\1" y1="([\d.]+)" y2="([\d.]+)" stroke="#', svg)

    with_ci = epoch_chart("run (simclr)", points)
    assert len(error_bars(with_ci)) == 2  # one vertical bar per mouse point
    assert error_bars(epoch_chart("run (simclr)", points.drop(columns=["mouse__low", "mouse__high"]))) == []
    assert "mouse__low" not in with_ci


def test_plan_run_entry_without_a_run_is_one_error(tmp_path):
    from brainalign.errors import InputError
    from brainalign.plans import expand_plan

    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no run.json"):
        expand_plan({"models": [{"run": "empty"}], "benchmarks": ["sim.VISp"]}, base=tmp_path)
