"""AlexNet with batch norm at 64x64 input, as in Nayebi et al. 2023 (mouse visual cortex).

Layer order and state-dict keys follow ``AlexNetBN`` in the public repository
neuroailab/mouse-vision (``mouse_vision/models/imagenet_models/alexnet.py``), so its checkpoints
load with strict key matching::

    features.0  Conv2d(3, 64, k=11, s=4, p=2)    features.9   BatchNorm2d(384)
    features.1  BatchNorm2d(64)                   features.10  ReLU           <- conv3
    features.2  ReLU                              features.11  Conv2d(384, 256, k=3, p=1)
    features.3  MaxPool2d(3, 2)      <- pool1     features.12  BatchNorm2d(256)
    features.4  Conv2d(64, 192, k=5, p=2)         features.13  ReLU           <- conv4
    features.5  BatchNorm2d(192)                  features.14  Conv2d(256, 256, k=3, p=1)
    features.6  ReLU                              features.15  BatchNorm2d(256)
    features.7  MaxPool2d(3, 2)      <- pool2     features.16  ReLU
    features.8  Conv2d(192, 384, k=3, p=1)        features.17  MaxPool2d(3, 2) <- pool5
    avgpool     AdaptiveAvgPool2d(6)
    classifier  0 Dropout, 1 Linear(9216, 4096), 2 BatchNorm1d, 3 ReLU (<- fc6),
                4 Dropout, 5 Linear(4096, 4096), 6 BatchNorm1d, 7 ReLU (<- fc7),
                8 Linear(4096, 1000)

The self-supervised variants of that paper (instance recognition, SimCLR, MoCo v2, SimSiam) drop
the last Linear (``drop_final_fc=True``); they load into :func:`alexnet_bn64_headless`.

ReLUs here are not in-place (the original's are): outputs and keys are identical, and a forward
hook on a batch-norm layer sees its own output rather than one overwritten by the next ReLU.
"""

from __future__ import annotations

import torch
from torch import nn

from ..base import Preprocessing, seeded
from ..registry import ZooEntry, register_model

#: The layers Nayebi et al. 2023 score for AlexNet-BN (``MODEL_LAYERS["alexnet_bn"]`` in
#: ``mouse_vision/models/model_layers.py``): pool1, pool2, conv3, conv4, pool5, fc6, fc7.
#: Output shapes (without batch) at 64x64 input: (64, 7, 7), (192, 3, 3), (384, 3, 3), (256, 3, 3),
#: (256, 1, 1), (4096,), (4096,).
DEFAULT_LAYERS = ("features.3", "features.7", "features.10", "features.13", "features.17",
                  "classifier.3", "classifier.7")

#: Their validation transform ``SupervisedImageNetTrainer_64x64``: resize 256, centre crop 224,
#: resize 64, ImageNet mean/std.
PREPROCESSING = Preprocessing(input_size=64, resize=256, crop=224)


class AlexNetBN64(nn.Module):
    """AlexNet with batch norm after every conv and hidden fully connected layer.

    Parameters
    ----------
    num_classes : int or None, default=1000
        Size of the last Linear layer; None leaves it out (the classifier ends at fc7's ReLU).
    pool_size : int, default=6
        Side of the adaptive average pool before the classifier.

    Notes
    -----
    At 64x64 input the feature maps are 15x15 (conv1), 7x7 (pool1), 3x3 (pool2 to conv5) and
    1x1 (pool5); the adaptive pool then repeats that 1x1 map to ``pool_size`` x ``pool_size``.

    Examples
    --------
    >>> net = AlexNetBN64().eval()
    >>> net(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 1000])
    """

    def __init__(self, num_classes: int | None = 1000, pool_size: int = 6):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.BatchNorm2d(192),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.BatchNorm2d(384),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        head = [] if num_classes is None else [nn.Linear(4096, num_classes)]
        self.classifier = nn.Sequential(
            nn.Dropout(),
            nn.Linear(256 * pool_size * pool_size, 4096),
            nn.BatchNorm1d(4096),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.BatchNorm1d(4096),
            nn.ReLU(),
            *head,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images of shape (batch, 3, 64, 64) to (batch, num_classes), or (batch, 4096)."""
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def _create(seed: int, num_classes: int | None, description: str) -> ZooEntry:
    with seeded(seed):
        module = AlexNetBN64(num_classes=num_classes)
    return ZooEntry(module=module, preprocessing=PREPROCESSING, default_layers=DEFAULT_LAYERS,
                    description=description, head=() if num_classes is None else ("classifier.8",))


@register_model
def alexnet_bn64(seed: int = 0) -> ZooEntry:
    """AlexNet-BN at 64x64 with the 1000-way ImageNet head (supervised checkpoints).

    Default layers: pool1, pool2, conv3, conv4, pool5, fc6, fc7 (see :data:`DEFAULT_LAYERS`).
    """
    return _create(seed, 1000, "AlexNet-BN, 64x64 input (Nayebi et al. 2023)")


@register_model
def alexnet_bn64_headless(seed: int = 0) -> ZooEntry:
    """AlexNet-BN at 64x64 without the last Linear (self-supervised checkpoints of the paper).

    Default layers: as :func:`alexnet_bn64`.
    """
    return _create(seed, None, "AlexNet-BN, 64x64 input, no class head (Nayebi et al. 2023, SSL)")
