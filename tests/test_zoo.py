"""Zoo architectures of the seed papers: forward shapes, state-dict keys, computed area layers."""

from __future__ import annotations

import functools

import pytest
import torch

from brainalign.models import layer_shapes, load_model
from brainalign.models.layers import record_outputs
from brainalign.models.registry import list_zoo
from brainalign.models.zoo.streamnet import SIX_STREAMS


@functools.cache
def _zoo(name):
    return load_model(name, seed=0)


def _batch(loaded, n=2):
    pre = loaded.preprocessing
    return torch.randn(n, pre.channels, pre.input_size, pre.input_size, generator=torch.Generator().manual_seed(0))


def test_seed_paper_models_are_registered():
    assert {"streamnet_single", "streamnet_dual", "streamnet_six", "clapp_vgg6", "lcl_v2",
            "tang_amit_cnn"} <= set(list_zoo())


# --- StreamNet ------------------------------------------------------------------------------------

STREAMNETS = {"streamnet_single": (("ventral",), ("VISpor",)),
              "streamnet_dual": (("ventral", "dorsal"), ("VISpor", "VISam")),
              "streamnet_six": (SIX_STREAMS, ("VISpor", "VISam"))}


def _streamnet_keys(streams, outputs) -> set[str]:
    conv, bn = ("weight", "bias"), ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    indices = {"input_VISp": (0,), "stream": (0, 4), "out": (0,)}
    keys = set()
    conns = [("input_VISp", indices["input_VISp"])] + [(f"VISp_{s}", indices["stream"]) for s in streams]
    conns += [(f"{src}_{o}", indices["out"]) for src in ("VISp", *streams) for o in outputs]
    for conn, convs in conns:
        for i in convs:
            keys |= {f"model_layers.{conn}.{i}.{p}" for p in conv} | {f"model_layers.{conn}.{i + 1}.{p}" for p in bn}
    return keys | {"classifier.2.weight", "classifier.2.bias"}


@pytest.mark.parametrize("name", STREAMNETS)
def test_streamnet_keys_follow_mouse_vision(name):
    streams, outputs = STREAMNETS[name]
    sd = _zoo(name).module.state_dict()
    assert set(sd) == _streamnet_keys(streams, outputs)
    assert sd["model_layers.input_VISp.0.weight"].shape == (64, 3, 11, 11)
    assert sd[f"model_layers.VISp_{streams[0]}.4.weight"].shape == (384, 192, 3, 3)
    assert sd["model_layers.VISp_VISpor.0.weight"].shape == (256, 64, 3, 3)
    assert sd["classifier.2.weight"].shape == (1000, len(outputs) * 256 * 36)


@pytest.mark.parametrize("name", STREAMNETS)
def test_streamnet_areas_are_the_sums_of_their_rectified_inputs(name):
    streams, outputs = STREAMNETS[name]
    loaded = _zoo(name)
    inputs = {o: [f"model_layers.{src}_{o}" for src in ("VISp", *streams)] for o in outputs}
    names = ["VISp", "model_layers.input_VISp", *streams, *[f"model_layers.VISp_{s}" for s in streams],
             *outputs, *[n for o in outputs for n in inputs[o]]]
    with record_outputs(loaded.module, names) as out, torch.no_grad():
        loaded.module(_batch(loaded))
    assert torch.equal(out["VISp"], out["model_layers.input_VISp"])
    for stream in streams:
        assert torch.equal(out[stream], out[f"model_layers.VISp_{stream}"])
    for area in outputs:
        parts = [out[n] for n in inputs[area]]
        assert all((p >= 0).all() for p in parts)  # each input ends in a ReLU
        torch.testing.assert_close(out[area], sum(parts), rtol=0, atol=1e-6)
        assert out[area].shape == (2, 256, 3, 3)
    assert layer_shapes(loaded) == {"VISp": (64, 7, 7), **{s: (384, 3, 3) for s in streams},
                                    **{o: (256, 3, 3) for o in outputs}}


def test_streamnet_ssl_checkpoint_without_classifier_loads(tmp_path):
    sd = {k: v for k, v in _zoo("streamnet_dual").module.state_dict().items() if not k.startswith("classifier")}
    path = tmp_path / "dual_stream_simclr.pt"
    torch.save({"model_state_dict": {f"module.{k}": v for k, v in sd.items()}, "optimizer": {}, "epoch": 1}, path)
    loaded = load_model("streamnet_dual", checkpoint=path, seed=3)
    assert loaded.info["checkpoint"]["head_missing"] == ["classifier.2.weight", "classifier.2.bias"]
    assert torch.equal(loaded.module.model_layers["dorsal_VISam"][0].weight, sd["model_layers.dorsal_VISam.0.weight"])


# --- CLAPP, LCL-V2, Tang et al. -------------------------------------------------------------------

def test_clapp_vgg6_shapes_keys_and_patch_pooling():
    loaded = _zoo("clapp_vgg6")
    assert loaded.preprocessing.channels == 1 and loaded.preprocessing.input_size == 64
    widths = (128, 256, 256, 512, 1024, 1024)
    assert layer_shapes(loaded) == {f"module{k}": (c, 7, 7) for k, c in enumerate(widths, start=1)}
    sd = loaded.module.state_dict()
    assert [k for k in sd if k.endswith("weight")] == [f"encoder.{k}.0.weight" for k in range(6)]
    assert all(sd[f"encoder.{k}.0.weight"].shape[-2:] == (3, 3) for k in range(6))
    x = _batch(loaded, n=1)
    with record_outputs(loaded.module, ["module1"]) as out, torch.no_grad():
        loaded.module(x)
    # module1 at grid cell (row 2, col 3) is the mean of block 1 on the 16x16 patch at (16, 24)
    patch = x[:, :, 16:32, 24:40]
    with torch.no_grad():
        expected = loaded.module.encoder[0](patch).mean(dim=(2, 3))
    torch.testing.assert_close(out["module1"][:, :, 2, 3], expected, rtol=1e-5, atol=1e-6)


def test_lcl_v2_two_stages():
    loaded = _zoo("lcl_v2")
    assert layer_shapes(loaded, "stage1,stage2,stage1.conv") == {
        "stage1": (64, 112, 112), "stage2": (256, 56, 56), "stage1.conv": (64, 224, 224)}
    assert set(loaded.module.state_dict()) == {"stage1.conv.weight", "stage1.conv.bias",
                                               "stage2.conv.weight", "stage2.conv.bias"}
    assert loaded.module.state_dict()["stage1.conv.weight"].shape == (64, 3, 7, 7)
    # the local normalization divides by sqrt(1 + local energy): it can only shrink responses
    with record_outputs(loaded.module, ["stage1.pool", "stage1"]) as out, torch.no_grad():
        loaded.module(_batch(loaded, n=1))
    assert (out["stage1"] <= out["stage1.pool"] + 1e-6).all() and (out["stage1"] >= 0).all()


def test_tang_amit_cnn_shapes_and_keys():
    loaded = _zoo("tang_amit_cnn")
    assert layer_shapes(loaded) == {"pool1": (32, 16, 16), "pool2": (64, 8, 8), "pool3": (128, 4, 4),
                                    "pool4": (256, 2, 2), "act5": (512, 2, 2), "embed": (64,)}
    keys = list(loaded.module.state_dict())
    assert keys == [f"conv{k}.{p}" for k in range(1, 6) for p in ("weight", "bias")] + ["embed.weight", "embed.bias"]
    with record_outputs(loaded.module, ["act3"]) as out, torch.no_grad():
        loaded.module(_batch(loaded))
    assert out["act3"].abs().max() <= 1  # Hardtanh
