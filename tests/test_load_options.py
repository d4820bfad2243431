"""Load options travel as one value, and a scored checkpoint is read once: its weights and its
metadata (brainalign_training / Lightning epoch and hyper_parameters, solo-learn args.json) come
from the same torch.load."""

from __future__ import annotations

import argparse
import dataclasses
import json
import warnings

import pytest
import torch

from brainalign import api
from brainalign.errors import InputError
from brainalign.models import load_model
from brainalign.models.checkpoint_metadata import MetadataWarning
from brainalign.models.options import ExtractionOptions, LoadOptions


def test_options_and_keywords_load_the_same_model(tmp_path):
    path = tmp_path / "alexnet.pt"
    torch.save(load_model("alexnet_bn64", seed=3).module.state_dict(), path)
    by_value = load_model("alexnet_bn64", LoadOptions(checkpoint=path, checkpoint_format="torchvision"))
    by_keywords = load_model("alexnet_bn64", checkpoint=path, checkpoint_format="plain")
    assert by_value.weights_sha256 == by_keywords.weights_sha256 and by_value.info == by_keywords.info
    assert by_value.info["checkpoint"]["format"] == "plain"
    assert load_model("alexnet_bn64", LoadOptions(seed=3)).weights_sha256 != by_value.weights_sha256  # hashes file vs init
    with pytest.raises(TypeError, match="options or keywords"):
        load_model("pixels", LoadOptions(), seed=1)
    with pytest.raises(TypeError):
        load_model("pixels", trust=True)                     # one name: trust_checkpoint
    with pytest.raises(InputError, match="seed must be an integer"):
        LoadOptions(seed="0")
    with pytest.raises(InputError, match="unknown token mode 'cls_token'"):
        LoadOptions(tokens="cls_token")
    with pytest.raises(dataclasses.FrozenInstanceError):
        LoadOptions().seed = 1
    assert ExtractionOptions(device="cuda", precision="fp16", batch_size=8).record() == {
        "device": "cuda", "precision": "fp16"}


def _lightning_checkpoint(folder, model="alexnet_bn64", **extra):
    state = {f"backbone.{k}": v for k, v in load_model(model, seed=2).module.state_dict().items()}
    path = folder / "mocov2plus-ep=41.ckpt"
    torch.save({"state_dict": state, "global_step": 9, "pytorch-lightning_version": "2.1", "epoch": 40,
                "hyper_parameters": {"method": "byol", "backbone": {"name": "hp-arch"}}, **extra}, path)
    return path


@pytest.fixture
def counted_loads(monkeypatch):
    calls = []
    real = torch.load

    def counting(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("f"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", counting)
    return calls


def test_score_reads_the_checkpoint_once_for_weights_and_metadata(tmp_path, counted_loads):
    (tmp_path / "args.json").write_text(json.dumps({"method": "mocov2plus", "data": {"dataset": "imagenet100"},
                                                    "name": "moco-run"}))
    path = _lightning_checkpoint(tmp_path)
    [record] = api.score("alexnet_bn64", benchmarks=["sim.V1"], layers="features.3", checkpoint=str(path),
                         results=tmp_path / "results", progress=False)
    assert [str(p) for p in counted_loads] == [str(path)]
    model = record["model"]
    assert (model["objective"], model["training_data"], model["run"], model["epoch"], model["architecture"]) == (
        "moco", "imagenet100", "moco-run", 40, "hp-arch")
    assert model["metadata_source"] == {"objective": "args.json", "training_data": "args.json", "run": "args.json",
                                        "epoch": "checkpoint", "architecture": "checkpoint"}


def test_a_trusted_file_gives_metadata_from_args_json_and_its_name_only(tmp_path, counted_loads):
    """Full unpickling may build any object: as before, metadata never comes from such a payload."""
    path = _lightning_checkpoint(tmp_path, args=argparse.Namespace(lr=0.1))
    loaded = load_model("alexnet_bn64", checkpoint=path, trust_checkpoint=True)
    assert len(counted_loads) == 2 and loaded.info["checkpoint"]["trusted"]   # weights-only refused, then trusted
    assert loaded.checkpoint_metadata == {"payload": {}, "args_json": None}
    from brainalign.reports.metadata import model_metadata

    meta = model_metadata(loaded.spec, path, checkpoint_metadata=loaded.checkpoint_metadata)
    assert (meta["epoch"], meta["metadata_source"]["epoch"], meta["objective"]) == (41, "file name", None)
    assert len(counted_loads) == 2


@pytest.mark.parametrize("text, why", [("{not json", "JSONDecodeError"), ("[1, 2]", "holds a JSON list")])
def test_a_broken_args_json_is_one_warning_and_the_rest_still_counts(tmp_path, text, why):
    (tmp_path / "args.json").write_text(text)
    path = _lightning_checkpoint(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model("alexnet_bn64", checkpoint=path)
    [warning] = [w for w in caught if issubclass(w.category, MetadataWarning)]
    assert str(tmp_path / "args.json") in str(warning.message) and why in str(warning.message)
    assert loaded.checkpoint_metadata["args_json"] is None
    assert loaded.checkpoint_metadata["payload"]["epoch"] == 40
