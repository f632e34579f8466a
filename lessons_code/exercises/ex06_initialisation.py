"""Solutions to the exercises of lesson 6 (docs/06-initialisation.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
and the chapter's core sections it embeds (``np``, ``torch``, ``orthogonal_tanh_rnn``, ``irnn``,
``gradient_ratio_by_lag``, ``EchoStateNetwork``, ``state_distance``) without importing them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from lessons_code.exercises import Answer
from lessons_code.l06_initialisation import EchoStateNetwork, orthogonal_tanh_rnn, state_distance
from lessons_code.models import irnn
from lessons_code.training import gradient_ratio_by_lag


# --8<-- [start:orthogonal]
def ratios_by_hand(W, states, readout, linear=False):
    """||dL/dh_{T-k}|| / ||dL/dh_T|| for k = 0..T-1, where L = readout . h_T and h_t = tanh(a_t).

    `states` holds h_1..h_T as rows. One step back multiplies by W^T diag(tanh'(a_t)), and
    tanh'(a_t) = 1 - h_t**2. With linear=True the tanh' factor is left out: the same W, no nonlinearity.
    """
    g, ratios = readout, [1.0]
    # h_T, h_{T-1}, ..., h_2: the steps the error passes on its way back to h_1
    for h in states[:0:-1]:
        g = W.T @ (g if linear else (1 - h**2) * g)
        ratios.append(np.linalg.norm(g) / np.linalg.norm(readout))
    return np.array(ratios)
    # --8<-- [end:orthogonal]


# --8<-- [start:irnn]
def predicted_irnn_ratio(net, readout):
    """The IRNN's gradient ratio at every lag k >= 1 when every input is positive, from its weights alone.

    A unit with a positive input weight is active at every step (Jacobian entry 1), a unit with a negative
    one never is (entry 0), so the gradient keeps exactly the part of `readout` on the first kind of unit.
    """
    always_on = net.weight_ih_l0[:, 0] > 0
    return float(readout[always_on].norm() / readout.norm())
    # --8<-- [end:irnn]


# --8<-- [start:forgetting_rate]
def rate_per_step(distances, first, last):
    """The factor by which a distance shrinks per step over steps first..last: a straight-line fit of its log."""
    steps = np.arange(first, last + 1)
    return float(np.exp(np.polyfit(steps, np.log(distances[first - 1 : last]), 1)[0]))


def linear_distance(W, delta, steps):
    """||W^t delta|| for t = 1..steps: how the difference of the two states would shrink without tanh."""
    norms = []
    for _ in range(steps):
        delta = W @ delta
        norms.append(np.linalg.norm(delta))
    return np.array(norms)
    # --8<-- [end:forgetting_rate]


# ---------------------------------------------------------------- what the solutions print, for the tests
@cache
def orthogonal_run() -> dict:
    """Exercise 1 as the page runs it: one orthogonal tanh RNN, one sequence of 100 inputs."""
    torch.manual_seed(0)
    core = orthogonal_tanh_rnn(1, 64).double()
    x = torch.rand(1, 100, 1, dtype=torch.float64)
    readout = torch.randn(64, dtype=torch.float64)
    W = core.weight_hh_l0.detach().numpy()
    states = core(x)[0][0].detach().numpy()
    with_tanh = ratios_by_hand(W, states, readout.numpy())
    return {
        "W": W,
        "states": states,
        "readout": readout.numpy(),
        "linear": ratios_by_hand(W, states, readout.numpy(), linear=True),
        "with_tanh": with_tanh,
        "autograd": gradient_ratio_by_lag(core, x, readout),
        "per_step": float(with_tanh[-1] ** (1 / 99)),
        "mean_tanh_prime": float((1 - states**2).mean()),
    }


@cache
def irnn_run() -> dict:
    """Exercise 2 as the page runs it: one IRNN, eight sequences, inputs in [0, 1] and then in [-1, 1]."""
    torch.manual_seed(0)
    net = irnn(1, 64).double()
    x = torch.rand(8, 100, 1, dtype=torch.float64)
    readout = torch.randn(64, dtype=torch.float64)
    return {
        "units_on": int((net.weight_ih_l0 > 0).sum()),
        "predicted": predicted_irnn_ratio(net, readout),
        "positive": gradient_ratio_by_lag(net, x, readout),
        "signed": gradient_ratio_by_lag(net, 2 * x - 1, readout),
    }


#: Exercise 3's fitting windows for the long run: the rho = 0.5 reservoir reaches round-off soon after step 40.
LATE = {0.5: (20, 40), 0.9: (100, 200)}


@cache
def forgetting_run() -> dict:
    """Exercise 3 as the page runs it: per rho, the early and late rates, the linear early rate and sigma_max."""
    rng = np.random.default_rng(0)
    u, (x0, x1) = rng.uniform(-1, 1, 200), rng.uniform(-1, 1, (2, 100))
    rates = {}
    for rho, (first, last) in LATE.items():
        esn = EchoStateNetwork(100, rho, 0.1, np.random.default_rng(1))
        d, d_linear = state_distance(esn, u, x0, x1), linear_distance(esn.W, x0 - x1, 200)
        rates[rho] = {
            "early": rate_per_step(d, 1, 10),
            "late": rate_per_step(d, first, last),
            "linear_early": rate_per_step(d_linear, 1, 10),
            "sigma_max": float(np.linalg.norm(esn.W, 2)),
        }
    return rates


ANSWERS = [
    Answer("ex6_orthogonal_ratio", lambda: float(orthogonal_run()["with_tanh"][-1])),
    Answer("ex6_orthogonal_per_step", lambda: orthogonal_run()["per_step"]),
    Answer("ex6_mean_tanh_prime", lambda: orthogonal_run()["mean_tanh_prime"]),
    Answer("ex6_irnn_units_on", lambda: irnn_run()["units_on"]),
    Answer("ex6_irnn_predicted", lambda: irnn_run()["predicted"]),
    Answer("ex6_irnn_signed_lag50", lambda: float(irnn_run()["signed"][50])),
    Answer("ex6_rate_0.5_early", lambda: forgetting_run()[0.5]["early"]),
    Answer("ex6_rate_0.9_early", lambda: forgetting_run()[0.9]["early"]),
    Answer("ex6_rate_0.5_late", lambda: forgetting_run()[0.5]["late"]),
    Answer("ex6_rate_0.9_late", lambda: forgetting_run()[0.9]["late"]),
    Answer("ex6_rate_0.5_linear", lambda: forgetting_run()[0.5]["linear_early"]),
    Answer("ex6_rate_0.9_linear", lambda: forgetting_run()[0.9]["linear_early"]),
]
