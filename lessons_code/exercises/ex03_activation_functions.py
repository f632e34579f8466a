"""Solutions to the exercises of lesson 3 (docs/03-activation-functions.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
(``np``, ``sigmoid_prime``, ``tanh_prime``, ``with_sigma_max``, ``gradient_norm_at_lag``,
``pascanu_bound``) without importing them.
"""

from __future__ import annotations

import numpy as np

from lessons_code import explorer
from lessons_code.exercises import Answer
from lessons_code.activations import sigmoid_prime, tanh_prime
from lessons_code.l03_activation_functions import (
    pascanu_bound,
)  # noqa: F401


# --8<-- [start:peak]
def peak(phi_prime, a_max=6.0, points=240_001):
    """The largest value of phi' on a grid over [-a_max, a_max] (odd count: a = 0 is on it), and where."""
    a = np.linspace(-a_max, a_max, points)
    values = phi_prime(a)
    return float(values.max()), float(a[np.argmax(values)])
    # --8<-- [end:peak]


# --8<-- [start:leaky_relu]
def leaky_relu(a, slope=0.01):
    """Like ReLU, but negative inputs keep a small slope instead of being cut to 0."""
    return np.where(a > 0, a, slope * a)


def leaky_relu_prime(a, slope=0.01):
    return np.where(a > 0, 1.0, slope)
    # --8<-- [end:leaky_relu]


def first_rho_with_growing_gradient(activation="tanh", init="orthogonal", length=100):
    """The smallest rho on the explorer's slider (steps of 0.05 from 1) whose fitted slope is above 0."""
    for rho in np.round(np.arange(1.0, explorer.RHO_RANGE[1] + 1e-9, 0.05), 2):
        result = explorer.explore(
            explorer.ExplorerSettings(activation, init, float(rho), length, 20)
        )
        if result["slope"] is not None and result["slope"] > 0:
            return float(rho)
    raise ValueError(f"no setting of rho makes the {activation} gradient grow")


ANSWERS = [
    Answer(
        "ex3_sigmoid_peak",
        lambda: peak(sigmoid_prime)[0],
        fact=("l03_derivatives", "sigmoid_prime_max"),
    ),
    Answer("ex3_sigmoid_peak_at", lambda: peak(sigmoid_prime)[1]),
    Answer("ex3_tanh_over_sigmoid", lambda: peak(tanh_prime)[0] / peak(sigmoid_prime)[0]),
    Answer("ex3_ratio_10_steps", lambda: (peak(tanh_prime)[0] / peak(sigmoid_prime)[0]) ** 10),
    Answer("ex3_sigmoid_bound", lambda: pascanu_bound(3.0, 0.25, 50)),
    Answer("ex3_leaky_gamma", lambda: float(leaky_relu_prime(np.linspace(-6, 6, 240_001)).max())),
    Answer("ex3_tanh_growth_rho", first_rho_with_growing_gradient),
]
