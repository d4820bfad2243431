"""Checkpoints of every supported codebase load through the CLI and give the original activations.

Each case builds a checkpoint in exactly its codebase's layout (top-level entries, key prefixes,
heads and momentum encoders) from a model with known random weights (seed 7, batch-norm
statistics randomised too), extracts activations with ``brainalign extract --checkpoint`` (which
builds the model from seed 0) and compares them with the original module's.
"""

from __future__ import annotations

import argparse
import functools

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from brainalign.activations import extract_activations, load_activations
from brainalign.cli import main
from brainalign.models import load_model, resolve_layers
from brainalign.models.checkpoint import read_checkpoint
from brainalign.models.architecture_guess import guess_family
from brainalign.stimuli import resolve_stimuli

LAYERS = {"timm:test_resnet": "layer2,layer4", "torchvision:resnet18": "layer2,avgpool",
          "timm:test_vit": "blocks.0,norm"}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    return folder


@functools.cache
def _original(spec: str, seed: int = 7):
    """``spec`` at seed ``seed`` with random batch-norm statistics (so buffers matter too)."""
    loaded = load_model(spec, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, buffer in loaded.module.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.randn(buffer.shape, generator=generator) * 0.1)
            elif name.endswith("running_var"):
                buffer.copy_(torch.rand(buffer.shape, generator=generator) + 0.5)
    return loaded


@functools.cache
def _reference(spec: str, folder: str) -> dict[str, np.ndarray]:
    loaded = _original(spec)
    acts = extract_activations(loaded, resolve_stimuli(folder), resolve_layers(loaded, LAYERS[spec]),
                               use_cache=False, progress=False)
    return {k: v.values for k, v in acts.items()}


def _sd(spec: str, seed: int = 7, head: bool = True) -> dict[str, torch.Tensor]:
    sd = {k: v.clone() for k, v in _original(spec, seed).module.state_dict().items()}
    return sd if head else {k: v for k, v in sd.items() if not k.startswith(("fc.", "head."))}


def _prefixed(prefix: str, sd: dict) -> dict:
    return {prefix + k: v for k, v in sd.items()}


def _mlp(prefix: str, dims=(512, 64, 16)) -> dict:
    out = {}
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        out[f"{prefix}{2 * i}.weight"], out[f"{prefix}{2 * i}.bias"] = torch.randn(b, a), torch.randn(b)
    return out


def _optimizer() -> dict:
    return {"state": {}, "param_groups": [{"lr": 0.03, "momentum": 0.9, "params": [0, 1, 2]}]}


def _lightly_backbone(prefix: str, spec: str = "torchvision:resnet18") -> dict:
    """A ResNet as ``nn.Sequential(*resnet.children()[:-1])``: child names become indices."""
    children = [name for name, _ in _original(spec).module.named_children()]
    sd = _sd(spec, head=False)
    return {f"{prefix}{children.index(k.split('.')[0])}.{k.split('.', 1)[1]}": v for k, v in sd.items()}


def _lightning(state_dict: dict, hyper_parameters) -> dict:
    return {"epoch": 99, "global_step": 1234, "pytorch-lightning_version": "2.1.0", "state_dict": state_dict,
            "loops": {}, "callbacks": {}, "optimizer_states": [_optimizer()], "lr_schedulers": [],
            "hyper_parameters": hyper_parameters}


def _dino(with_args: bool) -> dict:
    student = _prefixed("module.backbone.", _sd("timm:test_vit", seed=8, head=False))
    teacher = _prefixed("backbone.", _sd("timm:test_vit", head=False))
    for entry, prefix in ((student, "module.head."), (teacher, "head.")):
        entry.update(_mlp(prefix + "mlp.", (64, 32, 16)))
        entry[prefix + "last_layer.weight_g"] = torch.ones(100, 1)
    ckpt = {"student": student, "teacher": teacher, "optimizer": _optimizer(), "epoch": 100,
            "dino_loss": {"center": torch.zeros(1, 100)}}
    return {**ckpt, "args": argparse.Namespace(arch="vit_small", patch_size=16)} if with_args else ckpt


# (id, model spec, checkpoint object, expected format, expected prefix stripped)
CASES = [
    ("plain-torchvision", "torchvision:resnet18", lambda: _sd("torchvision:resnet18"), "plain", ""),
    ("ddp-compile-wrapped", "timm:test_resnet",
     lambda: _prefixed("_orig_mod.module.", _sd("timm:test_resnet")), "plain", "module._orig_mod."),
    ("moco-v2", "torchvision:resnet18", lambda: {
        "epoch": 200, "arch": "resnet18", "optimizer": _optimizer(),
        "state_dict": {**_prefixed("module.encoder_q.", _sd("torchvision:resnet18", head=False)),
                       **_mlp("module.encoder_q.fc."),
                       **_prefixed("module.encoder_k.", _sd("torchvision:resnet18", seed=8, head=False)),
                       **_mlp("module.encoder_k.fc."),
                       "module.queue": torch.randn(16, 4096), "module.queue_ptr": torch.zeros(1, dtype=torch.long)}},
     "moco", "module.encoder_q."),
    ("moco-v3-resnet", "timm:test_resnet", lambda: {
        "epoch": 100, "arch": "resnet18", "optimizer": _optimizer(),
        "scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000},
        "state_dict": {**_prefixed("module.base_encoder.", _sd("timm:test_resnet", head=False)),
                       **_mlp("module.base_encoder.fc."), **_mlp("module.predictor."),
                       **_prefixed("module.momentum_encoder.", _sd("timm:test_resnet", seed=8))}},
     "mocov3", "module.base_encoder."),
    ("moco-v3-vit", "timm:test_vit", lambda: {
        "epoch": 300, "arch": "vit_small", "optimizer": _optimizer(), "scaler": {"scale": 1024.0},
        "state_dict": {**_prefixed("module.base_encoder.", _sd("timm:test_vit", head=False)),
                       **_mlp("module.base_encoder.head.", (64, 32, 16)), **_mlp("module.predictor.", (16, 32, 16)),
                       **_prefixed("module.momentum_encoder.", _sd("timm:test_vit", seed=8))}},
     "mocov3", "module.base_encoder."),
    ("simsiam", "timm:test_resnet", lambda: {
        "epoch": 100, "arch": "resnet18", "optimizer": _optimizer(),
        "state_dict": {**_prefixed("module.encoder.", _sd("timm:test_resnet", head=False)),
                       **_mlp("module.encoder.fc."), **_mlp("module.predictor.", (16, 8, 16))}},
     "simsiam", "module.encoder."),
    ("barlowtwins-full", "timm:test_resnet", lambda: {
        "epoch": 300, "optimizer": _optimizer(),
        "model": {**_prefixed("module.backbone.", _sd("timm:test_resnet", head=False)),
                  **_mlp("module.projector."), "module.bn.running_mean": torch.zeros(16),
                  "module.bn.running_var": torch.ones(16), "module.bn.num_batches_tracked": torch.tensor(5)}},
     "barlowtwins", "module.backbone."),
    ("barlowtwins-bare-resnet.pth", "timm:test_resnet",
     lambda: _sd("timm:test_resnet", head=False), "plain", ""),
    ("vicreg-full", "timm:test_resnet", lambda: {
        "epoch": 100, "optimizer": _optimizer(),
        "model": {**_prefixed("module.backbone.", _sd("timm:test_resnet", head=False)), **_mlp("module.projector.")}},
     "barlowtwins", "module.backbone."),
    ("solo-learn", "timm:test_resnet", lambda: _lightning(
        {**_prefixed("backbone.", _sd("timm:test_resnet", head=False)), **_mlp("projector."), **_mlp("predictor."),
         **_prefixed("momentum_backbone.", _sd("timm:test_resnet", seed=8, head=False)), **_mlp("momentum_projector."),
         "classifier.weight": torch.randn(10, 512), "classifier.bias": torch.randn(10)},
        {"cfg": {"method": "byol", "backbone": {"name": "resnet18"}}}), "solo-learn", "backbone."),
    ("solo-learn-older-encoder", "timm:test_resnet", lambda: _lightning(
        {**_prefixed("encoder.", _sd("timm:test_resnet", head=False)), **_mlp("projector."),
         "classifier.weight": torch.randn(10, 512), "classifier.bias": torch.randn(10)},
        {"method": "simclr"}), "solo-learn", "encoder."),
    ("lightly-lightning", "timm:test_resnet", lambda: _lightning(
        {**_lightly_backbone("backbone.", "timm:test_resnet"), **_mlp("projection_head.layers."),
         **_mlp("prediction_head.layers."), **_lightly_backbone("backbone_momentum.", "timm:test_resnet"), **_mlp("projection_head_momentum.layers."),
         "online_classifier.classification_head.weight": torch.randn(10, 512)}, {"batch_size_per_device": 128}),
     "lightly", "backbone."),
    ("lightly-example", "torchvision:resnet18",
     lambda: {**_lightly_backbone("backbone."), **_mlp("projection_head.layers.")}, "lightly", "backbone."),
    ("simclr-sthalles", "timm:test_resnet", lambda: {
        "epoch": 100, "arch": "resnet18", "optimizer": _optimizer(),
        "state_dict": {**_prefixed("backbone.", _sd("timm:test_resnet", head=False)), **_mlp("backbone.fc.")}},
     "simclr", "backbone."),
    ("simclr-spijkervet", "timm:test_resnet",
     lambda: {**_prefixed("encoder.", _sd("timm:test_resnet", head=False)), **_mlp("projector.")},
     "simclr", "encoder."),
    ("dino", "timm:test_vit", lambda: _dino(with_args=False), "dino", "backbone."),
    ("timm-train-ema", "timm:test_resnet", lambda: {
        "epoch": 299, "arch": "resnet18", "version": 2, "metric": 71.2, "optimizer": _optimizer(),
        "state_dict": _sd("timm:test_resnet", seed=8), "state_dict_ema": _prefixed("module.", _sd("timm:test_resnet"))},
     "timm", "module."),
    ("vissl", "timm:test_resnet", lambda: {
        "phase_idx": 799, "iteration": 100, "type": "checkpoint", "train_phase_idx": 399,
        "classy_state_dict": {"base_model": {"model": {
            "trunk": _prefixed("_feature_blocks.", _sd("timm:test_resnet", head=False)),
            "heads": _mlp("0.clf.")}, "meta": {}}, "optimizer": _optimizer(), "loss": {}}},
     "vissl", "_feature_blocks."),
    ("mouse-vision", "timm:test_resnet", lambda: {
        "model_state_dict": _prefixed("module.", _sd("timm:test_resnet")), "optimizer": _optimizer(),
        "epoch": 50, "curr_step": 12345, "loss_state_dict": {"memory_bank": torch.randn(8, 128)}},
     "mouse_vision", "module."),
]


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _extract(spec, path, images, out, *extra):
    return _cli("extract", spec, "--stimuli", images, "--layers", LAYERS[spec], "--checkpoint", path,
                "-o", out, "--quiet", *extra)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_checkpoint_layouts_load_through_the_cli(tmp_path, images, case):
    _, spec, build, fmt, prefix = case
    path = tmp_path / "ckpt.pth"
    torch.save(build(), path)
    result = _extract(spec, path, images, tmp_path / "acts.nc")
    assert result.exit_code == 0, result.output
    assert f"checkpoint: format {fmt}," in result.stderr and "0 missing, 0 unexpected" in result.stderr
    if prefix:
        assert f"prefix {prefix!r} stripped" in result.stderr
    acts = load_activations(tmp_path / "acts.nc")
    for layer, expected in _reference(spec, str(images)).items():
        np.testing.assert_allclose(acts[layer].values, expected, rtol=1e-5, atol=1e-5)
    assert read_checkpoint(path).format == fmt


def test_ssl_backbone_reports_dropped_keys_and_the_head_left_alone(tmp_path):
    path = tmp_path / "moco.pth.tar"
    torch.save(CASES[2][2](), path)
    loaded = load_model("torchvision:resnet18", checkpoint=path)
    info = loaded.info["checkpoint"]
    n_backbone = len(_sd("torchvision:resnet18", head=False))
    # 4 encoder_q.fc + (backbone + 4 fc) of encoder_k + queue + queue_ptr
    assert (info["keys_loaded"], info["keys_dropped"]) == (n_backbone, 4 + n_backbone + 4 + 2)
    assert info["head_missing"] == ["fc.weight", "fc.bias"] and info["missing"] == []
    assert loaded.provenance()["checkpoint_load"]["format"] == "moco"


def test_lightly_indices_are_renamed_to_torchvision_children(tmp_path):
    path = tmp_path / "lightly.pth"
    torch.save(CASES[12][2](), path)
    assert CASES[12][0] == "lightly-example"
    loaded = load_model("torchvision:resnet18", checkpoint=path)
    assert loaded.info["checkpoint"]["remapped"] is True
    assert torch.equal(loaded.module.layer3[1].conv2.weight, _original("torchvision:resnet18").module.layer3[1].conv2.weight)


def test_dino_prefers_the_teacher(tmp_path):
    path = tmp_path / "dino.pth"
    torch.save(_dino(with_args=False), path)
    backbone = read_checkpoint(path)
    assert backbone.entry == "teacher" and "student" in backbone.ignored_entries
    assert torch.equal(backbone.state_dict["cls_token"], _sd("timm:test_vit")["cls_token"])


# --- refusals -------------------------------------------------------------------------------------

def _one_error_line(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "(hint: " in lines[0], result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_pickled_namespace_is_refused_unless_trusted(tmp_path, images):
    path = tmp_path / "last.ckpt"
    torch.save(_lightning(_prefixed("backbone.", _sd("timm:test_resnet", head=False)),
                          argparse.Namespace(method="byol", max_epochs=400)), path)
    refused = _extract("timm:test_resnet", path, images, tmp_path / "a.nc")
    _one_error_line(refused, "argparse.Namespace", "--trust-checkpoint")
    assert not (tmp_path / "a.nc").exists()
    trusted = _extract("timm:test_resnet", path, images, tmp_path / "a.nc", "--trust-checkpoint")
    assert trusted.exit_code == 0 and "full unpickling" in trusted.stderr
    for layer, expected in _reference("timm:test_resnet", str(images)).items():
        np.testing.assert_allclose(load_activations(tmp_path / "a.nc")[layer].values, expected, rtol=1e-5, atol=1e-5)


def test_missing_backbone_keys_fail_unless_allow_partial(tmp_path, images):
    sd = _sd("timm:test_resnet")
    del sd["layer4.0.conv2.weight"]
    path = tmp_path / "partial.pth"
    torch.save(sd, path)
    _one_error_line(_extract("timm:test_resnet", path, images, tmp_path / "a.nc"),
                    "lacks 1 of the", "layer4.0.conv2.weight", "--allow-partial")
    allowed = _extract("timm:test_resnet", path, images, tmp_path / "a.nc", "--allow-partial")
    assert allowed.exit_code == 0 and "1 missing" in allowed.stderr and "layer4.0.conv2.weight" in allowed.stderr
    layer2 = load_activations(tmp_path / "a.nc")["layer2"].values  # before the missing weight: still equal
    np.testing.assert_allclose(layer2, _reference("timm:test_resnet", str(images))["layer2"], rtol=1e-5, atol=1e-5)


def test_shape_mismatch_names_the_key_and_both_shapes(tmp_path, images):
    sd = _sd("timm:test_resnet")
    shape = tuple(sd["layer1.0.conv1.weight"].shape)
    narrow = (shape[0] // 2, *shape[1:])
    sd["layer1.0.conv1.weight"] = torch.zeros(narrow)
    path = tmp_path / "narrow.pth"
    torch.save(sd, path)
    _one_error_line(_extract("timm:test_resnet", path, images, tmp_path / "a.nc"),
                    f"'layer1.0.conv1.weight' has shape {narrow} but timm:test_resnet expects {shape}")


def test_other_architecture_is_named(tmp_path, images):
    path = tmp_path / "vit.pth"
    torch.save(_sd("timm:test_vit"), path)
    _one_error_line(_extract("timm:test_resnet", path, images, tmp_path / "a.nc"), "lacks", "ViT-64/")


@pytest.mark.parametrize("make, fragments", [
    (lambda p, full: p.write_bytes(full[: len(full) // 2]), ("is truncated, corrupt",)),
    (lambda p, full: p.write_bytes(b"\x00" * 100), ("is truncated, corrupt",)),
    (lambda p, full: p.mkdir(), ("is a directory",)),
    (lambda p, full: p.write_bytes(b""), ("is empty",)),
], ids=["truncated", "garbage", "directory", "empty"])
def test_unreadable_files_are_one_line_errors(tmp_path, images, make, fragments):
    full = tmp_path / "full.pth"
    torch.save(_sd("timm:test_resnet"), full)
    path = tmp_path / "bad.pth"
    make(path, full.read_bytes())
    _one_error_line(_extract("timm:test_resnet", path, images, tmp_path / "a.nc"), str(path), *fragments)


def test_forced_format_must_match_and_names_are_checked(tmp_path, images):
    path = tmp_path / "plain.pth"
    torch.save(_sd("timm:test_resnet"), path)
    _one_error_line(_extract("timm:test_resnet", path, images, tmp_path / "a.nc", "--checkpoint-format", "dino"),
                    "is not a dino checkpoint", "teacher")
    _one_error_line(_extract("timm:test_resnet", path, images, tmp_path / "a.nc", "--checkpoint-format", "nope"),
                    "unknown checkpoint format 'nope'")


# --- inspect --------------------------------------------------------------------------------------

def test_models_inspect_summarises_without_a_model(tmp_path, monkeypatch):
    import brainalign.models.loading as loading

    monkeypatch.setattr(loading, "_BUILDERS", {})  # building any model would fail
    path = tmp_path / "moco.pth.tar"
    torch.save(CASES[2][2](), path)
    result = _cli("models", "inspect", path)
    assert result.exit_code == 0, result.output
    assert "format:    moco (facebookresearch/moco (v1/v2))" in result.output
    assert "prefix stripped: module.encoder_q." in result.output
    n_backbone = len(_sd("torchvision:resnet18", head=False))
    assert f"backbone:  {n_backbone} tensors" in result.output
    assert "timm:resnet18 or torchvision:resnet18" in result.output


@pytest.mark.parametrize("spec, expected", [
    ("torchvision:resnet18", "ResNet (basic blocks 2-2-2-2, 1000-way fc): timm:resnet18 or torchvision:resnet18"),
    ("alexnet_bn64", "AlexNet-BN 64x64 (alexnet_bn64)"),
    ("timm:test_vit", "ViT-64/16, depth 6"),
])
def test_guess_family(spec, expected):
    assert guess_family(_sd(spec)) == expected


@pytest.mark.parametrize("obj, fmt, entry, keys", [
    ({"encoder.conv1.weight": torch.zeros(1)}, "simclr", "", ["conv1.weight"]),
    ({"model": {"blocks.0.w": torch.zeros(1)}, "epoch": 1}, "plain", "model", ["blocks.0.w"]),
    ({"state_dict": {"module._orig_mod.fc.weight": torch.zeros(1)}, "args": {}}, "timm", "state_dict", ["fc.weight"]),
], ids=["encoder-only", "model-entry", "timm-args"])
def test_detection_of_small_layouts(tmp_path, obj, fmt, entry, keys):
    path = tmp_path / "small.pth"
    torch.save(obj, path)
    backbone = read_checkpoint(path)
    assert (backbone.format, backbone.entry, list(backbone.state_dict)) == (fmt, entry, keys)
