"""The core modules every lesson, exercise and notebook shares: tasks.py, models.py, training.py and
activations.py. Each is checked against an independent reference (torch.nn, autograd, a closed form)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lessons_code import activations, models, tasks, training
from lessons_code.l05_taming_explosions import tbptt_step

# ------------------------------------------------------------------ activations


def test_derivatives_match_autograd_and_their_bounds():
    a = torch.linspace(-8, 8, 2001, dtype=torch.float64, requires_grad=True)
    for name, torch_phi in (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu)):
        phi, prime, gamma = activations.ACTIVATIONS[name]
        (grad,) = torch.autograd.grad(torch_phi(a).sum(), a)
        np.testing.assert_allclose(
            phi(a.detach().numpy()), torch_phi(a).detach().numpy(), rtol=1e-12, atol=1e-15
        )
        np.testing.assert_allclose(prime(a.detach().numpy()), grad.numpy(), rtol=1e-10, atol=1e-15)
        assert prime(a.detach().numpy()).max() == pytest.approx(gamma)


# ------------------------------------------------------------------ tasks


def test_adding_problem_has_one_marker_per_half_and_sums_the_marked_values():
    x, y = tasks.adding_problem(500, 20, np.random.default_rng(0))
    assert x.shape == (500, 20, 2) and y.shape == (500,) and x.dtype == torch.float32
    values, markers = x[..., 0], x[..., 1]
    assert torch.all(markers[:, :10].sum(1) == 1) and torch.all(markers[:, 10:].sum(1) == 1)
    torch.testing.assert_close(y, (values * markers).sum(1))
    assert 0 <= values.min() and values.max() <= 1


def test_always_answering_one_scores_the_stated_baseline():
    _, y = tasks.adding_problem(200_000, 10, np.random.default_rng(1))
    assert float(((y.double() - 1) ** 2).mean()) == pytest.approx(
        tasks.ADDING_BASELINE_MSE, rel=0.01
    )


def test_memory_batch_puts_key_distractors_and_query_where_promised():
    rng = np.random.default_rng(0)
    gaps, length, n_distractors = [1, 4], 8, 3
    x, y = tasks.memory_batch(gaps, 50, length, n_distractors, rng)
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
        tasks.memory_batch([7], 4, 8, 3, rng)


def test_delayed_recall_targets_are_the_delayed_inputs():
    x, targets = tasks.delayed_recall(3, 10, 4, 3, np.random.default_rng(0))
    symbols = x.argmax(-1)
    assert torch.all(targets[:, :4] == -100)
    assert torch.equal(targets[:, 4:], symbols[:, :-4])


@pytest.mark.parametrize("w, b", [(3.0, -1.2), (8.0, -3.9), (5.0, -2.5001), (-0.5, 1.0)])
def test_cliff_gradient_matches_autograd(w, b):
    loss, g_w, g_b = tasks.cliff_loss_and_grad(w, b)
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
    on_wall, _, _ = tasks.cliff_loss_and_grad(w, -w / 2)
    np.testing.assert_allclose(on_wall, (0.5 - 0.7) ** 2)  # x stays at the fixed point 0
    above, _, _ = tasks.cliff_loss_and_grad(w, -w / 2 + 0.05)
    below, _, _ = tasks.cliff_loss_and_grad(w, -w / 2 - 0.05)
    # A step of 0.1 in b across the wall moves x_50 from the upper fixed point to the lower one.
    assert np.all(above < 0.09) and np.all(below > 0.3)


def test_batched_cliff_descent_matches_one_start_at_a_time():
    path, norms = tasks.cliff_descent(np.array([8.0, 6.0]), np.array([-3.0, -2.0]), 1.0, 300)
    assert path.shape == (301, 2, 2) and norms.shape == (300, 2)
    for i, (w0, b0) in enumerate([(8.0, -3.0), (6.0, -2.0)]):
        single, single_norms = tasks.cliff_descent(w0, b0, 1.0, 300)
        np.testing.assert_allclose(path[:, i], single, rtol=1e-12)
        np.testing.assert_allclose(norms[:, i], single_norms, rtol=1e-12)


def test_a_clipped_cliff_step_is_never_longer_than_lr_times_threshold():
    from lessons_code.l05_taming_explosions import clip_by_norm

    rng = np.random.default_rng(1)
    w0, b0 = rng.uniform(4, 10, 50), rng.uniform(-6, 0, 50)
    path, _ = tasks.cliff_descent(w0, b0, 30.0, 1, lambda g: clip_by_norm(g, 0.1))
    assert np.all(np.linalg.norm(path[1] - path[0], axis=-1) <= 30.0 * 0.1 * (1 + 1e-12))


# ------------------------------------------------------------------ models


def test_orthogonal_init_makes_every_recurrent_block_orthogonal_and_leaves_the_rest():
    torch.manual_seed(0)
    for core in (
        nn.RNN(3, 8, batch_first=True),
        nn.GRU(3, 8, batch_first=True),
        nn.LSTM(3, 8, batch_first=True),
    ):
        before = core.weight_ih_l0.detach().clone()
        models.init_orthogonal(core)
        for block in core.weight_hh_l0.detach().split(8):
            torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)
        torch.testing.assert_close(core.weight_ih_l0.detach(), before, rtol=0, atol=0)


def test_irnn_is_le_et_al_s_initialisation():
    torch.manual_seed(0)
    net = models.irnn(50, 200)
    assert net.nonlinearity == "relu"
    torch.testing.assert_close(net.weight_hh_l0.detach(), torch.eye(200), rtol=0, atol=0)
    assert net.bias_ih_l0.abs().max() == 0 and net.bias_hh_l0.abs().max() == 0
    # N(0, 0.001^2), 10,000 draws
    assert net.weight_ih_l0.std().item() == pytest.approx(1e-3, rel=0.02)
    with pytest.raises(ValueError, match="relu"):
        models.init_identity(models.tanh_rnn(2, 4))


def test_forget_bias_sets_only_the_forget_block():
    torch.manual_seed(0)
    cell = models.lstm(3, 4, forget_bias=2.5)
    assert torch.all(cell.bias_ih_l0[4:8] == 2.5) and torch.all(cell.bias_hh_l0[4:8] == 0)
    assert (cell.bias_ih_l0[:4] != 2.5).all()  # the input gate keeps its random bias
    # without forget_bias: PyTorch's default
    assert torch.all(models.lstm(3, 4).bias_hh_l0[4:8] != 0)


@pytest.mark.parametrize("make", [models.tanh_rnn, models.irnn], ids=["tanh", "irnn"])
def test_stacked_rnn_starts_as_its_cores_and_matches_them_model_by_model(make):
    torch.manual_seed(0)
    G, n_in, H, T = 3, 4, 5, 7
    cores = [make(n_in, H).double() for _ in range(G)]
    stacked = models.StackedRNN(cores, outputs=2).double()
    x = torch.randn(G, 6, T, n_in, dtype=torch.float64)
    states, out, every = stacked.states(x), stacked(x), stacked(x, every_step=True)
    for g, core in enumerate(cores):
        ref, _ = core(x[g])
        torch.testing.assert_close(states[g], ref, rtol=1e-12, atol=1e-12)
        readout = ref @ stacked.W_out[g].T + stacked.b_out[g, 0]
        torch.testing.assert_close(every[g], readout, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(out[g], readout[:, -1], rtol=1e-12, atol=1e-12)


def test_stacked_models_do_not_share_gradients():
    torch.manual_seed(1)
    model = models.StackedRNN([models.tanh_rnn(2, 4) for _ in range(3)], outputs=1)
    x = torch.randn(3, 5, 6, 2)
    model(x)[1].sum().backward()  # a loss that only model 1 sees
    for p in model.parameters():
        assert p.grad[0].abs().max() == 0 and p.grad[2].abs().max() == 0
        assert p.grad[1].abs().max() > 0


@pytest.mark.parametrize("k", [1, 2, 3, 5, 12])
def test_stacked_truncation_gives_the_same_gradients_as_lesson_5s_chunk_loop(k):
    torch.manual_seed(k)
    H, n_symbols, T, delay = 6, 2, 12, 5
    rnn = nn.RNN(n_symbols, H, batch_first=True).double()
    stacked = models.StackedRNN([rnn], outputs=n_symbols).double()
    readout = nn.Linear(H, n_symbols).double()
    with torch.no_grad():
        readout.weight.copy_(stacked.W_out[0])
        readout.bias.copy_(stacked.b_out[0, 0])
    x, targets = tasks.delayed_recall(4, T, delay, n_symbols, np.random.default_rng(k))
    x = x.double()
    tbptt_step(
        rnn,
        readout,
        torch.optim.SGD([*rnn.parameters(), *readout.parameters()], lr=0.0),
        x,
        targets,
        k,
    )
    logits = stacked(x[None], every_step=True, truncate_every=torch.tensor([k]))
    loss = (
        nn.functional.cross_entropy(
            logits.flatten(0, 2), targets.flatten(), ignore_index=-100, reduction="sum"
        )
        / (targets != -100).sum()
    )
    loss.backward()
    torch.testing.assert_close(stacked.W_hh.grad[0], rnn.weight_hh_l0.grad, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(stacked.W_ih.grad[0], rnn.weight_ih_l0.grad, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(stacked.W_out.grad[0], readout.weight.grad, rtol=1e-10, atol=1e-14)


def test_full_length_truncation_is_full_bptt():
    torch.manual_seed(0)
    stacked = models.StackedRNN([models.tanh_rnn(2, 5)], outputs=2).double()
    x = torch.randn(1, 3, 9, 2, dtype=torch.float64)
    full = torch.autograd.grad(stacked(x, every_step=True).pow(2).sum(), stacked.W_hh)[0]
    cut = torch.autograd.grad(
        stacked(x, every_step=True, truncate_every=torch.tensor([9])).pow(2).sum(), stacked.W_hh
    )[0]
    torch.testing.assert_close(full, cut, rtol=0, atol=0)


def test_last_step_regressor_reads_the_last_hidden_state():
    torch.manual_seed(0)
    model = models.LastStepRegressor(models.gru(2, 6))
    x = torch.rand(4, 9, 2)
    out, _ = model.core(x)
    torch.testing.assert_close(model(x), model.head(out[:, -1]).squeeze(-1))


# ------------------------------------------------------------------ training: monitors and clipping


@pytest.mark.parametrize(
    "make",
    [models.tanh_rnn, lambda i, h: models.lstm(i, h, 1.0), models.gru],
    ids=["rnn", "lstm", "gru"],
)
def test_hidden_gradient_norms_match_autograd_through_retained_states(make):
    torch.manual_seed(0)
    core = make(2, 5).double()
    x = torch.randn(3, 8, 2, dtype=torch.float64)
    readout = torch.randn(5, dtype=torch.float64)
    # Reference: every h_t kept with retain_grad while the cell is stepped by hand.
    states, carry = [], None
    for t in range(8):
        _, carry = core(x[:, t : t + 1], carry)
        h = carry[0] if isinstance(carry, tuple) else carry
        h.retain_grad()
        states.append(h)
    (states[-1][-1] @ readout).sum().backward()
    reference = torch.stack([h.grad[-1].norm(dim=-1) for h in states])
    ours = training.hidden_gradient_norms(core, x, lambda h: (h @ readout).sum())
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=1e-14)
    ratio = training.gradient_ratio_by_lag(core, x, readout)
    np.testing.assert_allclose(
        ratio, (reference / reference[-1]).median(dim=1).values.flip(0).numpy(), rtol=1e-12
    )


def test_per_model_clipping_matches_clip_grad_norm_for_each_model():
    torch.manual_seed(3)
    params = [nn.Parameter(torch.zeros(4, 3, 5)), nn.Parameter(torch.zeros(4, 1, 5))]
    grads = [torch.randn(4, 3, 5) * 10, torch.randn(4, 1, 5) * 10]
    grads[0][2] *= 1e-3  # model 2 is below the threshold and must be left alone
    for p, g in zip(params, grads):
        p.grad = g.clone()
    expected_norms, expected = [], []
    for g in range(4):
        single = [nn.Parameter(torch.zeros_like(t[g])) for t in grads]
        for p, t in zip(single, grads):
            p.grad = t[g].clone()
        expected_norms.append(nn.utils.clip_grad_norm_(single, 2.0))
        expected.append([p.grad for p in single])
    thresholds = torch.tensor([2.0, 2.0, 2.0, math.inf])  # model 3 is never clipped
    norms = training.clip_gradients_(params, thresholds, per_model=True)
    torch.testing.assert_close(norms, torch.stack(expected_norms))
    for g in range(3):
        for p, ref in zip(params, expected[g]):
            torch.testing.assert_close(p.grad[g], ref)
    for p, t in zip(params, grads):
        torch.testing.assert_close(p.grad[3], t[3])


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), True, torch.tensor([1.0, 0.0])])
def test_invalid_clipping_thresholds_raise(bad):
    p = nn.Parameter(torch.zeros(2, 3))
    p.grad = torch.ones(2, 3)
    with pytest.raises(ValueError, match="max_norm"):
        training.clip_gradients_([p], bad, per_model=True)


# ------------------------------------------------------------------ training: the loop


def regression_setup(seed=0, scale=1.0):
    torch.manual_seed(seed)
    model = models.LastStepRegressor(models.tanh_rnn(2, 8)).double()
    x, y = torch.rand(16, 10, 2, dtype=torch.float64) * scale, torch.rand(16, dtype=torch.float64)
    return model, x, y, lambda m, x, y: ((m(x) - y) ** 2).mean()


def test_train_logs_the_norm_before_clipping_and_never_steps_further_than_lr_times_max_norm():
    model, x, y, loss_fn = regression_setup(scale=50.0)
    loss_fn(model, x, y).backward()
    # the true norm, nothing clipped
    expected = nn.utils.clip_grad_norm_(model.parameters(), math.inf)
    model.zero_grad()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    log = training.train(
        model,
        lambda: (x, y),
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.1),
        1,
        max_norm=0.01,
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert log.grad_norm[0] == pytest.approx(expected.item(), rel=1e-12) and log.grad_norm[0] > 0.01
    assert float((after - before).norm()) <= 0.1 * 0.01 * (1 + 1e-9)


def test_train_evaluates_and_stops_early():
    model, x, y, loss_fn = regression_setup()
    log = training.train(
        model,
        lambda: (x, y),
        loss_fn,
        torch.optim.Adam(model.parameters(), lr=1e-2),
        400,
        evaluate=lambda m: loss_fn(m, x, y).item(),
        eval_every=10,
        stop=lambda v: v < 0.01,
    )
    steps = [s for s, _ in log.evals]
    assert steps[0] == 0 and all(b - a == 10 for a, b in zip(steps, steps[1:]))
    assert log.stopped_at == steps[-1] < 400 and log.evals[-1][1] < 0.01 <= log.evals[-2][1]
    assert len(log.loss) == len(log.grad_norm) == log.stopped_at


@pytest.mark.parametrize("mode", ["stop", "skip", "continue"])
def test_a_non_finite_loss_stops_is_skipped_or_is_applied_as_asked(mode):
    model, x, y, loss_fn = regression_setup()
    batches = iter([(x, y), (torch.full_like(x, float("nan")), y), (x, y)])
    log = training.train(
        model,
        lambda: next(batches),
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.01),
        3,
        on_nonfinite=mode,
    )
    finite_weights = all(torch.isfinite(p).all() for p in model.parameters())
    assert log.diverged_at == 1
    assert len(log.loss) == {"stop": 2, "skip": 3, "continue": 3}[mode]
    assert finite_weights == (mode != "continue")
    with pytest.raises(ValueError, match="on_nonfinite"):
        training.train(
            model,
            lambda: (x, y),
            loss_fn,
            torch.optim.SGD(model.parameters(), lr=0.01),
            1,
            on_nonfinite="ignore",
        )
