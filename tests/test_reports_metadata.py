"""Model metadata: flags, solo-learn args.json, Lightning checkpoints, epochs in file names."""

import json

import pytest
import torch

from brainalign.reports.metadata import epoch_from_name, model_metadata, normalise_objective


class NotWeights:
    """A pickled object that ``torch.load(weights_only=True)`` must refuse."""


def _lightning(path, **fields):
    torch.save({"state_dict": {"backbone.w": torch.zeros(2)}, "global_step": 10, **fields}, path)
    return path


def test_solo_learn_run_folder(tmp_path):
    """solo-learn (OmegaConf era): args.json beside `{name}-{wandb id}-ep={epoch}.ckpt`."""
    args = {"name": "mocov2plus-imagenet100", "method": "mocov2plus", "backbone": {"name": "resnet18"},
            "data": {"dataset": "imagenet100"}, "max_epochs": 400}
    (tmp_path / "args.json").write_text(json.dumps(args))
    ckpt = _lightning(tmp_path / "mocov2plus-imagenet100-1x2y3z-ep=99.ckpt", epoch=99,
                      hyper_parameters={"cfg": args})
    meta = model_metadata("timm:resnet18", ckpt)
    assert {k: meta[k] for k in ("objective", "architecture", "training_data", "epoch", "run")} == {
        "objective": "moco", "architecture": "resnet18", "training_data": "imagenet100", "epoch": 99,
        "run": "mocov2plus-imagenet100"}
    assert meta["metadata_source"] == {"objective": "args.json", "architecture": "args.json",
                                       "training_data": "args.json", "run": "args.json", "epoch": "checkpoint"}


def test_flags_win_over_the_checkpoint(tmp_path):
    (tmp_path / "args.json").write_text(json.dumps({"method": "barlow_twins", "backbone": "resnet50",
                                                    "dataset": "cifar100"}))   # solo-learn argparse era
    ckpt = _lightning(tmp_path / "barlow-ep=7.ckpt", epoch=7)
    meta = model_metadata("timm:resnet50", ckpt, objective="SimCLR", epoch=5)
    assert (meta["objective"], meta["epoch"], meta["architecture"], meta["training_data"]) == (
        "simclr", 5, "resnet50", "cifar100")
    assert meta["metadata_source"]["objective"] == "flag" and meta["metadata_source"]["epoch"] == "flag"
    assert model_metadata("timm:resnet50", ckpt)["objective"] == "barlow"


def test_lightning_hyper_parameters_without_args_json(tmp_path):
    ckpt = _lightning(tmp_path / "last.ckpt", epoch=12,
                      hyper_parameters={"method": "vicreg", "backbone": {"name": "vit_small"}})
    meta = model_metadata("timm:vit_small_patch16_224", ckpt)
    assert (meta["objective"], meta["architecture"], meta["epoch"]) == ("vicreg", "vit_small", 12)


def test_unloadable_checkpoint_falls_back_to_the_file_name(tmp_path):
    ckpt = tmp_path / "checkpoint_0199.pth.tar"
    torch.save({"epoch": 3, "thing": NotWeights()}, ckpt)       # weights_only refuses it: never unpickled
    meta = model_metadata("alexnet_bn64", ckpt)
    assert meta["epoch"] == 199 and meta["metadata_source"]["epoch"] == "file name"
    assert meta["architecture"] == "alexnet_bn64" and meta["objective"] is None


@pytest.mark.parametrize("name, epoch", [("rn18-ep=10.ckpt", 10), ("model_epoch_12.pth", 12), ("epoch=3-step=90.ckpt", 3),
                                         ("checkpoint_0199.pth.tar", 199), ("resnet18.pth", None),
                                         ("sweep12.pt", None)])
def test_epoch_from_file_name(name, epoch):
    assert epoch_from_name(name) == epoch


def test_epochs_of_one_run_share_a_run_name(tmp_path):
    runs = {model_metadata("timm:resnet18", tmp_path / f"rn18-ep={e}.ckpt")["run"] for e in (1, 20, 300)}
    assert len(runs) == 1
    assert model_metadata("timm:resnet18", tmp_path / "other-ep=1.ckpt")["run"] not in runs


def test_objective_spellings():
    assert [normalise_objective(n) for n in ("Barlow-Twins", "mocov3", "IR", "sparse autoencoder", "my_new_loss")] == [
        "barlow", "moco", "instance recognition", "sparse autoencoder", "my_new_loss"]
    assert model_metadata("timm:resnet18")["objective"] == "untrained"


def test_checkpoints_named_by_epoch_alone_belong_to_their_folders_run(tmp_path):
    """The README's plan example `runs/simclr/epoch_*.pth`: one run, `simclr`, not `simclr/epoch_10`."""
    folder = tmp_path / "runs" / "simclr"
    metas = [model_metadata("alexnet_bn64", folder / f"epoch_{e}.pth") for e in (10, 20)]
    assert [m["run"] for m in metas] == ["simclr", "simclr"] and [m["epoch"] for m in metas] == [10, 20]
