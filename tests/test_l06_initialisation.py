"""Lesson 6: the page's claims about initialisation, the IRNN and echo state networks, checked independently."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_code import l06_initialisation as l06
from lessons_code import models
from lessons_code.training import gradient_ratio_by_lag, hidden_gradient_norms

SPEC = {spec.name: spec for spec in l06.FIGURES}


@pytest.fixture(scope="module")
def ratio_facts() -> dict:
    torch.manual_seed(0)
    return l06.compute_ratio_at_init(l06.RatioConfig(), np.random.default_rng(0)).facts


def test_irnn_keeps_at_least_100_times_the_default_tanh_gradient(ratio_facts) -> None:
    assert ratio_facts["seq_len"] == 100
    assert ratio_facts["ratio_irnn"] >= 100 * ratio_facts["ratio_default_tanh"]
    # not just relatively: a sizeable share survives 99 steps
    assert ratio_facts["ratio_irnn"] > 0.1


def test_orthogonal_init_keeps_at_least_the_default_gradient(ratio_facts) -> None:
    assert ratio_facts["ratio_orthogonal_tanh"] >= ratio_facts["ratio_default_tanh"]


def test_lstm_ratio_grows_with_the_forget_bias(ratio_facts) -> None:
    assert (
        ratio_facts["ratio_lstm_bias0"]
        < ratio_facts["ratio_lstm_bias1"]
        < ratio_facts["ratio_lstm_bias3"]
    )


def test_state_gradients_match_a_hand_written_backward_pass() -> None:
    """dL/dh_t = J_{t+1}^T dL/dh_{t+1} with J = diag(1 - h_{t+1}^2) W_hh, for a tanh RNN in float64."""
    torch.manual_seed(1)
    rnn = models.tanh_rnn(2, 5).double()
    x = torch.randn(3, 7, 2, dtype=torch.float64)
    readout = torch.randn(5, dtype=torch.float64)
    norms = hidden_gradient_norms(rnn, x, lambda h: (h @ readout).sum()).numpy()

    with torch.no_grad():
        hs, _ = rnn(x)  # (batch, T, hidden)
    W = rnn.weight_hh_l0.detach().numpy()
    h = hs.numpy()
    grad = np.tile(readout.numpy(), (3, 1))
    expected = [np.linalg.norm(grad, axis=1)]
    for t in range(6, 0, -1):  # from dL/dh_T back to dL/dh_1
        grad = (grad * (1 - h[:, t] ** 2)) @ W
        expected.append(np.linalg.norm(grad, axis=1))
    np.testing.assert_allclose(norms, np.array(expected[::-1]), rtol=1e-10)


def test_irnn_jacobian_at_init_is_a_zero_one_diagonal() -> None:
    torch.manual_seed(2)
    irnn = models.irnn(1, 12).double()
    np.testing.assert_array_equal(irnn.weight_hh_l0.detach().numpy(), np.eye(12))
    h_prev = torch.randn(1, 1, 12, dtype=torch.float64)
    x_t = torch.rand(1, 1, 1, dtype=torch.float64)
    J = (
        torch.autograd.functional.jacobian(lambda h: irnn(x_t, h)[1], h_prev)
        .reshape(12, 12)
        .numpy()
    )
    assert np.count_nonzero(J - np.diag(np.diag(J))) == 0
    assert set(np.unique(np.diag(J))) <= {0.0, 1.0}
    assert 0 < np.diag(J).sum() < 12  # with random h some units are off, some on


def test_irnn_ratio_is_the_share_of_the_readout_on_always_active_units() -> None:
    """At init the product of Jacobians is a 0/1 mask: what survives is the readout on the open units."""
    torch.manual_seed(3)
    irnn = models.irnn(1, 20).double()
    x = torch.rand(1, 50, 1, dtype=torch.float64)
    readout = torch.randn(20, dtype=torch.float64)
    ratio = gradient_ratio_by_lag(irnn, x, readout)[-1]
    with torch.no_grad():
        out, _ = irnn(x)
    open_all_along = (out[0, 1:] > 0).all(dim=0).double()  # units active at steps 2..T
    expected = (open_all_along * readout).norm() / readout.norm()
    assert ratio == pytest.approx(float(expected), rel=1e-12)


def test_orthogonal_init_and_forget_bias_are_what_they_say() -> None:
    torch.manual_seed(4)
    W = l06.orthogonal_tanh_rnn(1, 16).weight_hh_l0.detach().double().numpy()
    np.testing.assert_allclose(W.T @ W, np.eye(16), atol=1e-6)
    cell = models.lstm(1, 8, forget_bias=3.0)
    total = (cell.bias_ih_l0 + cell.bias_hh_l0).detach()
    np.testing.assert_array_equal(total[8:16].numpy(), np.full(8, 3.0, dtype=np.float32))


def test_esn_states_merge_for_small_radius_and_not_for_large() -> None:
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, 150)
    x0, x1 = rng.uniform(-1, 1, (2, 50))
    small = l06.state_distance(
        l06.EchoStateNetwork(50, 0.5, 0.1, np.random.default_rng(1)), u, x0, x1
    )
    large = l06.state_distance(
        l06.EchoStateNetwork(50, 3.0, 0.1, np.random.default_rng(1)), u, x0, x1
    )
    assert small[-1] < 1e-12 * small[0]
    assert large[-1] > 0.5 and large[-50:].min() > 0.1 * large[0]


def test_published_echo_state_facts_show_the_same() -> None:
    facts = l06.compute_echo_state(l06.EchoStateConfig(), np.random.default_rng(0)).facts
    assert facts["esp_final_distance_rho_0.5"] < 1e-12
    assert facts["esp_final_distance_rho_3"] > 0.1 * facts["esp_initial_distance"]


def test_reservoir_has_the_requested_spectral_radius() -> None:
    esn = l06.EchoStateNetwork(40, 0.8, 0.1, np.random.default_rng(5))
    assert np.max(np.abs(np.linalg.eigvals(esn.W))) == pytest.approx(0.8, rel=1e-12)


def test_ridge_readout_is_least_squares_for_a_tiny_penalty() -> None:
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((200, 10)), rng.standard_normal((200, 3))
    expected = np.linalg.lstsq(X, Y, rcond=None)[0]
    np.testing.assert_allclose(l06.ridge_readout(X, Y, 1e-12), expected, atol=1e-9)


def test_memory_peaks_below_radius_one_and_recent_inputs_are_recalled() -> None:
    config = SPEC["l06_esn_memory"].fast
    result = l06.compute_esn_memory(config, np.random.default_rng(0))
    assert result.facts["best_radius"] == 0.95
    assert result.data["r2"]["0.5"][0] > 0.99  # one step back is recalled almost perfectly
    capacity = {rho: result.facts[f"memory_capacity_rho_{rho:g}"] for rho in config.radii}
    assert capacity[0.95] > capacity[0.5] and capacity[0.95] > capacity[1.5]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: l06.RatioConfig(models=("transformer",)), "RatioConfig.models"),
        (lambda: l06.RatioConfig(seq_len=1), "RatioConfig.seq_len"),
        (lambda: l06.RatioConfig(hidden=0), "RatioConfig.hidden"),
        (lambda: l06.EchoStateConfig(radii=(0.5, -1.0)), "EchoStateConfig.radii"),
        (lambda: l06.EchoStateConfig(input_scale=0.0), "EchoStateConfig.input_scale"),
        (lambda: l06.MemoryConfig(n_train=50), "MemoryConfig.n_train"),
        (lambda: l06.MemoryConfig(ridge=float("nan")), "MemoryConfig.ridge"),
    ],
)
def test_configs_reject_bad_fields_by_name(make, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make()
