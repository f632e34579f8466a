"""Solutions to the exercises of lesson 4 (docs/04-consequences.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
and the chapter's core sections it embeds (``np``, ``torch``, ``memory_batch``, ``adding_problem``, ``sigmoid``,
``cliff_loss_and_grad``, ``cliff_descent``) without importing them.
"""

from __future__ import annotations

import numpy as np
import torch

from lessons_code.exercises import Answer
from lessons_code.activations import sigmoid
from lessons_code.tasks import adding_problem, cliff_descent


# --8<-- [start:chance]
def expected_loss_without_key(q):
    """Expected cross-entropy of a network that gives key 0 the probability q whatever the key was,
    when both keys are equally likely: half the time it pays -log q, half the time -log(1 - q)."""
    return -(0.5 * np.log(q) + 0.5 * np.log(1 - q))


def cross_entropy_per_model(model, x, y):
    """Mean cross-entropy of each stacked model on its own test batch (x, y from memory_batch)."""
    with torch.no_grad():
        logits = model(x)  # (models, batch, 2)
    return torch.nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(1)


def guessing_accuracies(n_networks, n_tests, rng):
    """Test accuracies of networks that answer every test sequence with a fair coin flip: each one's
    number of right answers is binomial, n_tests trials with probability 1/2."""
    return rng.binomial(n_tests, 0.5, size=n_networks) / n_tests
    # --8<-- [end:chance]


# --8<-- [start:adding_baselines]
def adding_baselines(n, length, rng):
    """Mean squared error on fresh adding problems of two predictors that need no training:
    always answer 1, and answer the marked value of the second half plus 1/2."""
    x, target = adding_problem(n, length, rng)
    values, marker, target = x[:, :, 0].double(), x[:, :, 1].double(), target.double()
    second = (values * marker)[:, length // 2 :].sum(1)  # the one marked value in the second half
    return {
        "always 1": ((target - 1) ** 2).mean().item(),
        "second + 1/2": ((target - second - 0.5) ** 2).mean().item(),
    }
    # --8<-- [end:adding_baselines]


# --8<-- [start:wall]
def wall_gradient(w, steps=50, target=0.7):
    """(dL/dw, dL/db) of the cliff loss on the line b = -w/2, in closed form: there x_t = 0 at every step."""
    # dL/dx_T, with sigmoid(0) = 1/2 and sigmoid'(0) = 1/4
    signal = 2 * (sigmoid(0.0) - target) * 0.25
    # each step back multiplies by w sigmoid'(0) = w/4
    g_b = signal * sum((w / 4) ** j for j in range(steps))
    return 0.5 * g_b, g_b  # dL/dw collects sigmoid(x_{t-1}) = 1/2 times what dL/db collects
    # --8<-- [end:wall]


def best_guess() -> tuple[float, float]:
    """The q on the solution's grid with the lowest expected loss, and that loss."""
    q = np.linspace(0.01, 0.99, 99)
    return float(q[np.argmin(expected_loss_without_key(q))]), float(
        expected_loss_without_key(q).min()
    )


def wall_norm(w: float) -> float:
    return float(np.hypot(*wall_gradient(w)))


def figure_path() -> tuple[np.ndarray, np.ndarray]:
    """The gradient-descent path of figure l04_cliff, as the solution recomputes it (start, step size, steps)."""
    return cliff_descent(8.0, -3.0, 1.0, 300)


def wall_norm_at_jump() -> float:
    path, grad_norms = figure_path()
    return wall_norm(path[np.argmax(grad_norms), 0])


ANSWERS = [
    Answer("ex4_best_q", lambda: best_guess()[0]),
    Answer("ex4_chance_loss", lambda: best_guess()[1]),
    Answer("ex4_accuracy_scatter", lambda: float(np.sqrt(0.25 / 4000))),
    Answer("ex4_constant_mse", lambda: 1 / 6),
    Answer("ex4_second_mse", lambda: 1 / 12),
    Answer("ex4_wall_norm", lambda: wall_norm(8.0), fact=("l04_cliff", "cliff_wall_grad_norm")),
    Answer("ex4_wall_lr", lambda: 0.1 / wall_norm(8.0)),
    Answer(
        "ex4_jump_norm",
        lambda: float(figure_path()[1].max()),
        fact=("l04_cliff", "cliff_max_grad_norm"),
    ),
    Answer("ex4_wall_norm_at_jump", wall_norm_at_jump),
]
