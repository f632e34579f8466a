"""Solutions to the exercises of lesson 2 (docs/02-repeated-multiplication.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
(``np``, ``jacobian_power_norms``) without importing them.
"""

from __future__ import annotations

import numpy as np

from lessons_code.exercises import Answer
from lessons_code.l02_repeated_multiplication import jacobian_power_norms


# --8<-- [start:half_life]
def steps_until_below(base, threshold):
    """The smallest n with base**n < threshold (0 < base < 1), by multiplying one step at a time."""
    n, value = 0, 1.0
    while value >= threshold:
        value *= base
        n += 1
    return n
    # --8<-- [end:half_life]


# --8<-- [start:symmetric]
def largest_gap_to_rho_powers(W, max_lag):
    """max over k = 0..max_lag of | ||W^k||_2 / rho(W)^k - 1 |: how far the norms stray from rho^k."""
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    ratios = jacobian_power_norms(W, max_lag) / rho ** np.arange(max_lag + 1)
    return float(np.max(np.abs(ratios - 1)))
    # --8<-- [end:symmetric]


def symmetric_and_general(seed: int = 0, n: int = 64, max_lag: int = 100) -> tuple[float, float]:
    """The two numbers the solution prints: the gap for a symmetric matrix and for a general one."""
    A = np.random.default_rng(seed).standard_normal((n, n)) / 8
    return largest_gap_to_rho_powers((A + A.T) / 2, max_lag), largest_gap_to_rho_powers(A, max_lag)


ANSWERS = [
    Answer("ex2_steps_1_percent", lambda: steps_until_below(0.9, 0.01)),
    Answer("ex2_steps_1_in_a_million", lambda: steps_until_below(0.9, 1e-6)),
    Answer("ex2_steps_0.99", lambda: steps_until_below(0.99, 0.01)),
]
