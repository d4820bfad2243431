"""Checkpoint formats come from a registry: the README's example format is one module, detected and
loaded like the built-ins, and detection asks the built-ins in the order the old cascade did."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from brainalign.cli import main
from brainalign.errors import FileFormatError
from brainalign.models import load_model
from brainalign.models import checkpoint_formats as registry
from brainalign.models.checkpoint import read_checkpoint

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_format_module() -> str:
    """The README's worked example of a checkpoint format module (under "Adding a checkpoint format")."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(# mylab_brainalign/checkpoints\.py.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "the README shows one example format module"
    return blocks[0]


@pytest.fixture
def readme_format(tmp_path, monkeypatch):
    """The README's module imported as a plugin would be: registered for this test only."""
    registry.list_formats()                                     # built-ins and plugins first
    monkeypatch.setattr(registry, "_FORMATS", dict(registry._FORMATS))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))
    path = tmp_path / "mylab_checkpoints.py"
    path.write_text(_readme_format_module(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("mylab_checkpoints", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return registry.get_format("mylab")


def test_the_readme_format_is_detected_and_loads_only_its_backbone(readme_format, tmp_path):
    original = load_model("timm:test_resnet", seed=7).module.state_dict()
    net = {f"trunk.{k}": v for k, v in original.items()}
    net.update({"trunk.head.weight": torch.ones(3, 4), "ema.trunk.conv1.weight": torch.zeros(1)})
    path = tmp_path / "mylab.pt"
    torch.save({"mylab_version": 2, "net": net, "optimizer": {"lr": torch.tensor(0.1)}}, path)

    assert readme_format.aliases == ("mylab-v2",) and registry.resolve_format_name("mylab-v2") == "mylab"
    assert next(iter(registry.list_formats())) == "mylab"       # a new format is asked before the built-ins
    loaded = load_model("timm:test_resnet", checkpoint=path)     # seed 0 init, then the file's weights
    info = loaded.info["checkpoint"]
    assert (info["format"], info["entry"], info["prefix_stripped"]) == ("mylab", "net", "trunk.")
    assert (info["keys_loaded"], info["keys_dropped"], info["missing"], info["unexpected"]) == (
        len(original), 2, [], [])
    assert all(torch.equal(loaded.module.state_dict()[k], v) for k, v in original.items())
    assert read_checkpoint(path, checkpoint_format="mylab-v2").ignored_entries == ["mylab_version", "optimizer"]


def test_the_cli_lists_and_accepts_registered_formats(readme_format, tmp_path):
    listed = CliRunner().invoke(main, ["models", "formats", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    names = [row["name"] for row in rows]
    assert names[0] == "mylab" and names[-1] == "plain" and set(names) == set(registry.list_formats())
    assert {"name": "mylab", "codebase": "my lab's trainer", "aliases": ["mylab-v2"], "priority": 200,
            "entries": ["net"], "backbones": ["trunk."], "drop": ["trunk.head.*", "ema.*"]} in rows
    path = tmp_path / "plain.pt"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    forced = CliRunner().invoke(main, ["models", "inspect", str(path), "--checkpoint-format", "mylab"])
    assert forced.exit_code == 2 and "is not a mylab checkpoint (my lab's trainer): it has no net" in forced.stderr


def test_checkpoint_format_completion_reads_the_registry(readme_format):
    from brainalign.cli._common import complete_checkpoint_format

    assert complete_checkpoint_format(None, None, "my") == ["mylab", "mylab-v2"]
    assert complete_checkpoint_format(None, None, "mo") == ["mouse_vision", "moco", "mocov3"]


def test_a_name_is_registered_once(readme_format):
    with pytest.raises(ValueError, match="'moco' is registered twice"):
        registry.register_format(name="other", codebase="x", entries=((),), backbones=("",),
                                 aliases=("moco",))(lambda view: False)
    with pytest.raises(FileFormatError, match="unknown checkpoint format 'nope'") as caught:
        registry.resolve_format_name("nope")
    assert "mylab" in caught.value.hint and "brainalign models formats" in caught.value.hint


def _old_cascade(obj: Mapping) -> str:
    """detect_format as it was written before the registry (one if-chain), the reference."""
    def mapping(v):
        return isinstance(v, Mapping)

    if mapping(obj.get("classy_state_dict")):
        return "vissl"
    if mapping(obj.get("teacher")) or mapping(obj.get("student")):
        return "dino"
    if mapping(obj.get("model_state_dict")):
        return "mouse_vision"
    if mapping(obj.get("brainalign_training")) and mapping(obj.get("model")):
        return "brainalign"
    lightning = "pytorch-lightning_version" in obj or ("global_step" in obj and mapping(obj.get("state_dict")))
    inner = next((obj[k] for k in ("state_dict", "model") if mapping(obj.get(k))), obj)
    heads = {re.sub(r"^((module|_orig_mod)\.)+", "", k).split(".")[0] for k in inner if isinstance(k, str)}
    if lightning:
        lightly = {"projection_head", "prediction_head", "online_classifier"} & heads or \
            any(h.endswith("_momentum") for h in heads)
        return "lightly" if lightly else "solo-learn"
    for marker, name in (("encoder_q", "moco"), ("base_encoder", "mocov3")):
        if marker in heads:
            return name
    if "encoder" in heads and "predictor" in heads:
        return "simsiam"
    if "backbone" in heads and "projection_head" in heads:
        return "lightly"
    if "backbone" in heads and ("bn" in heads or mapping(obj.get("model"))):
        return "barlowtwins"
    if "backbone" in heads or ("encoder" in heads and ("projector" in heads or heads == {"encoder"})):
        return "simclr"
    if mapping(obj.get("state_dict_ema")) or (mapping(obj.get("state_dict")) and "args" in obj):
        return "timm"
    return "plain"


_HEADS = ("encoder_q", "base_encoder", "encoder", "predictor", "backbone", "projection_head", "bn", "projector",
          "online_classifier", "head_momentum", "module.backbone", "conv1")
_TOPS = ({}, {"pytorch-lightning_version": "2.1"}, {"global_step": 3}, {"args": {}},
         {"state_dict_ema": {"x": 0}}, {"brainalign_training": {}}, {"teacher": {}}, {"classy_state_dict": {}},
         {"model_state_dict": {}})


def test_detection_order_matches_the_old_cascade():
    """Every combination of up to three weight-key heads, under every wrapper entry and top-level
    marker: the registry picks what the old if-chain picked (4,000+ layouts)."""
    builtins = [fmt for fmt in registry.list_formats().values() if fmt.priority < registry.DEFAULT_PRIORITY]
    checked = 0
    for size in range(4):
        for heads in itertools.combinations(_HEADS, size):
            weights = {f"{h}.w": 0 for h in heads}
            for top, where in itertools.product(_TOPS, ("state_dict", "model", None)):
                obj = {**top, **({where: weights} if where else weights)}
                view = registry.CheckpointView.of(obj)
                found = next(f.name for f in builtins if f.detect(view))
                assert found == _old_cascade(obj), obj
                checked += 1
    assert checked > 4000


def test_listing_formats_imports_no_torch():
    """The registry and the format modules are torch-free: `models formats` answers at once."""
    code = ("import sys; from brainalign.cli import main; main(['models', 'formats'], standalone_mode=False); "
            "print(sorted(m for m in ('torch', 'timm', 'xarray') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "[]" and lines[0].split()[0] == "vissl" and lines[-2].split()[0] == "plain"
