"""Solutions to the exercises of lesson 7 (docs/07-gates.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
(``math``, ``np``, ``torch``, ``nn``, ``lstm_with_forget_bias``, ``lstm_step``, ``cell_gradient_by_lag``,
``adding_batch``) without importing them.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
from torch import nn

from lessons_code.exercises import Answer
from lessons_code.activations import sigmoid
from lessons_code.l07_gates import CellGradientConfig, cell_gradient_by_lag, lstm_step
from lessons_code.models import lstm
from lessons_code.tasks import adding_problem


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
        h, c, f = lstm_step(cell, x[:, t], h.detach(), c)  # detach: no gradient flows back through h
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


# --8<-- [start:plateau]
def marked_values(x):
    """The two marked values of every sequence: the one in the first half, and the one in the second."""
    half = x.shape[1] // 2
    marked = x[..., 0] * x[..., 1]
    return marked[:, :half].sum(dim=1), marked[:, half:].sum(dim=1)


def guess_mse(x, y):
    """The MSE of three guesses: knowing nothing (always 1), knowing only the later value (it + 1/2), both."""
    first, second = marked_values(x)
    guesses = {"nothing": torch.ones_like(y), "later value only": second + 0.5, "both": first + second}
    return {name: float(((guess - y) ** 2).mean()) for name, guess in guesses.items()}
# --8<-- [end:plateau]


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
        runs[bias] = {"gap": (grads - predicted).abs().max().item(), "scale": predicted.abs().max().item(),
                      "cut": (grads[-1].norm(dim=-1) / readout.norm()).median().item(),
                      "every_path": float(every_path[-1])}
    return runs


@cache
def coupled_run() -> dict:
    """Exercise 3 as the page runs it."""
    torch.manual_seed(0)
    gru = nn.GRU(2, 16, batch_first=True)
    with torch.no_grad():
        for param in gru.parameters():
            param.mul_(50)  # absurdly large weights
    return {"gru": largest_state(gru, 10 * torch.randn(8, 100, 2)), "count_100": counting_cell(100),
            "count_1000": counting_cell(1000)}


@cache
def plateau_run() -> dict:
    x, y = adding_problem(20_000, 100, np.random.default_rng(0))
    return guess_mse(x, y)


ANSWERS = [
    Answer("ex7_sigmoid_1", lambda: float(sigmoid(1.0)), fact=("l07_cell_gradient", "sigmoid_of_bias1")),
    Answer("ex7_steps_bias0", lambda: steps_to_one_percent(sigmoid(0.0))),
    Answer("ex7_steps_bias1", lambda: steps_to_one_percent(sigmoid(1.0))),
    Answer("ex7_steps_bias3", lambda: steps_to_one_percent(sigmoid(3.0))),
    Answer("ex7_steps_0.99", lambda: steps_to_one_percent(0.99)),
    Answer("ex7_max_lag", lambda: CellGradientConfig().seq_len - 1, fact=("l07_cell_gradient", "max_lag")),
    Answer("ex7_sigmoid_3_pow", lambda: sigmoid(3.0) ** (CellGradientConfig().seq_len - 1),
           fact=("l07_cell_gradient", "sigmoid_of_bias3_pow")),
    Answer("ex7_bias_100", lambda: forget_bias_for(100)),
    Answer("ex7_bias_1000", lambda: forget_bias_for(1000)),
    Answer("ex7_cut_bias1", lambda: cut_paths_run()[1.0]["cut"]),
    Answer("ex7_every_path_bias1", lambda: cut_paths_run()[1.0]["every_path"]),
    Answer("ex7_cut_bias3", lambda: cut_paths_run()[3.0]["cut"]),
    Answer("ex7_every_path_bias3", lambda: cut_paths_run()[3.0]["every_path"]),
    Answer("ex7_count_100", lambda: coupled_run()["count_100"]),
    Answer("ex7_count_1000", lambda: coupled_run()["count_1000"]),
    Answer("ex7_mse_nothing", lambda: plateau_run()["nothing"]),
    Answer("ex7_mse_later_only", lambda: plateau_run()["later value only"]),
]
