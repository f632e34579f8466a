"""Lesson 5: clipping geometry, clipping on the cliff, the monitoring step, truncated BPTT and the penalty."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lessons_code import l04_consequences as l04
from lessons_code import l05_taming_explosions as l05
from lessons_code.seeding import seed_everything

SPECS = {spec.name: spec for spec in l05.FIGURES}
BAD_THRESHOLDS = [0, 0.0, -1.0, float("nan"), float("inf"), True, "1"]


def run_fast(name: str):
    spec = SPECS[name]
    return spec.compute(spec.fast, seed_everything(spec.seed))


# ------------------------------------------------------------------ clipping


def test_norm_clipping_never_exceeds_the_threshold_and_keeps_the_direction():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((2000, 7)) * rng.lognormal(0, 3, size=(2000, 1))  # lengths over many decades
    for max_norm in (1e-3, 0.5, 1.0, 30.0):
        clipped = l05.clip_by_norm(g, max_norm)
        norms = np.linalg.norm(clipped, axis=-1)
        assert np.all(norms <= max_norm * (1 + 1e-12))
        cos = np.sum(g * clipped, -1) / (np.linalg.norm(g, axis=-1) * norms)
        np.testing.assert_allclose(cos, 1.0, atol=1e-12)
        short = np.linalg.norm(g, axis=-1) <= max_norm
        np.testing.assert_array_equal(clipped[short], g[short])  # short gradients are left alone


def test_norm_clipping_agrees_with_torch_clip_grad_norm():
    g = np.array([3.0, -4.0, 12.0])
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_([p], 2.0)
    assert total.item() == pytest.approx(13.0)  # it returns the norm *before* clipping
    np.testing.assert_allclose(p.grad.numpy(), l05.clip_by_norm(g, 2.0), rtol=1e-6)


def test_value_clipping_can_change_the_direction():
    g = np.array([4.0, 1.0])
    by_value = l05.clip_by_value(g, 1.0)
    np.testing.assert_array_equal(by_value, [1.0, 1.0])
    assert l05.cosine(g, by_value) == pytest.approx(5 / math.sqrt(17 * 2))  # closed form, < 1
    assert l05.cosine(g, l05.clip_by_norm(g, 1.0)) == pytest.approx(1.0, abs=1e-15)


def test_geometry_facts():
    facts = run_fast("l05_clip_geometry").facts
    assert facts["norm_clip_cosine"] == pytest.approx(1.0, abs=1e-15)
    assert facts["norm_clip_min_cosine_sweep"] == pytest.approx(1.0, abs=1e-12)
    assert facts["norm_clip_length"] == pytest.approx(facts["clip_threshold"])
    assert facts["value_clip_cosine"] < 0.9 and facts["value_clip_min_cosine"] <= facts["value_clip_cosine"]
    assert facts["value_clip_angle_deg"] == pytest.approx(45.0)


@pytest.mark.parametrize("bad", BAD_THRESHOLDS)
def test_invalid_thresholds_raise_a_clear_error(bad):
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0"):
        l05.clip_by_norm([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="clip_value must be a finite number > 0"):
        l05.clip_by_value([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="GeometryConfig.threshold"):
        l05.GeometryConfig(threshold=bad)
    with pytest.raises(ValueError, match="ClipCliffConfig.max_norm"):
        l05.ClipCliffConfig(max_norm=bad)


# ------------------------------------------------------------------ clipping on the cliff


def test_batched_descent_matches_lesson_4_descent():
    w, b, loss, largest = l05.cliff_descent_batch(np.array([8.0, 6.0]), np.array([-3.0, -2.0]), 1.0, 300)
    for i, (w0, b0) in enumerate([(8.0, -3.0), (6.0, -2.0)]):
        path, norms = l04.cliff_descent(w0, b0, 1.0, 300)
        assert (w[i], b[i]) == pytest.approx(tuple(path[-1]), rel=1e-12)
        assert largest[i] == pytest.approx(norms.max(), rel=1e-12)


def test_clipped_steps_are_never_longer_than_lr_times_threshold():
    rng = np.random.default_rng(1)
    w0, b0 = rng.uniform(4, 10, 50), rng.uniform(-6, 0, 50)
    w1, b1, _, largest = l05.cliff_descent_batch(w0, b0, 30.0, 1, max_norm=0.1)
    assert np.all(np.hypot(w1 - w0, b1 - b0) <= 30.0 * 0.1 * (1 + 1e-12))


def test_clipping_succeeds_far_more_often_on_the_cliff():
    for spec_config in (SPECS["l05_clip_cliff"].config, SPECS["l05_clip_cliff"].fast):
        assert spec_config.n_starts >= 100
    facts = run_fast("l05_clip_cliff").facts
    assert facts["cliff_success_clipped"] >= facts["cliff_success_unclipped"] + 0.25
    assert facts["cliff_success_clipped"] >= 0.8
    assert facts["cliff_only_unclipped_succeeds"] <= facts["cliff_only_clipped_succeeds"]


# ------------------------------------------------------------------ monitoring


def test_monitored_step_logs_true_norms_and_clips():
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(2, 8, nonlinearity="relu").double()
    with torch.no_grad():
        cell.weight_hh.copy_(2.0 * torch.eye(8))  # large enough that the gradient gets clipped
    readout = torch.nn.Linear(8, 1).double()
    x, y = torch.rand(4, 12, 2, dtype=torch.float64), torch.rand(4, 1, dtype=torch.float64)
    params = [*cell.parameters(), *readout.parameters()]
    # Reference: the same gradients by autograd, before any clipping.
    states = l05.run_cell(cell, x)
    loss = torch.nn.functional.mse_loss(readout(states[-1]), y)
    grads = torch.autograd.grad(loss, params + states)
    ref_total = math.sqrt(sum(float(g.pow(2).sum()) for g in grads[: len(params)]))
    ref_steps = [float(g.norm()) for g in grads[len(params):]]

    optimiser = torch.optim.SGD(params, lr=0.0)  # lr 0: the weights stay, the clipped .grad can be read
    record = l05.monitored_step(cell, readout, optimiser, x, y, max_norm=1.0)
    assert record["total_norm"] == pytest.approx(ref_total, rel=1e-10)
    assert record["clipped"] and record["total_norm"] > 1.0 and not record["skipped"]
    np.testing.assert_allclose(record["per_time_step"], ref_steps, rtol=1e-10)
    assert set(record["per_parameter"]) == {"cell.weight_ih", "cell.weight_hh", "cell.bias_ih", "cell.bias_hh",
                                            "readout.weight", "readout.bias"}
    assert math.sqrt(sum(float(p.grad.pow(2).sum()) for p in params)) <= 1.0 + 1e-6


def test_monitored_step_skips_a_nan_gradient():
    cell, readout = torch.nn.RNNCell(1, 3), torch.nn.Linear(3, 1)
    before = [p.detach().clone() for p in cell.parameters()]
    optimiser = torch.optim.SGD([*cell.parameters(), *readout.parameters()], lr=0.1)
    record = l05.monitored_step(cell, readout, optimiser, torch.full((2, 4, 1), float("nan")), torch.zeros(2, 1), 1.0)
    assert record["skipped"]
    for p, q in zip(cell.parameters(), before):
        torch.testing.assert_close(p.detach(), q, equal_nan=True)


# ------------------------------------------------------------------ truncated BPTT


def test_recall_batch_targets_are_the_delayed_inputs():
    x, targets = l05.recall_batch(3, 10, 4, 3, np.random.default_rng(0))
    symbols = x.argmax(-1)
    assert torch.all(targets[:, :4] == -100)
    assert torch.equal(targets[:, 4:], symbols[:, :-4])


@pytest.mark.parametrize("k", [1, 2, 3, 5, 12])
def test_batched_truncation_gives_the_same_gradients_as_the_chunk_loop(k):
    torch.manual_seed(k)
    H, n_symbols, T, delay = 6, 2, 12, 5
    stacked = l05.TruncatedStackedRNN(1, n_symbols, H, n_symbols).double()
    rnn = torch.nn.RNN(n_symbols, H, batch_first=True).double()
    readout = torch.nn.Linear(H, n_symbols).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(stacked.W_ih[0])
        rnn.weight_hh_l0.copy_(stacked.W_hh[0])
        rnn.bias_ih_l0.copy_(stacked.b[0, 0])
        rnn.bias_hh_l0.zero_()
        readout.weight.copy_(stacked.W_out[0])
        readout.bias.copy_(stacked.b_out[0, 0])
    x, targets = l05.recall_batch(4, T, delay, n_symbols, np.random.default_rng(k))
    x = x.double()
    l05.tbptt_step(rnn, readout, torch.optim.SGD([*rnn.parameters(), *readout.parameters()], lr=0.0), x, targets, k)
    logits = stacked(x[None], torch.tensor([k]))
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 2), targets.flatten(), ignore_index=-100,
                                             reduction="sum") / (targets != -100).sum()
    loss.backward()
    torch.testing.assert_close(stacked.W_hh.grad[0], rnn.weight_hh_l0.grad, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(stacked.W_ih.grad[0], rnn.weight_ih_l0.grad, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(stacked.W_out.grad[0], readout.weight.grad, rtol=1e-10, atol=1e-14)


def test_full_length_truncation_is_full_bptt():
    torch.manual_seed(0)
    stacked = l05.TruncatedStackedRNN(1, 2, 5, 2).double()
    x = torch.randn(1, 3, 9, 2, dtype=torch.float64)
    full = torch.autograd.grad(stacked(x).pow(2).sum(), stacked.W_hh)[0]
    cut = torch.autograd.grad(stacked(x, torch.tensor([9])).pow(2).sum(), stacked.W_hh)[0]
    torch.testing.assert_close(full, cut, rtol=0, atol=0)


def test_truncation_shorter_than_the_delay_fails_and_a_long_one_succeeds():
    result = run_fast("l05_truncation")
    (d,), ks = result.data["delays"], result.data["ks"]
    error = np.asarray(result.data["error"])[0]  # (ks, seeds)
    for j, k in enumerate(ks):
        if 2 <= k < d:
            assert error[j].min() > 0.3, (k, error[j])  # near chance (0.5): nothing learned
        if k >= d + 2:
            assert error[j].max() < 0.05, (k, error[j])  # solved


# ------------------------------------------------------------------ the penalty


def test_penalty_is_zero_for_norm_preserving_steps_and_matches_its_closed_form():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    W = torch.tensor(q)
    states = [torch.zeros(3, 6, dtype=torch.float64) for _ in range(5)]  # tanh' = 1 at h = 0
    grads = [torch.tensor(rng.standard_normal((3, 6))) for _ in range(5)]
    assert l05.pascanu_penalty(W, states, grads).item() == pytest.approx(0.0, abs=1e-24)
    assert l05.pascanu_penalty(0.5 * W, states, grads).item() == pytest.approx(0.25, rel=1e-12)


def test_penalty_gradient_reaches_the_recurrent_weights():
    torch.manual_seed(0)
    H = 5
    W_ih = torch.randn(H, 1, dtype=torch.float64, requires_grad=True)
    W_hh = (0.3 * torch.randn(H, H, dtype=torch.float64)).requires_grad_()
    b = torch.zeros(H, dtype=torch.float64, requires_grad=True)
    w_out = torch.randn(H, 1, dtype=torch.float64, requires_grad=True)
    x = torch.randn(4, 10, 1, dtype=torch.float64)
    _, penalty = l05.loss_and_penalty(W_ih, W_hh, b, w_out, x, x.mean(1))
    (g,) = torch.autograd.grad(penalty, W_hh)
    assert penalty.item() > 0 and g.abs().max() > 0


def test_training_with_the_penalty_keeps_the_backward_signal_alive():
    facts = run_fast("l05_penalty").facts
    assert facts["penalty_ratio_first_with_penalty"] > 1e3 * facts["penalty_ratio_first_loss_only"]
    assert facts["penalty_after_with_penalty"] < 0.5 * facts["penalty_initial"]


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize("cls, kwargs, field", [
    (l05.ClipCliffConfig, {"n_starts": 0}, "ClipCliffConfig.n_starts"),
    (l05.ClipCliffConfig, {"headline_lr": 5.0}, "ClipCliffConfig.headline_lr"),
    (l05.ClipCliffConfig, {"lrs": ()}, "ClipCliffConfig.lrs"),
    (l05.TruncationConfig, {"ks": (0, 4)}, "TruncationConfig.ks"),
    (l05.TruncationConfig, {"ks": (64,)}, "TruncationConfig.ks"),
    (l05.TruncationConfig, {"n_symbols": 1}, "TruncationConfig.n_symbols"),
    (l05.GeometryConfig, {"example": (0.5, 0.5)}, "GeometryConfig.example"),
    (l05.PenaltyConfig, {"strength": -1.0}, "PenaltyConfig.strength"),
    (l05.PenaltyConfig, {"length": 1}, "PenaltyConfig.length"),
])
def test_config_validation(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)
