"""A guess of a backbone's architecture from its state dict's keys and shapes (no model built)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

_RESNETS = {("basic", (2, 2, 2, 2)): "resnet18", ("basic", (3, 4, 6, 3)): "resnet34",
            ("bottleneck", (3, 4, 6, 3)): "resnet50", ("bottleneck", (3, 4, 23, 3)): "resnet101",
            ("bottleneck", (3, 8, 36, 3)): "resnet152"}
_VIT_SIZES = {192: "tiny", 384: "small", 768: "base", 1024: "large", 1280: "huge"}
_VGGS = {8: "vgg11", 10: "vgg13", 13: "vgg16", 16: "vgg19"}



def guess_family(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """Name the architecture a backbone state dict looks like, with the specs that fit it.

    Examples
    --------
    >>> guess_family({"patch_embed.proj.weight": torch.zeros(384, 3, 16, 16), "blocks.0.norm1.weight": torch.zeros(1)})
    'ViT-small/16, depth 1 (timm:vit_small_patch16_224)'
    >>> guess_family({"x": torch.zeros(1)}) is None
    True
    """
    keys = set(state_dict)
    for guess in (_resnet, _timm_vit, _torchvision_vit, _streamnet, _alexnet, _zoo_by_keys, _vgg, _convnext):
        found = guess(state_dict, keys)
        if found:
            return found
    return None


def _count(keys: set[str], pattern: str) -> int:
    regex = re.compile(pattern)
    return len({m.group(1) for k in keys if (m := regex.match(k))})


def _resnet(sd, keys) -> str | None:
    if "conv1.weight" not in keys or "layer1.0.conv1.weight" not in keys:
        return None
    block = "bottleneck" if "layer1.0.conv3.weight" in keys else "basic"
    depths = tuple(_count(keys, rf"layer{i}\.(\d+)\.") for i in range(1, 5))
    name = _RESNETS.get((block, depths))
    if name and block == "bottleneck" and sd["layer1.0.conv1.weight"].shape[0] == 128:
        name = {"resnet50": "wide_resnet50_2", "resnet101": "wide_resnet101_2"}.get(name, name)
    head = f", {sd['fc.weight'].shape[0]}-way fc" if "fc.weight" in keys else ", no fc"
    label = f"ResNet ({block} blocks {'-'.join(map(str, depths))}{head})"
    return f"{label}: timm:{name} or torchvision:{name}" if name else label


def _timm_vit(sd, keys) -> str | None:
    if "patch_embed.proj.weight" not in keys or not any(k.startswith("blocks.") for k in keys):
        return None
    dim, _, patch, _ = sd["patch_embed.proj.weight"].shape
    depth = _count(keys, r"blocks\.(\d+)\.")
    size = _VIT_SIZES.get(dim)
    registers = f"_reg{sd['reg_token'].shape[1]}" if "reg_token" in keys else ""
    spec = f" (timm:vit_{size}_patch{patch}{registers}_224)" if size else ""
    return f"ViT-{size or dim}/{patch}, depth {depth}{spec}"


def _torchvision_vit(sd, keys) -> str | None:
    if "conv_proj.weight" not in keys:
        return None
    dim, _, patch, _ = sd["conv_proj.weight"].shape
    size = {768: "b", 1024: "l", 1280: "h"}.get(dim)
    return f"torchvision ViT, width {dim}, patch {patch}" + (f" (torchvision:vit_{size}_{patch})" if size else "")


def _streamnet(sd, keys) -> str | None:
    if "model_layers.input_VISp.0.weight" not in keys:
        return None
    streams = {k.split(".")[1].split("_")[1] for k in keys if k.startswith("model_layers.VISp_")} - {"VISpor", "VISam"}
    name = {1: "streamnet_single", 2: "streamnet_dual", 6: "streamnet_six"}.get(len(streams))
    return f"StreamNet with {len(streams)} stream(s)" + (f" ({name})" if name else "")


def _alexnet(sd, keys) -> str | None:
    weight = sd.get("features.0.weight")
    if weight is None or tuple(weight.shape) != (64, 3, 11, 11):
        return None
    if "features.1.running_mean" in keys:
        return "AlexNet-BN 64x64 (alexnet_bn64" + ("" if "classifier.8.weight" in keys else "_headless") + ")"
    return "AlexNet (torchvision:alexnet)"


def _zoo_by_keys(sd, keys) -> str | None:
    if "encoder.0.0.weight" in keys and "encoder.5.0.weight" in keys and sd["encoder.0.0.weight"].shape[1] == 1:
        return "CLAPP VGG-6 (clapp_vgg6)"
    if "stage1.conv.weight" in keys and "stage2.conv.weight" in keys:
        return "LCL-V2 two-stage model (lcl_v2)"
    if "conv1.weight" in keys and "conv5.weight" in keys and "embed.weight" in keys:
        return "Tang, Yang & Amit CNN (tang_amit_cnn)"
    return None


def _vgg(sd, keys) -> str | None:
    convs = [k for k in keys if re.fullmatch(r"features\.\d+\.weight", k) and sd[k].dim() == 4]
    if len(convs) < 8 or any(sd[k].shape[-1] != 3 for k in convs):
        return None
    name = _VGGS.get(len(convs))
    bn = "_bn" if any(k.endswith("running_mean") for k in keys) else ""
    return f"VGG with {len(convs)} convs" + (f" (torchvision:{name}{bn})" if name else "")


def _convnext(sd, keys) -> str | None:
    if any(k.startswith("stages.0.blocks.0.conv_dw") for k in keys) or "downsample_layers.0.0.weight" in keys:
        return "ConvNeXt (timm:convnext_*)"
    return None
