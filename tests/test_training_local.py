"""The layer-local learning rules: CLAPP, Tang-Yang-Amit, LCL.

Each rule is checked for: its loss against a direct formula on hand-made inputs, gradient
isolation (a layer's update does not change when later layers or their losses change), a falling
loss under plain SGD on procedural stimuli, determinism under a seed, and its registration.
CLAPP runs on a narrowed clapp_vgg6 (same modules, fewer channels) to keep the file fast.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from brainalign.errors import InputError
from brainalign.models.zoo import clapp_vgg6 as clapp_zoo
from brainalign.models.zoo.lcl_v2 import LCLV2
from brainalign.models.zoo.tang_amit_cnn import TangAmitCNN
from brainalign.stimuli.procedural import simulated_stimuli
from brainalign.training.objectives import get_objective, list_objectives
from brainalign.training.objectives.clapp import CLAPP, clapp_hinge, prediction_scores
from brainalign.training.objectives.lcl import LCL, deform, deformation_field, lcl_loss, receptive_fields
from brainalign.training.objectives.tang_amit import TangAmit, l1_contrastive_hinge


@pytest.fixture(scope="module")
def stimuli() -> torch.Tensor:
    """Eight procedural images (textures, gratings, dead leaves), (8, 1, 32, 32) in [0, 1]."""
    images, _ = simulated_stimuli(seed=0, size=32)
    pick = np.linspace(0, len(images) - 1, 8).astype(int)
    return torch.from_numpy(images[pick])[:, None]


def small_clapp_backbone(monkeypatch) -> clapp_zoo.ClappVGG6:
    """clapp_vgg6's six modules and pools with 8-32 channels, on 40x40 images (a 4x4 patch grid)."""
    torch.manual_seed(0)
    monkeypatch.setattr(clapp_zoo, "MODULES", ((8, False), (16, True), (16, False), (32, True), (32, True),
                                               (32, True)))
    return clapp_zoo.ClappVGG6(image=40)  # 4x4 grid of 16x16 patches at stride 8


def clapp_objective(monkeypatch, **kwargs) -> CLAPP:
    return CLAPP(small_clapp_backbone(monkeypatch), input_size=40, channels=1, **kwargs)


def grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}


def backward_with_state(objective, views, state):
    """Zero grads, restore the generator state, return loss and parts after backward."""
    objective.zero_grad(set_to_none=True)
    objective.generator.set_state(state)
    loss, parts = objective.loss(views, torch.arange(len(views[0])))
    loss.backward()
    return loss, parts


def sgd_steps(objective, views, n_steps: int, lr: float, part: str) -> tuple[float, float]:
    """``part`` before and after ``n_steps`` of SGD on a fixed batch (same random draws each time)."""
    state = objective.generator.get_state()
    optimizer = torch.optim.SGD(objective.parameters(), lr=lr)
    values = []
    for _ in range(n_steps + 1):
        _, parts = backward_with_state(objective, views, state)
        values.append(parts[part])
        optimizer.step()
    return values[0], values[-1]


# ---------------------------------------------------------------- registration and arguments

def test_registered_with_their_architectures():
    assert {"clapp", "lcl", "tang_amit"} <= set(list_objectives())
    assert get_objective("clapp") is CLAPP and CLAPP.architectures == ("clapp_vgg6",)
    assert get_objective("tang_amit") is TangAmit and TangAmit.architectures == ("tang_amit_cnn",)
    assert get_objective("lcl") is LCL and LCL.architectures == ("lcl_v2",)
    assert (CLAPP.n_views, TangAmit.n_views, LCL.n_views) == (1, 2, 1)


@pytest.mark.parametrize("name,backbone", [("clapp", TangAmitCNN), ("tang_amit", LCLV2), ("lcl", TangAmitCNN)])
def test_wrong_architecture_is_one_input_error(name, backbone):
    with pytest.raises(InputError, match="trains") as info:
        get_objective(name)(backbone(), input_size=32, channels=3)
    assert info.value.hint.startswith("use --arch ")


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="schedule"):
        TangAmit(TangAmitCNN(), input_size=32, schedule="backwards")
    with pytest.raises(InputError, match="feedback"):
        TangAmit(TangAmitCNN(), input_size=32, feedback="symmetric")
    with pytest.raises(InputError, match="2 images"):
        TangAmit(TangAmitCNN(), input_size=32).loss([torch.zeros(1, 3, 32, 32)] * 2, torch.arange(1))


def test_clapp_on_the_zoo_model_follows_the_authors_sizes():
    objective = CLAPP(clapp_zoo.clapp_vgg6().module, input_size=64, channels=1)
    assert objective.prediction_steps == 5
    shapes = [tuple(half[0].shape) for module in objective.predictors for half in module[:1]]
    assert shapes == [(128, 128), (256, 256), (256, 256), (512, 512), (1024, 1024), (1024, 1024)]
    assert all(len(half) == 5 for module in objective.predictors for half in module)


# ---------------------------------------------------------------- CLAPP

def test_clapp_scores_and_hinge_equal_the_formula():
    context = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1)
    target = torch.tensor([3.0, -1.0]).view(1, 2, 1, 1)
    weight = torch.tensor([[0.5, 0.0], [0.25, -0.5]])
    # u = c . (W z) = [1, 2] . [1.5, 1.25] = 4.0
    assert prediction_scores(context, target, weight).item() == pytest.approx(4.0)
    scores = torch.tensor([[[0.5, 2.0]], [[-0.5, -3.0]]])  # (batch 2, 1 row, 2 cols)
    assert clapp_hinge(scores, +1.0).tolist() == pytest.approx([0.25, 2.75])  # mean max(0, 1 - u)
    assert clapp_hinge(scores, -1.0).tolist() == pytest.approx([2.25, 0.25])  # mean max(0, 1 + u)


def test_clapp_module_loss_equals_a_direct_computation(monkeypatch):
    objective = clapp_objective(monkeypatch, either_pos_or_neg=False, prediction_steps=2)
    generator = torch.Generator().manual_seed(1)
    grid = torch.randn(2, 3, 4, 1, generator=generator)  # 2 images: each one's negative is the other
    predictors = [[torch.randn(3, 3, generator=generator) for _ in range(2)] for _ in range(2)]
    params = torch.nn.ModuleList(torch.nn.ParameterList(torch.nn.Parameter(w) for w in half) for half in predictors)
    loss, full = objective.module_loss(grid, params)
    expected = 0.0
    for k in (1, 2):
        offset = k + 1
        for half in range(2):
            w = predictors[half][k - 1]
            pos = neg = 0.0
            for b in range(2):
                for y in range(4 - offset):
                    c, z, z_neg = grid[b, :, y, 0], grid[b, :, y + offset, 0], grid[1 - b, :, y + offset, 0]
                    pos += max(0.0, 1 - float(c @ w @ z)) / (4 - offset) / 2
                    neg += max(0.0, 1 + float(c @ w @ z_neg)) / (4 - offset) / 2
            expected += (pos + neg) / 2
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-5)
    assert float(full) == pytest.approx(expected, rel=1e-5)


def test_clapp_module_update_ignores_later_modules(monkeypatch, stimuli):
    objective = clapp_objective(monkeypatch)
    images = F.interpolate(stimuli[:3], size=40)
    state = objective.generator.get_state()

    def module_grads(weights):
        objective.zero_grad(set_to_none=True)
        objective.generator.set_state(state)
        grids = objective.module_outputs(images)
        total = sum(w * objective.module_loss(g, p)[0] for w, g, p in zip(weights, grids, objective.predictors))
        total.backward()
        return [grads(block) for block in objective.backbone.encoder]

    reference = module_grads([1.0] * 6)
    for level in range(5):
        weights = [1.0] * (level + 1) + [7.0] * (5 - level)
        changed = module_grads(weights)
        for lower in range(level + 1):
            for name, value in reference[lower].items():
                assert torch.equal(changed[lower][name], value), (level, lower, name)
        assert not torch.allclose(changed[level + 1]["0.weight"], reference[level + 1]["0.weight"])
    # perturbing later modules' weights and predictors leaves module 1's update unchanged too
    first = grads(objective.backbone.encoder[0])
    with torch.no_grad():
        for block in list(objective.backbone.encoder)[1:]:
            block[0].weight.mul_(-2.0)
        for module in list(objective.predictors)[1:]:
            for p in module.parameters():
                p.add_(1.0)
    after = module_grads([1.0] * 6)[0]
    assert all(torch.equal(after[n], v) for n, v in first.items())


def test_clapp_loss_falls_under_sgd_and_is_seeded(monkeypatch, stimuli):
    images = (F.interpolate(stimuli[:4], size=40) - 0.5) / 0.5  # clapp_vgg6's normalisation
    objective = clapp_objective(monkeypatch, either_pos_or_neg=False)
    # at initialisation true and other-image patches score alike (each module's loss ~ 4): the
    # bilinear scores start slowly, so the check is a steady fall, not a large one
    before, after = sgd_steps(objective, [images], n_steps=5, lr=10.0, part="hinge_cpc")
    assert after < before - 0.01
    same = [clapp_objective(monkeypatch, seed=3).loss([images], torch.arange(4))[1] for _ in range(2)]
    assert same[0] == same[1]
    other = clapp_objective(monkeypatch, seed=4).loss([images], torch.arange(4))[1]
    assert other["hinge_cpc"] != same[0]["hinge_cpc"]


def test_clapp_negatives_come_from_other_images(monkeypatch):
    objective = clapp_objective(monkeypatch, either_pos_or_neg=False, prediction_steps=1)
    # image b is the unit vector e_b everywhere and W = I: the true patch scores 1 (hinge 0),
    # a patch of another image scores 0 (hinge 1); the anchor itself as negative would give 2
    grid = torch.eye(3)[:, :, None, None].expand(3, 3, 4, 4).contiguous()
    params = torch.nn.ModuleList(torch.nn.ParameterList([torch.nn.Parameter(torch.eye(3))]) for _ in range(2))
    losses = {float(objective.module_loss(grid, params)[0].detach()) for _ in range(30)}
    assert losses == {2.0}


# ---------------------------------------------------------------- Tang, Yang & Amit

def test_tang_amit_hinge_equals_the_formula():
    h0 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    h1 = torch.tensor([[0.5, 0.0], [4.0, 0.0]])
    # L1 distances: d00 = 0.5, d01 = 4, d10 = 1.5, d11 = 4; tau = 2, delta = 1
    # same image: max(0, 1 - (2 - d)); other images: max(0, 1 + (2 - d))
    expected = (max(0, 1 - 1.5) + max(0, 1 - (2 - 4)) + max(0, 1 + (2 - 4)) + max(0, 1 + (2 - 1.5))) / 2
    assert l1_contrastive_hinge(h0, h1).item() == pytest.approx(expected)  # (0 + 3 + 0 + 1.5) / 2
    assert l1_contrastive_hinge(h0, h1, tau=5.0, delta=0.5).item() == pytest.approx(
        (0 + max(0, 0.5 - 1) + max(0, 0.5 + 1) + max(0, 0.5 + 3.5)) / 2)


def tang_views(stimuli, n=4):
    rgb = stimuli[:n].repeat(1, 3, 1, 1)
    return [rgb, torch.roll(rgb, shifts=2, dims=-1) * 0.9]


@pytest.mark.parametrize("feedback", ["fixed_random", "updated_random"])
def test_tang_amit_random_feedback_replaces_the_transposed_weights(feedback, stimuli):
    torch.manual_seed(0)
    objective = TangAmit(TangAmitCNN(), input_size=32, schedule="simultaneous", feedback=feedback, seed=1)
    views = tang_views(stimuli)
    loss, _ = objective.loss(views, torch.arange(4))
    loss.backward()
    for stage in range(5):
        x0, x1 = (objective.stage_inputs(v, stage)[stage] for v in views)
        conv = getattr(objective.backbone, f"conv{stage + 1}")
        head, feedback_matrix = objective.head(stage), objective.feedback_matrix(stage)
        with torch.no_grad():
            h0 = head(objective.hidden(stage, x0).flatten(1))
        hidden = objective.hidden(stage, x1).flatten(1)
        h1 = head(hidden)
        error = torch.autograd.grad(l1_contrastive_hinge(h0, h1), h1, retain_graph=True)[0]
        expected = torch.autograd.grad(hidden, conv.weight, error @ feedback_matrix.detach(), retain_graph=True)[0]
        backprop = torch.autograd.grad(hidden, conv.weight, error @ head.weight.detach())[0]
        assert torch.allclose(conv.weight.grad, expected, rtol=1e-4, atol=1e-7), stage
        assert not torch.allclose(conv.weight.grad, backprop, rtol=1e-2), stage
        assert torch.allclose(head.weight.grad, error.t() @ hidden.detach(), rtol=1e-4, atol=1e-7)


def test_tang_amit_updated_feedback_follows_the_forward_weights(stimuli):
    objective = TangAmit(TangAmitCNN(), input_size=32, schedule="simultaneous", feedback="updated_random")
    fixed = TangAmit(TangAmitCNN(), input_size=32, schedule="simultaneous", feedback="fixed_random")
    views = tang_views(stimuli)
    before = [(objective.head(s).weight.detach().clone(), objective.feedbacks[s].detach().clone()) for s in range(5)]
    fixed_before = [fixed.feedback_matrix(s).clone() for s in range(5)]
    for rule in (objective, fixed):
        optimizer = torch.optim.SGD(rule.parameters(), lr=0.01)
        rule.loss(views, torch.arange(4))[0].backward()
        optimizer.step()
    for stage, (weight, feedback) in enumerate(before):
        step_w = objective.head(stage).weight.detach() - weight
        step_b = objective.feedbacks[stage].detach() - feedback
        assert step_w.abs().max() > 0
        assert torch.allclose(step_b, step_w, atol=1e-7)
        assert torch.equal(fixed.feedback_matrix(stage), fixed_before[stage])
    assert not any(name.startswith("feedback") for name, _ in fixed.named_parameters())


def test_tang_amit_layer_update_ignores_later_layers(stimuli):
    torch.manual_seed(0)
    objective = TangAmit(TangAmitCNN(), input_size=32, schedule="simultaneous", feedback="fixed_random")
    views = tang_views(stimuli)
    state = objective.generator.get_state()
    backward_with_state(objective, views, state)
    reference = grads(objective)
    with torch.no_grad():  # change layers 3-5, their heads and feedback: layers 1-2 must not notice
        for k in (3, 4, 5):
            getattr(objective.backbone, f"conv{k}").weight.mul_(-1.5)
            objective.feedback_matrix(k - 1).mul_(3.0)
        for head in objective.heads[2:]:
            head.weight.add_(0.1)
    backward_with_state(objective, views, state)
    changed = grads(objective)
    for name in ("backbone.conv1.weight", "backbone.conv2.bias", "heads.0.weight", "heads.1.weight"):
        assert torch.equal(changed[name], reference[name]), name
    assert not torch.allclose(changed["backbone.conv3.weight"], reference["backbone.conv3.weight"])


def test_tang_amit_greedy_and_random_schedules(stimuli):
    views = tang_views(stimuli)
    greedy = TangAmit(TangAmitCNN(), input_size=32, schedule="greedy", steps_per_stage=1)
    trained = []
    for _ in range(6):
        greedy.zero_grad(set_to_none=True)
        loss, parts = greedy.loss(views, torch.arange(4))
        loss.backward()
        trained.append(sorted({n.split(".")[1] for n, p in greedy.named_parameters()
                               if p.grad is not None and n.startswith("backbone")}))
        greedy.after_step()
    assert trained == [["conv1"], ["conv2"], ["conv3"], ["conv4"], ["conv5", "embed"], ["conv5", "embed"]]
    assert parts["stage"] == 5.0
    draws = []
    for seed in (0, 0, 1):
        rule = TangAmit(TangAmitCNN(), input_size=32, schedule="random", seed=seed)
        draws.append([rule.active_stages()[0] for _ in range(40)])
    assert draws[0] == draws[1] != draws[2] and set(draws[0]) == {0, 1, 2, 3, 4}


def test_tang_amit_loss_falls_under_sgd_and_is_seeded(stimuli):
    views = tang_views(stimuli, n=6)
    for stage, lr in ((1, 1e-4), (2, 1e-3)):  # the layers' gradients differ in scale
        torch.manual_seed(0)
        objective = TangAmit(TangAmitCNN(), input_size=32, schedule="greedy", steps_per_stage=1,
                             feedback="fixed_random")
        objective.step.fill_(stage - 1)
        before, after = sgd_steps(objective, views, n_steps=5, lr=lr, part=f"layer{stage}")
        assert after < 0.85 * before, stage
    runs = []
    for _ in range(2):
        torch.manual_seed(5)
        rule = TangAmit(TangAmitCNN(), input_size=32, schedule="random", feedback="updated_random", seed=2)
        runs.append([rule.loss(views, torch.arange(6))[1] for _ in range(3)])
    assert runs[0] == runs[1]


# ---------------------------------------------------------------- LCL

def test_lcl_receptive_fields_match_the_measured_ones():
    model = LCLV2()
    stages = [model.stage1, model.stage2]
    computed = receptive_fields(stages)
    assert computed == [17, 41]
    with torch.no_grad():  # positive weights, biases and inputs: every ReLU is on, the RF is visible
        for stage in stages:
            stage.conv.weight.copy_(stage.conv.weight.abs())
            stage.conv.bias.fill_(0.1)
    image = (torch.rand(1, 3, 96, 96) + 0.5).requires_grad_()
    x = image
    for stage, rf in zip(stages, computed):
        x = stage(x)
        row, col = x.shape[-2] // 2, x.shape[-1] // 2
        (grad,) = torch.autograd.grad(x[0, 0, row, col], image, retain_graph=True)
        support = grad[0].abs().sum(0) > 0
        rows, cols = support.any(1).nonzero(), support.any(0).nonzero()
        assert int(rows.max() - rows.min() + 1) == rf and int(cols.max() - cols.min() + 1) == rf


def test_lcl_loss_equals_the_formula():
    first = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])  # 1 patch position, 2 images, 2 channels
    second = torch.tensor([[[3.0, 0.0], [1.0, 1.0]]])
    # cosines: s00 = 1, s11 = 1/sqrt(2), s01 = 0, s10 = 1/sqrt(2)
    loss, similarity, cross = lcl_loss(first, second, decorrelation=2.0)
    assert similarity.item() == pytest.approx((1 + 2 ** -0.5) / 2)
    assert cross.item() == pytest.approx((0 + 0.5) / 2)
    assert loss.item() == pytest.approx(1 - (1 + 2 ** -0.5) / 2 + 2.0 * 0.25)


def test_lcl_deformation_is_scaled_to_the_receptive_field(monkeypatch):
    images = torch.rand(2, 3, 24, 24)
    assert torch.allclose(deform(images, torch.zeros(2, 24, 24, 2)), images, atol=1e-6)
    shift = torch.zeros(2, 24, 24, 2)
    shift[..., 0] = 1.0  # one pixel to the right: sample x + 1
    assert torch.allclose(deform(images, shift)[..., :-1], images[..., 1:], atol=1e-5)
    field = deformation_field(2, (24, 24), amplitude=3.0, scale=6.0, generator=torch.Generator().manual_seed(0))
    twice = deformation_field(2, (24, 24), amplitude=6.0, scale=6.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(twice, 2 * field)
    from brainalign.training.objectives import lcl as lcl_module
    calls = []

    def recording(*args, **kwargs):
        calls.append((kwargs["amplitude"], kwargs["scale"]))
        return deformation_field(*args, **kwargs)

    monkeypatch.setattr(lcl_module, "deformation_field", recording)
    objective = LCL(LCLV2(), input_size=32, schedule="simultaneous", amplitude=0.5)
    objective.loss([torch.rand(2, 3, 32, 32)], torch.arange(2))
    assert calls == [(8.5, 17), (8.5, 17), (20.5, 41), (20.5, 41)]


def test_lcl_stage1_update_ignores_stage2(stimuli):
    torch.manual_seed(0)
    objective = LCL(LCLV2(), input_size=32, schedule="simultaneous", locations=16)
    images = stimuli[:4].repeat(1, 3, 1, 1)
    state = objective.generator.get_state()

    def stage_grads(weight2):
        objective.zero_grad(set_to_none=True)
        objective.generator.set_state(state)
        total = objective.stage_loss(0, images)[0] + weight2 * objective.stage_loss(1, images)[0]
        total.backward()
        return grads(objective.backbone)

    reference = stage_grads(1.0)
    scaled = stage_grads(4.0)
    with torch.no_grad():
        objective.backbone.stage2.conv.weight.mul_(-3.0)
    perturbed = stage_grads(1.0)
    for changed in (scaled, perturbed):
        assert torch.equal(changed["stage1.conv.weight"], reference["stage1.conv.weight"])
        assert torch.equal(changed["stage1.conv.bias"], reference["stage1.conv.bias"])
        assert not torch.allclose(changed["stage2.conv.weight"], reference["stage2.conv.weight"])


def test_lcl_loss_falls_under_sgd_and_is_seeded(stimuli):
    views = [(stimuli[:4].repeat(1, 3, 1, 1) - 0.45) / 0.25]
    for stage in (1, 2):
        torch.manual_seed(0)
        objective = LCL(LCLV2(), input_size=32, schedule="greedy", steps_per_stage=1, locations=32)
        objective.step.fill_(stage - 1)
        before, after = sgd_steps(objective, views, n_steps=4, lr=0.3, part=f"stage{stage}")
        assert after < (0.97 if stage == 1 else 0.9) * before, stage
    runs = []
    for seed in (7, 7, 8):
        torch.manual_seed(0)  # the same backbone; the objective's seed fixes deformations and patches
        runs.append(LCL(LCLV2(), input_size=32, seed=seed, locations=32).loss(views, torch.arange(4))[1])
    assert runs[0] == runs[1] != runs[2]


# ---------------------------------------------------------------- resuming

def test_state_dict_carries_the_generator_and_step(stimuli):
    import io

    views = tang_views(stimuli)
    torch.manual_seed(0)
    rule = TangAmit(TangAmitCNN(), input_size=32, schedule="random", feedback="updated_random", seed=3)
    rule.loss(views, torch.arange(4))
    rule.after_step()
    buffer = io.BytesIO()
    torch.save(rule.state_dict(), buffer)
    expected = [rule.loss(views, torch.arange(4))[1] for _ in range(3)]
    torch.manual_seed(1)  # a different initialisation, replaced by the checkpoint
    resumed = TangAmit(TangAmitCNN(), input_size=32, schedule="random", feedback="updated_random", seed=0)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert int(resumed.step) == 1
    assert [resumed.loss(views, torch.arange(4))[1] for _ in range(3)] == expected
