"""Lesson 1: the hand-written BPTT is exactly what autograd computes, and early steps contribute little."""

from __future__ import annotations

from pathlib import Path

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
    grads = {
        "W_xh": rnn.weight_ih_l0.grad,
        "W_hh": rnn.weight_hh_l0.grad,
        "b": rnn.bias_ih_l0.grad,
        "W_hy": readout.weight.grad,
        "c": readout.bias.grad,
        "h0": h0_leaf.grad[0],
    }
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
    assert (
        params["W_hh"].shape == (25, 25)
        and params["W_xh"].shape == (25, 3)
        and params["W_hy"].shape == (2, 25)
    )
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
    assert np.all(np.asarray(result.data["min_norm"]) <= mean) and np.all(
        mean <= np.asarray(result.data["max_norm"])
    )


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
        (lambda: l01.ScalarConfig(xs=(0.1, 0.2)), "ScalarConfig.xs"),
        (lambda: l01.ScalarConfig(w=float("nan")), "ScalarConfig.w"),
        (lambda: l01.ScalarConfig(xs=(0.1, float("inf"), 0.2)), "ScalarConfig.xs"),
    ],
)
def test_configs_reject_bad_values_naming_the_field(factory, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        factory()


# ---------------------------------------------------------------- the three-step scalar example


def _scalar_autograd_per_use(w, h0, xs, y):
    """Each use of w gets its own float64 leaf, so autograd's gradient of leaf t is exactly term t."""
    leaves = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for _ in xs]
    h = torch.tensor(h0, dtype=torch.float64)
    for leaf, x in zip(leaves, xs):
        h = torch.tanh(leaf * h + x)
    (0.5 * (h - y) ** 2).backward()
    return [leaf.grad.item() for leaf in leaves]


@pytest.mark.parametrize(
    ("w", "h0", "xs", "y"),
    [
        (0.8, 0.6, (0.3, 0.5, 0.2), 0.0),
        (1.7, -0.4, (0.9, -1.2, 0.1), 0.5),
        (-0.6, 0.0, (2.0,), -1.0),
        (0.3, 0.9, (0.1, -0.2, 0.3, -0.4, 0.5), 0.2),
    ],
)
def test_scalar_terms_are_what_autograd_finds_for_each_use_of_w(w, h0, xs, y) -> None:
    a, h, tp, terms = l01.scalar_terms(w, h0, xs, y)
    per_use = _scalar_autograd_per_use(w, h0, xs, y)
    np.testing.assert_allclose(terms, per_use, rtol=1e-12, atol=1e-15)
    assert sum(terms) == pytest.approx(l01.scalar_autograd(w, h0, xs, y), rel=1e-12, abs=1e-15)
    # The forward pass is the recurrence itself.
    for t in range(1, len(xs) + 1):
        assert a[t] == pytest.approx(w * h[t - 1] + xs[t - 1], abs=1e-15) and h[t] == pytest.approx(
            np.tanh(a[t])
        )
        assert tp[t] == pytest.approx(1 - np.tanh(a[t]) ** 2)


def test_scalar_facts_are_the_factors_of_each_term_and_the_claims_hold() -> None:
    spec = next(s for s in l01.FIGURES if s.name == "l01_scalar")
    facts = l01.compute_scalar(spec.fast, np.random.default_rng(0)).facts
    config = spec.config
    assert facts["scalar_steps"] == 3 and facts["scalar_w"] == config.w
    for t in (1, 2, 3):
        h_prev = facts["scalar_h0"] if t == 1 else facts[f"scalar_h{t - 1}"]
        product = (
            facts["scalar_error"]
            * h_prev
            * facts[f"scalar_w_power{t}"]
            * facts[f"scalar_tanh_prime_product{t}"]
        )
        assert facts[f"scalar_term{t}"] == pytest.approx(product, rel=1e-12)
        # Regrouped as the page does: tanh'(a_t) times the step factors w tanh'(a_k) of the later steps.
        later = np.prod([facts[f"scalar_step_factor{k}"] for k in range(t + 1, 4)])
        assert facts[f"scalar_w_power{t}"] * facts[
            f"scalar_tanh_prime_product{t}"
        ] == pytest.approx(facts[f"scalar_tanh_prime{t}"] * later, rel=1e-12)
    assert facts["scalar_grad"] == pytest.approx(
        sum(facts[f"scalar_term{t}"] for t in (1, 2, 3)), rel=1e-12
    )
    assert facts["scalar_autograd_diff"] <= l01.AUTOGRAD_TOLERANCE
    for claim in spec.claims:  # the fast preset is the published example itself
        assert claim.holds(facts), claim.says


def test_the_page_runs_the_example_the_figure_computes() -> None:
    config = l01.ScalarConfig()
    page = (
        Path(__file__).resolve().parent.parent / "docs" / "01-backprop-through-time.md"
    ).read_text()
    assert (
        f"scalar_terms(w={config.w!r}, h0={config.h0!r}, xs={config.xs!r}, y={config.y!r})" in page
    )


def test_the_scalar_check_fails_loudly_when_the_derivative_is_wrong(monkeypatch) -> None:
    monkeypatch.setattr(l01, "scalar_autograd", lambda *args: 1.0)
    with pytest.raises(ValueError, match="differs from autograd"):
        l01.compute_scalar(l01.ScalarConfig(), np.random.default_rng(0))
