"""brainalign's own architectures, one module per family; each module registers its factories.

:data:`MODELS` declares every zoo name with the module that registers it and a one-line
description, so listing and checking names never imports torch; building a model imports its
module (``tests/test_models.py`` checks that this table and the registry agree).
"""

#: name -> (module of this package that registers it, one-line description)
MODELS = {
    "alexnet_bn64": ("alexnet_bn64", "AlexNet-BN, 64x64 input (Nayebi et al. 2023)"),
    "alexnet_bn64_headless": ("alexnet_bn64", "AlexNet-BN, 64x64 input, no class head (Nayebi et al. 2023, SSL)"),
    "clapp_vgg6": ("clapp_vgg6", "CLAPP VGG-6, 16x16 patches of 64x64 grayscale (Illing et al. 2021)"),
    "lcl_v2": ("lcl_v2", "LCL-V2 two-stage model (Parthasarathy et al. 2024); some details assumed"),
    "pixels": ("pixels", "pixel baseline: 64x64 grayscale image, flattened"),
    "sim_oracle": ("simulated_cortex", "positive control: the simulator's own noise-free rates"),
    "streamnet_dual": ("streamnet", "StreamNet, two streams, 64x64 (Nayebi et al. 2023)"),
    "streamnet_single": ("streamnet", "StreamNet, one stream, 64x64 (Nayebi et al. 2023)"),
    "streamnet_six": ("streamnet", "StreamNet, six streams, 64x64 (Nayebi et al. 2023)"),
    "tang_amit_cnn": ("tang_amit_cnn", "CIFAR CNN of Tang, Yang & Amit 2022 (layer widths assumed)"),
}
