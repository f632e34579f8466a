"""Lesson 8: the recipe does what the cheat sheet says, checked against PyTorch's own semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lessons_code import l08_cheat_sheet as l08
from lessons_code.models import init_orthogonal, irnn, set_forget_bias
from lessons_code.tasks import ADDING_BASELINE_MSE
from lessons_code.training import clip_gradients_, hidden_gradient_norms

SPECS = {spec.name: spec for spec in l08.FIGURES}


def blocks_of(weight: torch.Tensor, hidden: int) -> list[torch.Tensor]:
    return list(weight.detach().split(hidden, dim=0))


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_init_orthogonal_makes_every_gate_block_orthogonal_in_every_layer(cls) -> None:
    torch.manual_seed(0)
    rnn = cls(3, 12, num_layers=2, batch_first=True)
    init_orthogonal(rnn)
    for layer in range(2):
        weight = getattr(rnn, f"weight_hh_l{layer}")
        gates = weight.shape[0] // 12
        assert gates == {nn.RNN: 1, nn.GRU: 3, nn.LSTM: 4}[cls]
        for block in blocks_of(weight, 12):
            torch.testing.assert_close(block @ block.T, torch.eye(12), atol=1e-5, rtol=0)


def test_an_identity_relu_rnn_keeps_a_non_negative_state_exactly() -> None:
    torch.manual_seed(0)
    rnn = irnn(5, 40)
    h0 = torch.rand(1, 1, 40)
    _, h = rnn(torch.zeros(1, 25, 5), h0)
    torch.testing.assert_close(h, h0)


def test_forget_bias_lands_on_the_forget_gate_in_pytorchs_gate_order() -> None:
    """Zero weights and zero other biases: then c_1 = f * c_0 with f = sigmoid(b_ih_f + b_hh_f)."""
    cell = nn.LSTM(2, 6, batch_first=True)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
    set_forget_bias(cell, 1.5)
    assert torch.all(cell.bias_ih_l0[6:12] == 1.5) and torch.all(cell.bias_hh_l0[6:12] == 0)
    assert torch.all(cell.bias_ih_l0[:6] == 0) and torch.all(cell.bias_ih_l0[12:] == 0)
    c0 = torch.ones(1, 1, 6)
    _, (_, c1) = cell(torch.zeros(1, 1, 2), (torch.zeros(1, 1, 6), c0))
    torch.testing.assert_close(c1, torch.full_like(c1, 1 / (1 + math.exp(-1.5))))


def test_clipping_logs_the_norm_before_clipping_and_keeps_the_direction() -> None:
    torch.manual_seed(0)
    model = nn.Linear(10, 3)
    (model(torch.randn(8, 10)) * 100).pow(2).sum().backward()
    before = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
    direction = torch.cat([p.grad.flatten() for p in model.parameters()]) / before
    norm = clip_gradients_(model.parameters(), 0.5)
    after = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert norm.item() == pytest.approx(before, rel=1e-6) and before > 0.5
    assert after.norm().item() == pytest.approx(0.5, rel=1e-5)
    # same direction
    assert torch.dot(after / after.norm(), direction).item() == pytest.approx(1.0, abs=1e-6)


def test_the_norm_report_counts_clipped_and_non_finite_steps() -> None:
    report = l08.norm_report([0.5, 2.0, 3.0, float("inf")], max_norm=1.0)
    assert (
        "median 2" in report
        and "max 3" in report
        and "clipped 67% of 4 steps" in report
        and "non-finite 1" in report
    )


def test_hidden_gradient_norms_match_a_hand_unrolled_rnn_and_leave_grads_alone() -> None:
    torch.manual_seed(0)
    rnn = nn.RNN(3, 7, batch_first=True, dtype=torch.float64)
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    target = torch.randn(4, 7, dtype=torch.float64)
    profile = hidden_gradient_norms(rnn, x, lambda h: ((h - target) ** 2).sum())
    # The same network written out by hand, with every hidden state kept for autograd.
    h, states = torch.zeros(4, 7, dtype=torch.float64), []
    for t in range(9):
        h = torch.tanh(
            x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
        )
        states.append(h)
    grads = torch.autograd.grad(((states[-1] - target) ** 2).sum(), states)
    expected = torch.stack([g.norm(dim=-1) for g in grads])
    torch.testing.assert_close(profile, expected)
    assert all(p.grad is None for p in rnn.parameters())


def test_hidden_gradient_norms_handle_two_layer_lstm_state_tuples() -> None:
    torch.manual_seed(0)
    cell = nn.LSTM(2, 5, num_layers=2, batch_first=True)
    profile = hidden_gradient_norms(cell, torch.randn(3, 6, 2), lambda h: h.sum())
    assert profile.shape == (6, 3) and torch.all(profile > 0)


def test_the_recipe_model_is_built_with_the_recipe() -> None:
    torch.manual_seed(0)
    model = l08.recipe_model(features=2, hidden=8)
    assert torch.all(model.core.bias_ih_l0[8:16] == 1.0) and torch.all(
        model.core.bias_hh_l0[8:16] == 0.0
    )
    for block in blocks_of(model.core.weight_hh_l0, 8):
        torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)
    assert model(torch.randn(5, 7, 2)).shape == (5,)


def test_the_recipe_learns_a_short_adding_problem_and_skips_a_bad_batch() -> None:
    torch.manual_seed(0)
    model = l08.recipe_model(2, 16)
    log = l08.train_recipe(model, steps=250, seq_len=8, rng=np.random.default_rng(0))
    assert len(log.grad_norm) == 250 and all(math.isfinite(n) for n in log.grad_norm)
    assert np.mean(log.loss[-25:]) < 0.2 * ADDING_BASELINE_MSE
    assert log.diverged_at is None


def test_monitor_fast_preset_orthogonal_keeps_gradients_alive() -> None:
    torch.manual_seed(0)
    result = l08.compute_monitor(SPECS["l08_monitor"].fast, np.random.default_rng(0))
    facts = result.facts
    assert facts["decades_lost_tanh_orthogonal"] < facts["decades_lost_tanh_default"] - 2
    assert facts["decades_lost_lstm_recipe"] < facts["decades_lost_lstm_default"] - 2
    # float64: no underflow
    assert all(np.all(curve > 0) for curve in result.data["curves"].values())


def test_clip_log_fast_preset_facts_agree_with_the_logged_norms() -> None:
    torch.manual_seed(0)
    config = SPECS["l08_clip_log"].fast
    result = l08.compute_clip_log(config, np.random.default_rng(0))
    norms = result.data["norm"]
    assert len(norms) == config.steps == len(result.data["loss"])
    assert result.facts["clipped_fraction"] == pytest.approx(np.mean(norms > config.max_norm))
    assert result.facts["largest_norm"] == pytest.approx(norms.max())


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (lambda: l08.MonitorConfig(hidden=0), "MonitorConfig.hidden"),
        (lambda: l08.MonitorConfig(seq_len=1), "MonitorConfig.seq_len"),
        (lambda: l08.MonitorConfig(setups=("GRU",)), "MonitorConfig.setups"),
        (lambda: l08.ClipLogConfig(max_norm=0.0), "ClipLogConfig.max_norm"),
        (lambda: l08.ClipLogConfig(steps=10, tail=20), "ClipLogConfig.tail"),
        (lambda: l08.ClipLogConfig(lr=float("nan")), "ClipLogConfig.lr"),
    ],
)
def test_bad_configs_are_refused_with_the_field_named(config, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        config()
