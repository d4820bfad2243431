"""The built-in training objectives as ``brainalign train --help`` lists them, without importing torch.

Each entry repeats what its class in :mod:`.objectives` says: the first line of its docstring,
the architectures it is defined on (empty: any), its number of views, its published recipe and
its ``--option`` defaults. ``tests/test_cli_speed.py`` holds every entry equal to its class, so the
help cannot drift from the code; a new objective adds its line here with its module.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import InputError


class ObjectiveSummary(NamedTuple):
    """One objective as the help shows it; ``recipe`` is (optimizer, lr, batch size, epochs, schedule)."""

    summary: str
    architectures: tuple[str, ...]
    n_views: int
    recipe: tuple[str, float, int, int, str]
    options: dict


#: {name: ObjectiveSummary}, sorted by name.
OBJECTIVES = {
    "barlow_twins": ObjectiveSummary(
        "Barlow Twins (Zbontar et al. 2021): cross-correlation of the two views' embeddings to identity.",
        architectures=(), n_views=2,
        recipe=("lars", 0.2, 2048, 58, "cosine"),
        options={"proj_dim": 8192, "lambda_param": 0.0051}),
    "clapp": ObjectiveSummary(
        "CLAPP's layer-local contrastive predictive hinge rule on ``clapp_vgg6``.",
        architectures=("clapp_vgg6",), n_views=1,
        recipe=("sgd", 0.01, 256, 100, "constant"),
        options={"seed": 0, "either_pos_or_neg": True, "prediction_steps": 5}),
    "instance_recognition": ObjectiveSummary(
        "Instance recognition (Wu et al. 2018): each image is its own class, with a memory bank.",
        architectures=(), n_views=1,
        recipe=("sgd", 0.03, 256, 200, "step"),
        options={"negatives": 4096, "temperature": 0.07, "bank_momentum": 0.5, "out_dim": 128}),
    "lcl": ObjectiveSummary(
        "Layerwise complexity-matched learning on ``lcl_v2`` (assumptions: the module docstring).",
        architectures=("lcl_v2",), n_views=1,
        recipe=("sgd", 0.01, 256, 100, "constant"),
        options={"seed": 0, "schedule": "greedy", "steps_per_stage": 1000, "amplitude": 0.25,
                 "decorrelation": 1.0, "locations": 64}),
    "moco": ObjectiveSummary(
        "MoCo v2 (Chen et al. 2020): query encoder + momentum key encoder, queue of negatives.",
        architectures=(), n_views=2,
        recipe=("sgd", 0.06, 512, 200, "cosine"),
        options={"temperature": 0.2, "queue_size": 65536, "momentum": 0.999, "hidden_dim": 2048, "out_dim": 128}),
    "rotnet": ObjectiveSummary(
        "RotNet (Gidaris et al. 2018): predict which of four rotations was applied to each image.",
        architectures=(), n_views=1,
        recipe=("sgd_nesterov", 0.01, 192, 50, "step"),
        options={}),
    "simclr": ObjectiveSummary(
        "SimCLR (Chen et al. 2020): two views, a 2048-128 MLP head, NT-Xent over the batch.",
        architectures=(), n_views=2,
        recipe=("lars", 4.8, 4096, 200, "cosine"),
        options={"temperature": 0.1, "hidden_dim": 2048, "out_dim": 128}),
    "simsiam": ObjectiveSummary(
        "SimSiam (Chen & He 2021): predictor on one view, stop-gradient on the other, negative cosine.",
        architectures=(), n_views=2,
        recipe=("sgd", 0.1, 512, 100, "cosine"),
        options={"proj_dim": 2048, "pred_hidden": 512}),
    "sparse_autoencoder": ObjectiveSummary(
        "Sparse autoencoder: reconstruct the (augmented) image from a 128-d code with an L1 penalty.",
        architectures=(), n_views=1,
        recipe=("sgd", 0.01, 256, 100, "step"),
        options={"code_dim": 128, "l1": 0.0005}),
    "tang_amit": ObjectiveSummary(
        "Tang, Yang & Amit's contrastive hinge loss, trained layer-wise on ``tang_amit_cnn``.",
        architectures=("tang_amit_cnn",), n_views=2,
        recipe=("sgd", 0.01, 256, 100, "constant"),
        options={"seed": 0, "schedule": "greedy", "feedback": "fixed_random", "steps_per_stage": 1000,
                 "tau": 2.0, "delta": 1.0}),
    "vicreg": ObjectiveSummary(
        "VICReg (Bardes et al. 2022): invariance, variance and covariance terms on the embeddings.",
        architectures=(), n_views=2,
        recipe=("lars", 1.6, 2048, 1000, "cosine"),
        options={"proj_dim": 8192, "lambda_param": 25.0, "mu_param": 25.0, "nu_param": 1.0}),
}


def check_objective(name: str) -> None:
    """InputError naming the objectives when ``name`` is not one (before torch is imported)."""
    if name not in OBJECTIVES:
        raise InputError(f"unknown training objective {name!r}", hint=f"choose one of: {', '.join(OBJECTIVES)}")
