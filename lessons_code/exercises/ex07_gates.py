"""Solutions to the exercises of lesson 7 (docs/07-gates.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
(``math``, ``torch``, ``nn``, ``lstm``, ``lstm_step``, ``cell_gradient_by_lag``) without importing them.
"""

from __future__ import annotations

import math
from functools import cache

import torch
from torch import nn

from lessons_code.exercises import Answer
from lessons_code.activations import sigmoid
from lessons_code.l07_gates import CellGradientConfig, cell_gradient_by_lag, lstm_step
from lessons_code.models import lstm


# --8<-- [start:memory_span]
def steps_to_one_percent(f):
    """The smallest k with f**k < 0.01: a constant forget gate f leaves less than 1 % after k steps."""
    return math.floor(math.log(0.01) / math.log(f)) + 1


def forget_bias_for(steps, left=0.01):
    """The bias b with sigmoid(b)**steps = left: the starting gate that keeps `left` over `steps` steps."""
    f = left ** (1 / steps)
    return math.log(f / (1 - f))  # the inverse of the sigmoid
    # --8<-- [end:memory_span]


# --8<-- [start:cut_paths]
def cell_path_only(cell, x, readout):
    """Row k: dL/dc_{T-k} for L = sum over the batch of readout . c_T, with h detached at every step, so
    that the cell's additive path is the only way back; and the forget gates' product times readout."""
    h = torch.zeros(x.shape[0], cell.hidden_size, dtype=x.dtype)
    c = torch.zeros_like(h)
    cells, forgets = [], []
    for t in range(x.shape[1]):
        # detach: no gradient flows back through h
        h, c, f = lstm_step(cell, x[:, t], h.detach(), c)
        cells.append(c)
        forgets.append(f.detach())
    grads = torch.stack(torch.autograd.grad((cells[-1] @ readout).sum(), cells)).flip(0)
    products = torch.cumprod(torch.stack(forgets).flip(0), dim=0)  # row k: f_T * ... * f_{T-k}
    products = torch.cat([torch.ones_like(products[:1]), products[:-1]])  # row k: k factors
    return grads, products * readout
    # --8<-- [end:cut_paths]


# --8<-- [start:coupled]
def largest_state(gru, x):
    """The largest |entry| of a GRU's hidden state over every sequence and step."""
    return gru(x)[0].abs().max().item()


def counting_cell(steps, big=20.0):
    """One LSTM unit with all weights 0 and every bias `big`: i = f = o = sigmoid(big) and g = tanh(big), all
    about 1, so c_t = c_{t-1} + 1. Returns c after `steps` steps of zero input."""
    unit = nn.LSTM(1, 1, batch_first=True)
    with torch.no_grad():
        for param in unit.parameters():
            param.zero_()
        unit.bias_ih_l0.fill_(big)
    h = c = torch.zeros(1, 1)
    for _ in range(steps):
        h, c, _ = lstm_step(unit, torch.zeros(1, 1), h, c)
    return c.item()
    # --8<-- [end:coupled]


# --8<-- [start:gru_jacobian]
def gru_jacobian(gru, x_t, h):
    """dh_t/dh_{t-1} of a one-layer nn.GRU at input x_t and state h (1-D),
    by hand; also the update gate z_t, whose diagonal is the direct path."""
    H = gru.hidden_size
    W_r, W_z, W_n = gru.weight_ih_l0.split(H)  # order: reset, update, new
    U_r, U_z, U_n = gru.weight_hh_l0.split(H)
    b_ir, b_iz, b_in = gru.bias_ih_l0.split(H)
    b_hr, b_hz, b_hn = gru.bias_hh_l0.split(H)
    r = torch.sigmoid(W_r @ x_t + b_ir + U_r @ h + b_hr)
    z = torch.sigmoid(W_z @ x_t + b_iz + U_z @ h + b_hz)
    a = U_n @ h + b_hn  # the part of the candidate that r scales
    n = torch.tanh(W_n @ x_t + b_in + r * a)
    dr = (r * (1 - r))[:, None] * U_r  # dr_t/dh_{t-1}
    dz = (z * (1 - z))[:, None] * U_z  # dz_t/dh_{t-1}
    dn = (1 - n**2)[:, None] * (r[:, None] * U_n + a[:, None] * dr)
    # h_t = (1 - z) n + z h: direct path, then through z_t, then through n_t
    J = torch.diag(z) + (h - n)[:, None] * dz + (1 - z)[:, None] * dn
    return J, z
    # --8<-- [end:gru_jacobian]


# ---------------------------------------------------------------- what the solutions print, for the tests
@cache
def cut_paths_run() -> dict:
    """Exercise 2 as the page runs it: per forget bias, the largest gap between autograd and the product of
    forget gates with h cut, and the median ratio at lag 99 with h cut and along every path."""
    torch.manual_seed(0)
    x = torch.rand(4, 100, 2, dtype=torch.float64)
    readout = torch.randn(64, dtype=torch.float64)
    runs = {}
    for bias in (1.0, 3.0):
        cell = lstm(2, 64, bias).double()
        grads, predicted = cell_path_only(cell, x, readout)
        every_path, _ = cell_gradient_by_lag(cell, x, readout)
        runs[bias] = {
            "gap": (grads - predicted).abs().max().item(),
            "scale": predicted.abs().max().item(),
            "cut": (grads[-1].norm(dim=-1) / readout.norm()).median().item(),
            "every_path": float(every_path[-1]),
        }
    return runs


@cache
def coupled_run() -> dict:
    """Exercise 3 as the page runs it."""
    torch.manual_seed(0)
    gru = nn.GRU(2, 16, batch_first=True)
    with torch.no_grad():
        for param in gru.parameters():
            param.mul_(50)  # absurdly large weights
    return {
        "gru": largest_state(gru, 10 * torch.randn(8, 100, 2)),
        "count_100": counting_cell(100),
        "count_1000": counting_cell(1000),
    }


@cache
def gru_jacobian_run() -> dict:
    """Exercise 4 as the page runs it: per update-gate bias, the largest gap to autograd, the mean update
    gate, and the spectral norms of J - diag(z) (the paths through the weights) and of J - I."""
    torch.manual_seed(0)
    gru = nn.GRU(2, 16, dtype=torch.float64)
    x_t = torch.rand(2, dtype=torch.float64)
    h = torch.randn(16, dtype=torch.float64).tanh()
    runs = {}
    for b in (0.0, 5.0):
        with torch.no_grad():
            gru.bias_ih_l0[16:32] = b
            gru.bias_hh_l0[16:32] = 0.0
        J, z = gru_jacobian(gru, x_t, h)
        auto = torch.autograd.functional.jacobian(
            lambda h_prev: gru(x_t[None, None], h_prev[None, None])[1][0, 0], h
        )
        runs[b] = {
            "gap": (J - auto).abs().max().item(),
            "z": z.mean().item(),
            "rest": torch.linalg.matrix_norm(J - torch.diag(z), 2).item(),
            "from_identity": torch.linalg.matrix_norm(
                J - torch.eye(16, dtype=torch.float64), 2
            ).item(),
        }
    return runs


ANSWERS = [
    Answer(
        "ex7_sigmoid_1", lambda: float(sigmoid(1.0)), fact=("l07_cell_gradient", "sigmoid_of_bias1")
    ),
    Answer("ex7_steps_bias0", lambda: steps_to_one_percent(sigmoid(0.0))),
    Answer("ex7_steps_bias1", lambda: steps_to_one_percent(sigmoid(1.0))),
    Answer("ex7_steps_bias3", lambda: steps_to_one_percent(sigmoid(3.0))),
    Answer("ex7_steps_0.99", lambda: steps_to_one_percent(0.99)),
    Answer(
        "ex7_max_lag",
        lambda: CellGradientConfig().seq_len - 1,
        fact=("l07_cell_gradient", "max_lag"),
    ),
    Answer(
        "ex7_sigmoid_3_pow",
        lambda: sigmoid(3.0) ** (CellGradientConfig().seq_len - 1),
        fact=("l07_cell_gradient", "sigmoid_of_bias3_pow"),
    ),
    Answer("ex7_bias_100", lambda: forget_bias_for(100)),
    Answer("ex7_bias_1000", lambda: forget_bias_for(1000)),
    Answer("ex7_cut_bias1", lambda: cut_paths_run()[1.0]["cut"]),
    Answer("ex7_every_path_bias1", lambda: cut_paths_run()[1.0]["every_path"]),
    Answer("ex7_cut_bias3", lambda: cut_paths_run()[3.0]["cut"]),
    Answer("ex7_every_path_bias3", lambda: cut_paths_run()[3.0]["every_path"]),
    Answer("ex7_count_100", lambda: coupled_run()["count_100"]),
    Answer("ex7_count_1000", lambda: coupled_run()["count_1000"]),
    Answer("ex7_gru_z_b0", lambda: gru_jacobian_run()[0.0]["z"]),
    Answer("ex7_gru_rest_b0", lambda: gru_jacobian_run()[0.0]["rest"]),
    Answer("ex7_gru_identity_b0", lambda: gru_jacobian_run()[0.0]["from_identity"]),
    Answer("ex7_gru_z_b5", lambda: gru_jacobian_run()[5.0]["z"]),
    Answer("ex7_gru_rest_b5", lambda: gru_jacobian_run()[5.0]["rest"]),
    Answer("ex7_gru_identity_b5", lambda: gru_jacobian_run()[5.0]["from_identity"]),
]
