"""Core: the activation functions of the chapter and their derivatives, defined once.

Lessons 1, 3 and 4 and the cliff of Pascanu et al. (2013) use these; pages embed the ``activations``
section, and the notebooks include it, rather than writing their own. numpy only.
"""

from __future__ import annotations

# --8<-- [start:imports]
from typing import NamedTuple

import numpy as np
# --8<-- [end:imports]


# --8<-- [start:activations]
def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # equal to 1 / (1 + exp(-a)), without overflow warnings


def sigmoid_prime(a):
    s = sigmoid(a)
    return s * (1.0 - s)


def tanh_prime(a):
    return 1.0 - np.tanh(a) ** 2


def relu(a):
    return np.maximum(a, 0.0)


def relu_prime(a):
    # 1 where the unit is active, else 0 (PyTorch also uses 0 at a = 0)
    return np.where(a > 0, 1.0, 0.0)


class Activation(NamedTuple):
    phi: object  # the function, applied element by element
    prime: object  # its derivative
    gamma: float  # the largest value the derivative ever takes


ACTIVATIONS = {
    "sigmoid": Activation(sigmoid, sigmoid_prime, 0.25),
    "tanh": Activation(np.tanh, tanh_prime, 1.0),
    "relu": Activation(relu, relu_prime, 1.0),
}
# --8<-- [end:activations]
