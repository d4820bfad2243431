"""StreamNet: Nayebi et al. 2023's parallel-stream models of mouse visual cortex (64x64 input).

The architecture and state-dict keys follow ``MultiStreamMouseNet`` with ``norm_layer=BN`` and
``visp_output_pool=False`` ("visp_3x3") in neuroailab/mouse-vision
(``mouse_vision/models/imagenet_models/parallel_stream_mousenet.py``), so its checkpoints load with
strict key matching. Each connection ``<src>_<tgt>`` is a ``model_layers`` entry::

    input_VISp       0 Conv2d(3, 64, k=11, s=4, p=2), 1 BatchNorm2d, 2 ReLU, 3 MaxPool2d(3, 2)
    VISp_<stream>    0 Conv2d(64, 192, k=5, p=2), 1 BN, 2 ReLU, 3 MaxPool2d(3, 2),
                     4 Conv2d(192, 384, k=3, p=1), 5 BN, 6 ReLU
    <stream>_<out>   0 Conv2d(384, 256, k=3, p=1), 1 BN, 2 ReLU          (out: VISpor, VISam)
    VISp_<out>       0 Conv2d(64, 256, k=3, s=2), 1 BN, 2 ReLU           (the shortcut)
    avgpool          AdaptiveAvgPool2d(6) of the outputs concatenated along channels
    classifier       0 Flatten, 1 Dropout, 2 Linear(n_out * 256 * 36, 1000)

An area's response is the sum of its rectified inputs (``VISpor = VISp_VISpor + Σ stream_VISpor``),
computed in ``forward``. The original keeps these sums in a dict; here each passes through an
``nn.Identity`` named after the area, so ``VISp``, ``VISl``, ..., ``VISpor``, ``VISam`` are
addressable layers (no parameters, so the keys are unchanged). Shapes at 64x64: VISp
(64, 7, 7), streams (384, 3, 3), VISpor / VISam (256, 3, 3).

Self-supervised checkpoints of the paper have no classifier Linear (``drop_final_fc=True``); they
load with ``classifier.2`` left at its initial values, as the load summary reports.
"""

from __future__ import annotations

import torch
from torch import nn

from ..base import seeded
from ..registry import ZooEntry, register_model
from .alexnet_bn64 import PREPROCESSING

SIX_STREAMS = ("VISl", "VISrl", "VISal", "VISli", "VISpm", "VISpl")


def _conv(c_in: int, c_out: int, **kwargs) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, **kwargs), nn.BatchNorm2d(c_out), nn.ReLU()]


class StreamNet(nn.Module):
    """VISp feeding parallel streams that converge on VISpor (and VISam).

    Parameters
    ----------
    streams : tuple of str
        The intermediate areas, e.g. ``("ventral", "dorsal")``.
    outputs : tuple of str
        ``("VISpor",)`` or ``("VISpor", "VISam")``.
    num_classes : int or None, default=1000
        Size of the classifier Linear; None leaves it out (self-supervised checkpoints).

    Examples
    --------
    >>> net = StreamNet(("ventral",), ("VISpor",)).eval()
    >>> net(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1000])
    """

    def __init__(self, streams: tuple[str, ...], outputs: tuple[str, ...], num_classes: int | None = 1000,
                 pool_size: int = 6):
        super().__init__()
        self.streams, self.outputs = tuple(streams), tuple(outputs)
        self.connections = (["input_VISp"] + [f"VISp_{s}" for s in streams] + [f"VISp_{o}" for o in outputs]
                            + [f"{s}_{o}" for s in streams for o in reversed(outputs)])
        layers = nn.ModuleDict()
        for conn in self.connections:
            source, target = conn.split("_")
            if source == "input":
                layers[conn] = nn.Sequential(*_conv(3, 64, kernel_size=11, stride=4, padding=2),
                                             nn.MaxPool2d(kernel_size=3, stride=2))
            elif source == "VISp" and target in outputs:
                layers[conn] = nn.Sequential(*_conv(64, 256, kernel_size=3, stride=2))
            elif source == "VISp":
                layers[conn] = nn.Sequential(*_conv(64, 192, kernel_size=5, padding=2),
                                             nn.MaxPool2d(kernel_size=3, stride=2),
                                             *_conv(192, 384, kernel_size=3, padding=1))
            else:
                layers[conn] = nn.Sequential(*_conv(384, 256, kernel_size=3, padding=1))
        self.model_layers = layers
        self.areas = ("VISp", *streams, *outputs)
        for area in self.areas:
            self.add_module(area, nn.Identity())
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        head = [] if num_classes is None else [nn.Dropout(), nn.Linear(len(outputs) * 256 * pool_size ** 2,
                                                                        num_classes)]
        self.classifier = nn.Sequential(nn.Flatten(start_dim=1), *head)
        self._last_input = {conn.split("_")[1]: conn for conn in self.connections}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (batch, 3, 64, 64) to (batch, num_classes), or (batch, n_out * 256 * 36) headless."""
        areas = {"input": x}
        sums: dict[str, torch.Tensor] = {}
        for conn in self.connections:
            source, target = conn.split("_")
            out = self.model_layers[conn](areas[source])
            sums[target] = out if target not in sums else sums[target] + out
            if self._last_input[target] == conn:  # every input of `target` has arrived
                areas[target] = getattr(self, target)(sums[target])
        pooled = self.avgpool(torch.cat([areas[o] for o in self.outputs], dim=1))
        return self.classifier(pooled)


def _create(seed: int, streams, outputs, description: str) -> ZooEntry:
    with seeded(seed):
        module = StreamNet(streams, outputs)
    return ZooEntry(module=module, preprocessing=PREPROCESSING, default_layers=module.areas,
                    description=description, head=("classifier.2",))


@register_model
def streamnet_single(seed: int = 0) -> ZooEntry:
    """Single-stream StreamNet (``simplified_mousenet_single_stream``): VISp -> ventral -> VISpor.

    Default layers: VISp, ventral, VISpor.
    """
    return _create(seed, ("ventral",), ("VISpor",), "StreamNet, one stream, 64x64 (Nayebi et al. 2023)")


@register_model
def streamnet_dual(seed: int = 0) -> ZooEntry:
    """Dual-stream StreamNet (``simplified_mousenet_dual_stream_visp_3x3_bn``): ventral and dorsal.

    Default layers: VISp, ventral, dorsal, VISpor, VISam.
    """
    return _create(seed, ("ventral", "dorsal"), ("VISpor", "VISam"),
                   "StreamNet, two streams, 64x64 (Nayebi et al. 2023)")


@register_model
def streamnet_six(seed: int = 0) -> ZooEntry:
    """Six-stream StreamNet (``simplified_mousenet_six_stream_visp_3x3_bn``): one stream per area.

    Default layers: VISp, VISl, VISrl, VISal, VISli, VISpm, VISpl, VISpor, VISam.
    """
    return _create(seed, SIX_STREAMS, ("VISpor", "VISam"), "StreamNet, six streams, 64x64 (Nayebi et al. 2023)")
