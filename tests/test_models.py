"""brainalign.models: zoo inventory, loading, checkpoints, layers and preprocessing."""

from __future__ import annotations

import functools

import numpy as np

import pytest
import torch

from brainalign.errors import FileFormatError, InputError, ModelError
from brainalign.models import LoadedModel, Preprocessing, layer_shapes, list_models, load_model, resolve_layers
from brainalign.models.base import IMAGENET_MEAN, IMAGENET_STD
from brainalign.models.checkpoint import apply_state_dict, clean_state_dict
from brainalign.models.layers import record_outputs
from brainalign.models.loading import MAX_DEFAULT_LAYERS, _evenly_spaced
from brainalign.models.registry import list_zoo
from brainalign.safe_files import sha256_file

ZOO = list_zoo()


class NotATensor:
    """A custom class: a file holding it needs full unpickling."""


@functools.cache
def _zoo(name: str) -> LoadedModel:
    """Each zoo model loaded once (seed 0) for the tests that only read it."""
    return load_model(name)


@pytest.fixture(scope="module")
def alexnet() -> LoadedModel:
    return _zoo("alexnet_bn64")


@pytest.fixture(scope="module")
def headless() -> LoadedModel:
    return _zoo("alexnet_bn64_headless")


@pytest.fixture(scope="module")
def resnet18() -> LoadedModel:
    return load_model("timm:resnet18", seed=0)


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory, resnet18):
    path = tmp_path_factory.mktemp("ckpt") / "resnet18.pt"
    torch.save(resnet18.module.state_dict(), path)
    return path


def _native_batch(loaded: LoadedModel, n: int = 2) -> torch.Tensor:
    pre = loaded.preprocessing
    generator = torch.Generator().manual_seed(0)
    return torch.randn(n, pre.channels, pre.input_size, pre.input_size, generator=generator)


def _hooked_shapes(loaded: LoadedModel, names, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    modules = dict(loaded.module.named_modules())
    shapes = {}
    handles = [modules[n].register_forward_hook(
        lambda _m, _i, out, n=n: shapes.__setitem__(n, tuple(out.shape[1:]))) for n in names]
    with torch.no_grad():
        loaded.module(x)
    for h in handles:
        h.remove()
    return shapes


# --- every zoo model ------------------------------------------------------------------------------

def test_zoo_lists_the_foundation_models():
    assert {"alexnet_bn64", "alexnet_bn64_headless", "pixels"} <= set(ZOO)
    assert list_models()[-2:] == ["timm:*", "torchvision:*"]


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_forward_at_native_size(name):
    loaded = _zoo(name)
    assert loaded.spec == name and loaded.seed == 0 and loaded.checkpoint is None
    assert not loaded.module.training
    assert not any(p.requires_grad for p in loaded.module.parameters())
    with torch.no_grad():
        out = loaded.module(_native_batch(loaded))
    assert isinstance(out, torch.Tensor) and out.shape[0] == 2 and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ZOO)
def test_zoo_default_layer_shapes_match_a_hooked_forward(name):
    loaded = _zoo(name)
    assert 0 < len(loaded.default_layers) <= MAX_DEFAULT_LAYERS
    assert set(loaded.default_layers) <= set(loaded.layers)
    shapes = layer_shapes(loaded)
    assert list(shapes) == list(loaded.default_layers)
    assert all(len(s) > 0 and all(d > 0 for d in s) for s in shapes.values())
    assert shapes == _hooked_shapes(loaded, loaded.default_layers, _native_batch(loaded))


# --- alexnet_bn64 ---------------------------------------------------------------------------------

def _alexnet_bn_keys(with_head: bool) -> list[str]:
    conv, bn = ("weight", "bias"), ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    keys = []
    for i in (0, 4, 8, 11, 14):  # conv, then its batch norm at i + 1
        keys += [f"features.{i}.{p}" for p in conv] + [f"features.{i + 1}.{p}" for p in bn]
    for i in (1, 5):  # linear, then its BatchNorm1d at i + 1
        keys += [f"classifier.{i}.{p}" for p in conv] + [f"classifier.{i + 1}.{p}" for p in bn]
    return keys + (["classifier.8.weight", "classifier.8.bias"] if with_head else [])


def test_alexnet_bn64_state_dict_keys_match_mouse_vision(alexnet):
    assert list(alexnet.module.state_dict()) == _alexnet_bn_keys(with_head=True)
    assert alexnet.module.state_dict()["classifier.1.weight"].shape == (4096, 9216)


def test_alexnet_bn64_headless_drops_only_the_last_linear(headless):
    assert list(headless.module.state_dict()) == _alexnet_bn_keys(with_head=False)
    assert layer_shapes(headless, "classifier.7") == {"classifier.7": (4096,)}


def test_alexnet_bn64_shapes_at_64px(alexnet):
    # conv1 (64+4-11)//4+1 = 15; pool (15-3)//2+1 = 7; conv2 keeps 7; pool -> 3; conv3-5 keep 3;
    # pool5 -> 1; the adaptive pool repeats it to 6x6 = 9216 inputs of fc6.
    expected = {
        "features.0": (64, 15, 15), "features.3": (64, 7, 7), "features.7": (192, 3, 3),
        "features.10": (384, 3, 3), "features.13": (256, 3, 3), "features.17": (256, 1, 1),
        "avgpool": (256, 6, 6), "classifier.3": (4096,), "classifier.7": (4096,), "classifier.8": (1000,),
    }
    assert layer_shapes(alexnet, list(expected)) == expected
    assert alexnet.default_layers == ("features.3", "features.7", "features.10", "features.13",
                                      "features.17", "classifier.3", "classifier.7")
    assert alexnet.preprocessing == Preprocessing(input_size=64, resize=256, crop=224)


# --- seeds and hashes -----------------------------------------------------------------------------

def test_same_seed_same_weights_hash_other_seed_different(alexnet, resnet18):
    assert load_model("alexnet_bn64", seed=0).weights_sha256 == alexnet.weights_sha256
    assert load_model("alexnet_bn64", seed=1).weights_sha256 != alexnet.weights_sha256
    assert load_model("timm:resnet18", seed=0).weights_sha256 == resnet18.weights_sha256
    assert load_model("timm:resnet18", seed=1).weights_sha256 != resnet18.weights_sha256
    assert alexnet.info["weights_hash_of"] == "state_dict"


def test_loading_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load_model("timm:resnet18", seed=5)
    assert torch.equal(torch.rand(3), expected)


# --- checkpoints ----------------------------------------------------------------------------------

def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, alexnet):
    original = alexnet
    path = tmp_path / "alexnet_bn64.pt"
    torch.save(original.module.state_dict(), path)
    loaded = load_model("alexnet_bn64", checkpoint=path, seed=1)
    x = _native_batch(loaded)
    with torch.no_grad():
        assert torch.equal(loaded.module(x), original.module(x))
    assert loaded.weights_sha256 == sha256_file(path)
    assert loaded.seed is None and loaded.checkpoint == str(path.resolve())
    assert loaded.provenance()["weights_sha256"] == sha256_file(path)
    assert loaded.info["checkpoint"]["keys_loaded"] == len(original.module.state_dict())


def test_clean_state_dict_strips_prefixes_and_refuses_collisions():
    t = torch.zeros(1)
    cleaned, stripped = clean_state_dict({"_orig_mod.module.a": t, "b": t})
    assert list(cleaned) == ["a", "b"] and stripped == ("_orig_mod.", "module.")
    with pytest.raises(FileFormatError, match="both become 'a'"):
        clean_state_dict({"module.a": t, "a": t})


def test_unexpected_keys_are_an_error_unless_allow_partial(resnet18):
    sd = dict(resnet18.module.state_dict(), **{"extra.weight": torch.zeros(1)})
    with pytest.raises(ModelError, match="1 entries timm:resnet18 does not have: extra.weight"):
        apply_state_dict(resnet18.module, sd, model_name="timm:resnet18")
    assert apply_state_dict(resnet18.module, sd, allow_partial=True)["unexpected"] == ["extra.weight"]


def test_headless_model_drops_the_checkpoint_head(alexnet, headless):
    info = apply_state_dict(headless.module, alexnet.module.state_dict(), model_name="alexnet_bn64_headless")
    assert info["keys_dropped"] == 2 and info["dropped"] == ["classifier.8.weight", "classifier.8.bias"]


def test_custom_class_refusal_names_the_class(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"w": NotATensor()}, path)
    with pytest.raises(ModelError, match="NotATensor") as info:
        load_model("timm:resnet18", checkpoint=path)
    assert "--trust-checkpoint" in info.value.hint


# --- specs and listing ----------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["", " pixels", "pix els", "foo:bar", "timm:", "Timm:resnet18"])
def test_malformed_specs_are_input_errors(spec):
    with pytest.raises(InputError):
        load_model(spec)


@pytest.mark.parametrize("seed", ["3", 1.5, None, True])
def test_non_integer_seed_is_an_input_error(seed):
    with pytest.raises(InputError, match="seed must be an integer"):
        load_model("pixels", seed=seed)


@pytest.mark.parametrize("spec, hint", [
    ("timm:resnet19", "resnet18"),
    ("torchvision:resnet19", "resnet18"),
    ("alexnet_bn46", "alexnet_bn64"),
    ("zoo:pixel", "pixels"),
    ("resnet18", "timm:resnet18 or torchvision:resnet18"),
    ("timm:resnet18.no_such_tag", "a1_in1k"),
])
def test_unknown_models_are_model_errors_with_suggestions(spec, hint):
    with pytest.raises(ModelError) as info:
        load_model(spec)
    assert hint in info.value.hint


def test_list_models_filters_each_source():
    assert "timm:resnet18" in list_models("timm:resnet1*")
    assert all(s.startswith("timm:resnet1") for s in list_models("timm:resnet1*"))
    assert "torchvision:resnet18" in list_models("torchvision:resnet*")
    assert list_models("alexnet*") == list_models("zoo:alexnet*") == ["alexnet_bn64", "alexnet_bn64_headless"]
    with pytest.raises(InputError):
        list_models("foo:*")


# --- layers ---------------------------------------------------------------------------------------

def test_resolve_layers(alexnet):
    assert resolve_layers(alexnet) == resolve_layers(alexnet, "all") == alexnet.default_layers
    assert resolve_layers(alexnet, " features.3 ,classifier.7,features.3") == ("features.3", "classifier.7")
    assert resolve_layers(alexnet, ["avgpool"]) == ("avgpool",)
    with pytest.raises(InputError):
        resolve_layers(alexnet, " , ")


def test_unknown_layer_is_a_model_error_with_close_matches(alexnet):
    with pytest.raises(ModelError, match="unknown layer 'features.99' for alexnet_bn64") as info:
        resolve_layers(alexnet, "features.3,features.99")
    assert "features.9" in info.value.hint and "brainalign models layers alexnet_bn64" in info.value.hint


def test_layers_are_every_named_submodule_in_order(alexnet):
    assert alexnet.layers[:3] == ("features", "features.0", "features.1")
    assert alexnet.layers[-1] == "classifier.8" and "" not in alexnet.layers


def test_timm_cnn_default_layers_and_preprocessing(resnet18):
    assert resnet18.default_layers == ("act1", "layer1", "layer2", "layer3", "layer4", "global_pool")
    assert layer_shapes(resnet18, "layer4,global_pool") == {"layer4": (512, 7, 7), "global_pool": (512,)}
    # timm's resnet18 config: 224 px, crop_pct 0.95 -> resize floor(224 / 0.95) = 235, bicubic
    assert resnet18.preprocessing == Preprocessing(input_size=224, resize=235, crop=224,
                                                   interpolation="bicubic")


@pytest.fixture(scope="module")
def squeezenet() -> LoadedModel:
    return load_model("torchvision:squeezenet1_1")


def test_torchvision_model_defaults(squeezenet):
    loaded = squeezenet
    assert loaded.preprocessing == Preprocessing(input_size=224, resize=256, crop=224)
    assert 0 < len(loaded.default_layers) <= MAX_DEFAULT_LAYERS
    assert not any(n.startswith("classifier") for n in loaded.default_layers)
    assert layer_shapes(loaded)["features.12"] == (512, 13, 13)


def test_evenly_spaced_keeps_first_and_last():
    names = [f"blocks.{i}" for i in range(24)]
    picked = _evenly_spaced(names, 12)
    assert len(picked) == 12 and picked[0] == "blocks.0" and picked[-1] == "blocks.23"
    assert _evenly_spaced(names[:5], 12) == tuple(names[:5])


def test_record_outputs_copies_before_in_place_ops(squeezenet):
    # torchvision SqueezeNet: features.0 (conv) is followed by ReLU(inplace=True)
    with record_outputs(squeezenet.module, ["features.0"]) as out, torch.no_grad():
        squeezenet.module(_native_batch(squeezenet, n=1))
    assert (out["features.0"] < 0).any()


# --- preprocessing --------------------------------------------------------------------------------

def test_preprocessing_resize_crop_resize_and_normalise():
    pre = Preprocessing(input_size=64, resize=256, crop=224)
    image = torch.full((1, 3, 300, 400), 0.5)
    out = pre(image)
    assert out.shape == (1, 3, 64, 64)
    expected = [(0.5 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]  # 0.0655, 0.1964, 0.4178
    for channel, value in enumerate(expected):
        torch.testing.assert_close(out[0, channel], torch.full((64, 64), value), atol=1e-5, rtol=0)


def test_pixels_preprocessing_is_grayscale_in_unit_range():
    loaded = _zoo("pixels")
    out = loaded.preprocessing(torch.full((1, 3, 80, 100), 0.25))
    assert out.shape == (1, 1, 64, 64)
    torch.testing.assert_close(out, torch.full((1, 1, 64, 64), 0.25), atol=1e-6, rtol=0)
    assert layer_shapes(loaded) == {"pixels": (4096,)}


@pytest.mark.parametrize("preprocessing", [
    Preprocessing(input_size=224, resize=235, crop=224, interpolation="bicubic"),
    Preprocessing(input_size=64, resize=256, crop=224),
    Preprocessing(input_size=96),
    Preprocessing(input_size=224, resize=256, crop=224, channels=1, mean=(0.5,), std=(0.2,)),
])
@pytest.mark.parametrize("size", [(64, 64), (31, 47), (300, 250)])
def test_gray_images_resized_as_one_channel_equal_the_three_channel_path_bit_for_bit(
        preprocessing, size, monkeypatch):
    gray = torch.from_numpy(np.random.default_rng(0).random((5, 1, *size), dtype=np.float32))
    images = gray.expand(-1, 3, -1, -1).contiguous()
    fast = preprocessing(images)
    equal = torch.equal
    monkeypatch.setattr(torch, "equal", lambda a, b: False)  # the three-channel path
    full = preprocessing(images)
    assert fast.shape == full.shape and equal(fast, full)
