"""Lesson 4: the memory task, the stacked RNNs against nn.RNN, the Jacobian and cliff gradients against
autograd, unstable training without clipping, and the cliff's jump."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lessons_code import l04_consequences as l04
from lessons_code.seeding import seed_everything

SPECS = {spec.name: spec for spec in l04.FIGURES}


def run_fast(name: str):
    """A figure's compute in its fast preset, seeded exactly as the runner seeds it."""
    spec = SPECS[name]
    return spec.compute(spec.fast, seed_everything(spec.seed))


@pytest.fixture(scope="module")
def memory():
    return run_fast("l04_memory_vs_gap")


@pytest.fixture(scope="module")
def unstable():
    return run_fast("l04_unstable_loss")


# ------------------------------------------------------------------ the task and the models


def test_memory_batch_puts_key_distractors_and_query_where_promised():
    rng = np.random.default_rng(0)
    gaps, length, n_distractors = [1, 4], 8, 3
    x, y = l04.memory_batch(gaps, 50, length, n_distractors, rng)
    vocab = 2 + n_distractors + 1
    assert x.shape == (2, 50, length, vocab) and y.shape == (2, 50)
    tokens = x.argmax(-1).numpy()
    for g, gap in enumerate(gaps):
        key_at = length - gap - 2
        assert np.all(x[g, :, :key_at].numpy() == 0)  # padding: all-zero inputs
        np.testing.assert_array_equal(tokens[g, :, key_at], y[g].numpy())  # the key is the answer
        middle = tokens[g, :, key_at + 1 : length - 1]
        assert middle.shape[1] == gap and middle.min() >= 2 and middle.max() < 2 + n_distractors
        assert np.all(tokens[g, :, -1] == vocab - 1)  # the query
    assert 0 < y.float().mean() < 1
    with pytest.raises(ValueError, match="length"):
        l04.memory_batch([7], 4, 8, 3, rng)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_stacked_rnn_matches_torch_nn_rnn_model_by_model(nonlinearity):
    torch.manual_seed(0)
    G, n_in, H, n_out, T = 3, 4, 5, 2, 7
    stacked = l04.StackedRNN(G, n_in, H, n_out, nonlinearity=nonlinearity).double()
    x = torch.randn(G, 6, T, n_in, dtype=torch.float64)
    states = stacked.states(x)
    out = stacked(x)
    for g in range(G):
        rnn = torch.nn.RNN(n_in, H, nonlinearity=nonlinearity, batch_first=True).double()
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(stacked.W_ih[g])
            rnn.weight_hh_l0.copy_(stacked.W_hh[g])
            rnn.bias_ih_l0.copy_(stacked.b[g, 0])
            rnn.bias_hh_l0.zero_()
        ref, _ = rnn(x[g])
        torch.testing.assert_close(states[g], ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(out[g], ref[:, -1] @ stacked.W_out[g].T + stacked.b_out[g, 0], rtol=1e-12, atol=1e-12)


def test_identity_init_is_the_irnn():
    model = l04.StackedRNN(2, 3, 4, 1, nonlinearity="relu", init="identity")
    torch.testing.assert_close(model.W_hh.detach(), torch.eye(4).expand(2, 4, 4))
    assert model.b.abs().max() == 0 and model.W_ih.abs().max() < 0.01


def test_stacked_models_do_not_share_gradients():
    torch.manual_seed(1)
    model = l04.StackedRNN(3, 2, 4, 1)
    x = torch.randn(3, 5, 6, 2)
    model(x)[1].sum().backward()  # a loss that only model 1 sees
    for p in model.parameters():
        assert p.grad[0].abs().max() == 0 and p.grad[2].abs().max() == 0
        assert p.grad[1].abs().max() > 0


# ------------------------------------------------------------------ l04_memory_vs_gap


def test_jacobian_norm_back_matches_autograd():
    torch.manual_seed(2)
    H, T, start = 5, 9, 3
    model = l04.StackedRNN(1, 3, H, 2).double()
    x = torch.randn(1, 2, T, 3, dtype=torch.float64)
    states = model.states(x).detach()
    ours = l04.jacobian_norm_back(model.W_hh.detach(), states, [start])
    drive = (torch.einsum("bti,hi->bth", x[0], model.W_ih[0]) + model.b[0]).detach()
    W = model.W_hh[0].detach()
    for n in range(2):
        def from_start(h):  # h_T as a function of h_start, steps start+1..T
            for t in range(start, T):
                h = torch.tanh(drive[n, t] + W @ h)
            return h

        J = torch.autograd.functional.jacobian(from_start, states[0, n, start - 1])
        assert ours[0, n] == pytest.approx(torch.linalg.matrix_norm(J, ord=2).item(), rel=1e-10)


def test_short_gaps_are_learned_and_the_longest_gap_is_at_chance(memory):
    gaps = memory.data["gaps"]
    accuracy = np.asarray(memory.data["accuracy"])
    assert accuracy[0].min() >= 0.95  # every network solves the shortest gap
    assert memory.facts["accuracy_longest_gap"] == pytest.approx(memory.facts["chance_accuracy"], abs=0.1)
    assert memory.facts[f"accuracy_gap_{gaps[-1]}"] == memory.facts["accuracy_longest_gap"]


def test_gradient_path_to_the_key_shrinks_with_the_gap(memory):
    trained, at_init = (np.asarray(memory.data[k]) for k in ("jacobian_trained", "jacobian_init"))
    assert np.all(at_init[-1] < 1e-4 * at_init[0])
    assert np.exp(np.log(trained[-1]).mean()) < 1e-2 * np.exp(np.log(trained[0]).mean())


# ------------------------------------------------------------------ l04_unstable_loss


def test_unclipped_runs_spike_or_fail_while_clipped_runs_stay_bounded(unstable):
    facts, data = unstable.facts, unstable.data
    free, clipped = np.asarray(data["unclipped_loss"]), np.asarray(data["clipped_loss"])
    start = free[:, 0]
    np.testing.assert_array_equal(start, clipped[:, 0])  # same initialisations, same data
    # Some unclipped run's loss jumps by >= 1000x or becomes NaN/inf ...
    finite_peak = np.where(np.isfinite(free), free, -np.inf).max(1) / start
    assert np.any((finite_peak >= 1000) | ~np.all(np.isfinite(free), axis=1))
    assert facts["unstable_seeds_spiked"] >= 1
    # ... while every clipped run stays finite and within a small factor of where it started.
    assert np.all(np.isfinite(clipped))
    assert np.all(clipped.max(1) <= 10 * clipped[:, 0])
    assert facts["unstable_clipped_nonfinite"] == 0 and facts["unstable_clipped_peak_ratio"] <= 10


def test_nan_is_recorded_as_the_step_where_it_happened(unstable):
    free = np.asarray(unstable.data["unclipped_loss"])
    for row, step in zip(free, unstable.data["unclipped_nonfinite_step"]):
        if step >= 0:
            assert np.all(np.isfinite(row[:step])) and not np.isfinite(row[step])
        else:
            assert np.all(np.isfinite(row))
    assert unstable.facts["unstable_seeds_nonfinite"] == int(np.sum(np.asarray(unstable.data["unclipped_nonfinite_step"]) >= 0))
    assert SPECS["l04_unstable_loss"].nonfinite_ok == {"unclipped_loss"}


def test_clip_per_model_matches_clip_grad_norm_for_each_model():
    torch.manual_seed(3)
    grads = [torch.randn(4, 3, 5) * 10, torch.randn(4, 1, 5) * 10]
    grads[0][2] *= 1e-3  # model 2 is below the threshold and must be left alone
    expected_norms, expected = [], []
    for g in range(4):
        params = [torch.nn.Parameter(torch.zeros_like(t[g])) for t in grads]
        for p, t in zip(params, grads):
            p.grad = t[g].clone()
        expected_norms.append(torch.nn.utils.clip_grad_norm_(params, 2.0))
        expected.append([p.grad for p in params])
    norms = l04.clip_per_model_(grads, 2.0)
    torch.testing.assert_close(norms, torch.stack(expected_norms))
    for g in range(4):
        for t, ref in zip(grads, expected[g]):
            torch.testing.assert_close(t[g], ref)
        assert math.sqrt(sum(float(t[g].pow(2).sum()) for t in grads)) <= 2.0 + 1e-5


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_invalid_clipping_thresholds_raise(bad):
    with pytest.raises(ValueError, match="max_norm"):
        l04.clip_per_model_([torch.ones(2, 3)], bad)
    with pytest.raises(ValueError, match="UnstableConfig.max_norm"):
        l04.UnstableConfig(max_norm=bad)


def test_first_nonfinite():
    losses = np.array([[1.0, 2.0, 3.0], [1.0, np.inf, np.nan], [np.nan, 1.0, 1.0]])
    np.testing.assert_array_equal(l04.first_nonfinite(losses), [-1, 1, 0])


# ------------------------------------------------------------------ l04_cliff


@pytest.mark.parametrize("w, b", [(3.0, -1.2), (8.0, -3.9), (5.0, -2.5001), (-0.5, 1.0)])
def test_cliff_gradient_matches_autograd(w, b):
    loss, g_w, g_b = l04.cliff_loss_and_grad(w, b)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(0.0, dtype=torch.float64)
    for _ in range(50):
        x = wt * torch.sigmoid(x) + bt
    ref = (torch.sigmoid(x) - 0.7) ** 2
    ref.backward()
    assert float(loss) == pytest.approx(ref.item(), rel=1e-12, abs=1e-15)
    assert float(g_w) == pytest.approx(wt.grad.item(), rel=1e-9, abs=1e-15)
    assert float(g_b) == pytest.approx(bt.grad.item(), rel=1e-9, abs=1e-15)


def test_cliff_wall_is_b_equals_minus_w_over_2():
    w = np.array([5.0, 7.0, 9.0])
    on_wall, _, _ = l04.cliff_loss_and_grad(w, -w / 2)
    np.testing.assert_allclose(on_wall, (0.5 - 0.7) ** 2)  # x stays at the fixed point 0
    above, _, _ = l04.cliff_loss_and_grad(w, -w / 2 + 0.05)
    below, _, _ = l04.cliff_loss_and_grad(w, -w / 2 - 0.05)
    # A step of 0.1 in b across the wall moves x_50 from the upper fixed point to the lower one.
    assert np.all(above < 0.09) and np.all(below > 0.3)


def test_descent_path_jumps_off_the_wall_and_is_stranded():
    result = run_fast("l04_cliff")
    facts = result.facts
    assert facts["cliff_max_grad_norm"] > 1e4 * facts["cliff_median_grad_norm_before_jump"]
    assert facts["cliff_jump_length"] > 100  # one step leaves the pictured region by far
    assert facts["cliff_zero_grad_steps"] == facts["cliff_steps_after_jump"] > 0
    assert facts["cliff_final_loss"] == pytest.approx(facts["cliff_loss_high_state"], abs=1e-6)
    assert facts["cliff_jump_from_b"] == pytest.approx(-facts["cliff_jump_from_w"] / 2, abs=0.05)  # on the wall


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize("kwargs, field", [
    ({"gaps": ()}, "MemoryConfig.gaps"),
    ({"gaps": (5, 2)}, "MemoryConfig.gaps"),
    ({"gaps": (0, 3)}, "MemoryConfig.gaps"),
    ({"seeds": 0}, "MemoryConfig.seeds"),
    ({"lr": float("nan")}, "MemoryConfig.lr"),
])
def test_memory_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        l04.MemoryConfig(**kwargs)


@pytest.mark.parametrize("kwargs, field", [
    ({"target": 1.5}, "CliffConfig.target"),
    ({"w_range": (3.0, 1.0)}, "CliffConfig.w_range"),
    ({"grid": 1}, "CliffConfig.grid"),
    ({"lr": 0.0}, "CliffConfig.lr"),
])
def test_cliff_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        l04.CliffConfig(**kwargs)


def test_unstable_config_validation():
    with pytest.raises(ValueError, match="UnstableConfig.length"):
        l04.UnstableConfig(length=1)
    with pytest.raises(ValueError, match="UnstableConfig.seeds"):
        l04.UnstableConfig(seeds=0)
