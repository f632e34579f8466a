"""Solutions to the exercises of lesson 8 (docs/08-cheat-sheet.md).

The sections below are pasted into the page after the recipe, so they use its names (``math``, ``np``,
``torch``, ``nn``, ``init_orthogonal``, ``hidden_gradient_norms``, ``recipe_model``, ``train_recipe``,
``adding_problem``) without importing them.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
from torch import nn

from lessons_code.exercises import Answer
from lessons_code.l08_cheat_sheet import recipe_model, train_recipe
from lessons_code.models import init_orthogonal
from lessons_code.tasks import adding_problem
from lessons_code.training import hidden_gradient_norms


# --8<-- [start:threshold]
def norm_statistics(norms, max_norm):
    """Median, mean and largest of the logged gradient norms, and the share of steps above max_norm."""
    logged = torch.tensor(norms)
    return {
        "median": logged.median().item(),
        "mean": logged.mean().item(),
        "largest": logged.max().item(),
        "clipped": (logged > max_norm).double().mean().item(),
    }
    # --8<-- [end:threshold]


# --8<-- [start:underflow]
def sum_loss_profile(rnn, x):
    """The monitor's ||dL/dh_t|| for the stand-in loss L = sum of h_T, in the rnn's own precision."""
    return hidden_gradient_norms(rnn, x.to(rnn.weight_hh_l0.dtype), lambda h: h.sum()).mean(1)


def decades(profile):
    """How many orders of magnitude the profile falls from the last step back to the first."""
    return math.log10(profile[-1] / profile[0])
    # --8<-- [end:underflow]


# ---------------------------------------------------------------- what the solutions print, for the tests
@cache
def threshold_run() -> dict:
    """Exercise 1 as the page runs it: 300 steps of the recipe in float64 with clipping off, then the statistics."""
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)  # as on the page: float32 bursts differ between CPUs
    try:
        model = recipe_model(features=2, hidden=32)
        log = train_recipe(model, steps=300, seq_len=20, max_norm=math.inf)
        losses, norms = log.loss, log.grad_norm
    finally:
        torch.set_default_dtype(torch.float32)
    median = norm_statistics(norms, math.inf)["median"]
    return {
        "losses": losses,
        "norms": norms,
        "twice_median": norm_statistics(norms, 2 * median),
        "recipe": norm_statistics(norms, 1.0),
    }


@cache
def underflow_run() -> dict:
    """Exercise 2 as the page runs it: one tanh RNN in float32, the same weights in float64, then orthogonal."""
    x, _ = adding_problem(16, 200, np.random.default_rng(1))
    torch.manual_seed(0)
    rnn = nn.RNN(2, 32, batch_first=True)
    profile32 = sum_loss_profile(rnn, x)
    rnn.double()
    profile64 = sum_loss_profile(rnn, x)
    init_orthogonal(rnn)
    return {
        "profile32": profile32,
        "profile64": profile64,
        "zeros32": int((profile32 == 0).sum()),
        "decades64": decades(profile64),
        "smallest_square_root": math.sqrt(
            torch.nextafter(torch.tensor(0.0), torch.tensor(1.0)).item()
        ),
        "decades_orthogonal": decades(sum_loss_profile(rnn, x)),
    }


ANSWERS = [
    Answer("ex8_median", lambda: threshold_run()["twice_median"]["median"]),
    Answer("ex8_mean", lambda: threshold_run()["twice_median"]["mean"]),
    Answer("ex8_largest", lambda: threshold_run()["twice_median"]["largest"]),
    Answer("ex8_clipped_twice_median", lambda: 100 * threshold_run()["twice_median"]["clipped"]),
    Answer("ex8_clipped_recipe", lambda: 100 * threshold_run()["recipe"]["clipped"]),
    Answer("ex8_zeros_float32", lambda: underflow_run()["zeros32"]),
    Answer("ex8_decades_float64", lambda: underflow_run()["decades64"]),
    Answer("ex8_smallest_square_root", lambda: underflow_run()["smallest_square_root"]),
    Answer("ex8_decades_orthogonal", lambda: underflow_run()["decades_orthogonal"]),
]
