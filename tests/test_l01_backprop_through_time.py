"""Lesson 1: the hand-written BPTT is exactly what autograd computes, and early steps contribute little."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_code import l01_backprop_through_time as l01

SHAPES = [  # (T, n_in, n_hidden, n_out)
    (1, 1, 1, 1),
    (7, 3, 5, 2),
    (30, 4, 16, 3),
]
TOLERANCE = 1e-10


def assert_close(actual, expected, name=""):
    """Agreement to TOLERANCE, absolute for gradients of order 1, relative to the largest entry when the
    gradient itself is large (an exploding ReLU net reaches 1e8, where float64 resolves only ~1e-8)."""
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE * scale, err_msg=name)


def _problem(shape, seed=0):
    T, n_in, n_hidden, n_out = shape
    rng = np.random.default_rng(seed)
    params = l01.init_params(n_in, n_hidden, n_out, rng)
    params["W_hh"] *= 2.0  # larger recurrent weights than the default, so every term matters
    xs, h0, y = rng.normal(size=(T, n_in)), rng.normal(size=n_hidden), rng.normal(size=n_out)
    return params, xs, h0, y


def _t(array):
    return torch.tensor(array, dtype=torch.float64)


def _reference_with_nn_rnn(params, xs, h0, y, activation):
    """Gradients from torch.nn.RNN + nn.Linear, an implementation written independently of ours."""
    n_hidden, n_in = params["W_xh"].shape
    rnn = torch.nn.RNN(n_in, n_hidden, nonlinearity=activation, dtype=torch.float64)
    readout = torch.nn.Linear(n_hidden, len(y), dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(_t(params["W_xh"]))
        rnn.weight_hh_l0.copy_(_t(params["W_hh"]))
        rnn.bias_ih_l0.copy_(_t(params["b"]))
        rnn.bias_hh_l0.zero_()
        readout.weight.copy_(_t(params["W_hy"]))
        readout.bias.copy_(_t(params["c"]))
    h0_leaf = _t(h0).reshape(1, n_hidden).requires_grad_()
    _, h_T = rnn(_t(xs), h0_leaf)
    loss = 0.5 * torch.sum((readout(h_T[0]) - _t(y)) ** 2)
    loss.backward()
    grads = {"W_xh": rnn.weight_ih_l0.grad, "W_hh": rnn.weight_hh_l0.grad, "b": rnn.bias_ih_l0.grad,
             "W_hy": readout.weight.grad, "c": readout.bias.grad, "h0": h0_leaf.grad[0]}
    return loss.item(), {k: v.numpy() for k, v in grads.items()}


def _reference_loop(params, xs, h0, y, activation, per_step_leaves=False):
    """A plain torch loop. With per_step_leaves, each step uses its own copy of W_hh, so the gradient of
    copy t is exactly step t's contribution to dL/dW_hh."""
    phi = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    T = len(xs)
    leaves = {k: _t(v).requires_grad_() for k, v in {**params, "h0": h0}.items()}
    copies = [_t(params["W_hh"]).requires_grad_() for _ in range(T)] if per_step_leaves else None
    h = leaves["h0"]
    for t in range(T):
        W = copies[t] if per_step_leaves else leaves["W_hh"]
        h = phi(W @ h + leaves["W_xh"] @ _t(xs[t]) + leaves["b"])
    loss = 0.5 * torch.sum((leaves["W_hy"] @ h + leaves["c"] - _t(y)) ** 2)
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in leaves.items() if v.grad is not None}
    if per_step_leaves:
        grads["per_step"] = np.stack([c.grad.numpy() for c in copies])
    return loss.item(), grads


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_bptt_matches_nn_rnn(shape, activation):
    params, xs, h0, y = _problem(shape)
    loss, grads, _ = l01.bptt(params, xs, h0, y, activation)
    ref_loss, ref = _reference_with_nn_rnn(params, xs, h0, y, activation)
    assert loss == pytest.approx(ref_loss, rel=1e-12, abs=1e-14)
    assert set(ref) <= set(grads)
    for name in ref:
        assert_close(grads[name], ref[name], name)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", sorted(l01.ACTIVATIONS))
def test_bptt_and_per_step_terms_match_autograd(shape, activation):
    params, xs, h0, y = _problem(shape, seed=1)
    _, grads, per_step = l01.bptt(params, xs, h0, y, activation)
    _, ref = _reference_loop(params, xs, h0, y, activation, per_step_leaves=True)
    _, ref_shared = _reference_loop(params, xs, h0, y, activation)
    for name in ("W_xh", "b", "W_hy", "c", "h0"):
        assert_close(grads[name], ref[name], name)
    assert_close(per_step, ref["per_step"], "per_step")
    # The shared weight's gradient is the sum of the per-step terms, as autograd finds it too.
    assert_close(grads["W_hh"], ref_shared["W_hh"], "W_hh")
    assert_close(per_step.sum(axis=0), grads["W_hh"], "sum of per-step terms")


@pytest.mark.parametrize("activation", sorted(l01.ACTIVATIONS))
def test_page_autograd_check_agrees(activation):
    params, xs, h0, y = _problem((20, 3, 5, 2), seed=2)
    assert l01.max_gradient_difference(params, xs, h0, y, activation) < TOLERANCE


def test_init_params_follow_nn_rnn_range():
    params = l01.init_params(3, 25, 2, np.random.default_rng(0))
    assert params["W_hh"].shape == (25, 25) and params["W_xh"].shape == (25, 3) and params["W_hy"].shape == (2, 25)
    assert all(np.max(np.abs(v)) <= 1 / np.sqrt(25) for v in params.values())


def test_contributions_fall_towards_early_steps():
    spec = next(s for s in l01.FIGURES if s.name == "l01_contributions")
    result = l01.compute_contributions(spec.fast, np.random.default_rng(0))
    mean = np.asarray(result.data["mean_norm"])
    assert len(mean) == spec.fast.seq_len
    # A tanh network at nn.RNN's default scale: the last step dominates, the first is orders of magnitude smaller.
    assert result.facts["first_to_last_ratio"] < 1e-3
    assert result.facts["share_last_steps"] > 0.5
    assert result.facts["share_first_half"] < 0.05
    assert result.facts["autograd_max_abs_diff"] < TOLERANCE
    assert result.facts["autograd_tolerance"] == l01.AUTOGRAD_TOLERANCE <= TOLERANCE
    # Broadly geometric decay: a straight-line fit of log-norm against t has a clearly positive slope.
    slope = np.polyfit(np.arange(len(mean)), np.log(mean), 1)[0]
    assert slope > 0.2
    assert np.all(np.asarray(result.data["min_norm"]) <= mean) and np.all(mean <= np.asarray(result.data["max_norm"]))


def test_unrolled_graph_has_one_shared_weight_and_a_full_backward_path():
    result = l01.compute_unrolled(l01.UnrolledConfig(n_steps=5), np.random.default_rng(0))
    edges = result.data["edges"]
    recurrent = [e for e in edges if e["kind"] == "recurrent"]
    backward = [e for e in edges if e["kind"] == "backward"]
    assert len(recurrent) == 5 and {e["label"] for e in recurrent} == {r"$W_{hh}$"}
    # The backward path is the forward path reversed: L -> h5 -> h4 -> ... -> h0.
    forward_pairs = {(e["source"], e["target"]) for e in edges if e["kind"] != "backward"}
    assert {(e["target"], e["source"]) for e in backward} <= forward_pairs
    hops = {e["source"]: e["target"] for e in backward}
    node, path = "L", ["L"]
    while node in hops:
        node = hops[node]
        path.append(node)
    assert path == ["L", "h5", "h4", "h3", "h2", "h1", "h0"]


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: l01.ContributionsConfig(seq_len=-3), "ContributionsConfig.seq_len"),
        (lambda: l01.ContributionsConfig(seq_len=0), "ContributionsConfig.seq_len"),
        (lambda: l01.ContributionsConfig(activation="softplus"), "ContributionsConfig.activation"),
        (lambda: l01.ContributionsConfig(hidden=2.5), "ContributionsConfig.hidden"),
        (lambda: l01.ContributionsConfig(seq_len=3, tail=5), "ContributionsConfig.tail"),
        (lambda: l01.UnrolledConfig(n_steps=-1), "UnrolledConfig.n_steps"),
        (lambda: l01.UnrolledConfig(n_steps=40), "UnrolledConfig.n_steps"),
    ],
)
def test_configs_reject_bad_values_naming_the_field(factory, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        factory()
