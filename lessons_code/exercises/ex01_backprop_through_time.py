"""Solutions to the exercises of lesson 1 (docs/01-backprop-through-time.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
(``forward``, ``loss``, ``bptt``, ``ACTIVATIONS``, ``TORCH_ACTIVATIONS``) without importing them.
"""

from __future__ import annotations

import numpy as np
import torch

from lessons_code.exercises import Answer
from lessons_code.activations import ACTIVATIONS
from lessons_code.l01_backprop_through_time import TORCH_ACTIVATIONS, forward, loss  # noqa: F401


# --8<-- [start:finite_difference]
def finite_difference(params, xs, h0, y, name, index, eps=1e-6, activation="tanh"):
    """(L(p + eps) - L(p - eps)) / (2 eps) for one entry `index` of the parameter `name`."""
    losses = []
    for sign in (+1, -1):
        nudged = {key: value.copy() for key, value in params.items()}
        nudged[name][index] += sign * eps
        _, _, y_hat = forward(nudged, xs, h0, activation)
        losses.append(loss(y_hat, y))
    return (losses[0] - losses[1]) / (2 * eps)
    # --8<-- [end:finite_difference]


# --8<-- [start:every_step]
def bptt_every_step(params, xs, h0, ys, activation="tanh"):
    """BPTT for a loss at every step, L = sum_t 1/2 ||W_hy h_t + c - y_t||^2; ys[t - 1] is y_t."""
    phi_prime = ACTIVATIONS[activation].prime
    a, h, _ = forward(params, xs, h0, activation)
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    L, dh = 0.0, np.zeros_like(h0)  # dh: the gradient arriving at h_t from the steps after t
    for t in range(len(xs), 0, -1):
        err = params["W_hy"] @ h[t] + params["c"] - ys[t - 1]  # step t's own readout error
        L += 0.5 * np.sum(err**2)
        grads["W_hy"] += np.outer(err, h[t])
        grads["c"] += err
        dh = dh + params["W_hy"].T @ err  # the one change: h_t also feeds its own loss term
        delta = phi_prime(a[t]) * dh
        grads["W_hh"] += np.outer(delta, h[t - 1])
        grads["W_xh"] += np.outer(delta, xs[t - 1])
        grads["b"] += delta
        dh = params["W_hh"].T @ delta
    grads["h0"] = dh
    return L, grads


def autograd_every_step(params, xs, h0, ys, activation="tanh"):
    """The same loss written in torch (float64), differentiated by autograd."""
    phi = TORCH_ACTIVATIONS[activation]
    leaves = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in {**params, "h0": h0}.items()
    }
    h, L = leaves["h0"], 0.0
    for x, y_t in zip(torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)):
        h = phi(leaves["W_hh"] @ h + leaves["W_xh"] @ x + leaves["b"])
        L = L + 0.5 * torch.sum((leaves["W_hy"] @ h + leaves["c"] - y_t) ** 2)
    L.backward()
    return L.item(), {name: leaf.grad.numpy() for name, leaf in leaves.items()}
    # --8<-- [end:every_step]


# The solutions of lesson 1 state no numbers of their own: the tests check their claims (agreement with
# finite differences and with autograd) directly.
ANSWERS: list[Answer] = []
