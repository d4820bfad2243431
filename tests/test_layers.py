"""Layer names beyond modules: repeated calls, ViT token views, residual-addition graph nodes."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import timm
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

from brainalign.cli import main
from brainalign.errors import InputError, ModelError
from brainalign.models import layer_shapes, load_model, resolve_layers
from brainalign.models.layers import parse_layer, record_outputs, token_layout


class Twice(nn.Module):
    """Applies the same Linear twice: ``lin`` runs two times per forward pass."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return self.lin(torch.relu(self.lin(x)))


@functools.cache
def _vit():
    return load_model("timm:test_vit", seed=0)


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_parse_layer_names():
    assert parse_layer("layer1.0.add") == parse_layer("layer1.0.add:0@patches")
    assert parse_layer("blocks.2:3@all").call == 3
    with pytest.raises(InputError, match="unknown token mode 'grid'"):
        parse_layer("blocks.2@grid")
    with pytest.raises(InputError, match="malformed"):
        parse_layer("a:b")


def test_repeated_calls_are_separate_layers_and_restart_each_pass():
    torch.manual_seed(0)
    net, x = Twice().eval(), torch.randn(3, 4)
    with torch.no_grad():
        first = net.lin(x)
    with record_outputs(net, ["lin", "lin:1", "lin:2"]) as out, torch.no_grad():
        for _ in range(2):  # counts restart with each forward pass
            out.clear()
            y = net(x)
            torch.testing.assert_close(out["lin"], first)
            torch.testing.assert_close(out["lin:1"], y)
            assert "lin:2" not in out


def test_vit_tokens_patches_grid_cls_and_all():
    torch.manual_seed(0)
    vit = timm.create_model("test_vit", reg_tokens=2).eval()
    n_prefix, cls_index, grid = token_layout(vit)
    assert (n_prefix, cls_index, grid) == (3, 0, (10, 10))
    x = torch.randn(2, 3, 160, 160)
    with record_outputs(vit, ["blocks.1", "blocks.1@cls", "blocks.1@all"]) as out, torch.no_grad():
        vit(x)
    tokens = out["blocks.1@all"]
    assert tokens.shape == (2, 103, 64)
    torch.testing.assert_close(out["blocks.1@cls"], tokens[:, 0])
    # patch token at grid (row 4, col 7) is token 3 + 4 * 10 + 7
    assert out["blocks.1"].shape == (2, 64, 10, 10)
    torch.testing.assert_close(out["blocks.1"][:, :, 4, 7], tokens[:, 3 + 47])


def test_tokens_option_renames_layers_and_reaches_shapes():
    assert _vit().tokens == "patches"
    assert layer_shapes(_vit(), "blocks.5,head") == {"blocks.5": (64, 10, 10), "head": (1000,)}
    cls = load_model("timm:test_vit", tokens="cls")
    assert resolve_layers(cls, "blocks.5,norm@all") == ("blocks.5@cls", "norm@all")
    assert layer_shapes(cls, "blocks.5,norm@all") == {"blocks.5@cls": (64,), "norm@all": (101, 64)}
    assert resolve_layers(load_model("alexnet_bn64", tokens="cls"), "features.3") == ("features.3",)


def test_torchvision_vit_tokens():
    from torchvision.models import VisionTransformer

    vit = VisionTransformer(image_size=32, patch_size=8, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32).eval()
    assert token_layout(vit) == (1, 0, (4, 4))
    with record_outputs(vit, ["encoder.layers.encoder_layer_0", "encoder.layers.encoder_layer_0@all"]) as out, \
            torch.no_grad():
        vit(torch.randn(2, 3, 32, 32))
    tokens = out["encoder.layers.encoder_layer_0@all"]
    assert out["encoder.layers.encoder_layer_0"].shape == (2, 16, 4, 4)
    torch.testing.assert_close(out["encoder.layers.encoder_layer_0"][:, :, 1, 2], tokens[:, 1 + 6])


def test_residual_addition_nodes_are_addressable():
    # torchvision's BasicBlock: out += identity; out = self.relu(out), the block's second relu call,
    # in place: the addition must be copied before that ReLU overwrites it
    loaded = load_model("torchvision:resnet18", seed=0)
    names = ["layer1.0.add", "layer1.0.relu:1", "layer2.1.add"]
    assert resolve_layers(loaded, names) == tuple(names)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with record_outputs(loaded.module, names) as out, torch.no_grad():
        loaded.module(x)
    assert (out["layer1.0.add"] < 0).any()
    torch.testing.assert_close(out["layer1.0.relu:1"], torch.relu(out["layer1.0.add"]))
    with pytest.raises(ModelError, match="unknown layer 'layer1.0.addd'"):
        resolve_layers(loaded, "layer1.0.addd")


def test_models_layers_all_lists_calls_and_graph_nodes():
    result = _cli("models", "layers", "timm:test_resnet", "--all")
    assert result.exit_code == 0, result.output
    rows = {line[2:].split()[0]: (line[0], line[2:].split()[1:]) for line in result.output.splitlines()}
    # 160 px input: stem /4 -> 40x40 for layer1, then /2 per stage
    assert rows["layer1.0.add"] == (" ", ["32x40x40", "graph"])
    assert rows["layer4.0.add"] == (" ", ["96x5x5", "graph"])
    assert rows["layer4"] == ("*", ["96x5x5"])
    assert [n for n, (_, rest) in rows.items() if rest[-1:] == ["graph"]] == [
        f"layer{i}.0.add" for i in range(1, 5)]


def test_models_layers_shows_zoo_area_outputs():
    result = _cli("models", "layers", "streamnet_dual", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert list(rows) == ["VISp", "ventral", "dorsal", "VISpor", "VISam"]
    assert rows["VISam"] == [256, 3, 3]


def test_extract_tokens_cls_through_the_cli(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((20, 20, 3), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "acts.nc"
    result = _cli("extract", "timm:test_vit", "--stimuli", folder, "--layers", "blocks.5", "--tokens", "cls",
                  "-o", out, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    assert '"blocks.5@cls": [\n      2,\n      64' in result.output
