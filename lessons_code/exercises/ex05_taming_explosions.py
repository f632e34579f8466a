"""Solutions to the exercises of lesson 5 (docs/05-taming-explosions.md).

The sections below are pasted into the page after the lesson's own code, so they use its names
(``np``, ``torch``, ``clip_by_norm``, ``clip_by_value``, ``cosine``, ``cliff_loss_and_grad``) without
importing them.
"""

from __future__ import annotations

import numpy as np
import torch

from lessons_code.exercises import Answer
from lessons_code.l05_taming_explosions import clip_by_norm, clip_by_value, cosine  # noqa: F401
from lessons_code.tasks import cliff_loss_and_grad


def wall_gradient_clipped(max_norm: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 1 as the page computes it: the cliff's gradient on the wall at w = 8, and its norm-clipped version."""
    _, g_w, g_b = cliff_loss_and_grad(8.0, -4.0)
    g = np.array([g_w, g_b])
    return g, clip_by_norm(g, max_norm)


# --8<-- [start:sign]
def predicted_cosine(g):
    """The cosine between g and its value-clipped version when every component of g exceeds the threshold:
    clipping then returns c sign(g), and the cosine is ||g||_1 / (sqrt(n) ||g||_2), whatever c is."""
    return np.abs(g).sum() / (np.sqrt(g.size) * np.linalg.norm(g))
    # --8<-- [end:sign]


def exploding_gradient(n: int = 1000) -> np.ndarray:
    """Exercise 2's gradient: one component of 10^6, the other n - 1 equal to 2."""
    g = np.full(n, 2.0)
    g[0] = 1e6
    return g


# --8<-- [start:reach]
def chunked_outputs(rnn, x, k):
    """The outputs of rnn on x (batch, T, inputs) with the state detached every k steps, as in tbptt_step."""
    outs, h = [], None
    for start in range(0, x.shape[1], k):
        out, h = rnn(x[:, start : start + k], h)
        outs.append(out)
        h = h.detach()
    return torch.cat(outs, 1)


def gradient_reach(rnn, length, k):
    """reach[t, s] is True when the output at step t has a nonzero gradient with respect to the input at
    step s (steps counted from 0), with truncation length k."""
    x = torch.randn(1, length, rnn.input_size, dtype=torch.float64)
    # (1, T, H, 1, T, inputs)
    J = torch.autograd.functional.jacobian(lambda x: chunked_outputs(rnn, x, k), x)
    return (J[0].abs().sum((1, 2, 4)) != 0).numpy()
    # --8<-- [end:reach]


def reach_summary(
    k: int, length: int = 16, delay: int = 5, hidden: int = 4
) -> tuple[int, int, int]:
    """Exercise 3 as the page prints it: the longest lag with a gradient, and how many of the loss terms
    t >= delay reach the input they must recall, out of how many."""
    rnn = torch.nn.RNN(1, hidden, batch_first=True, dtype=torch.float64)
    reach = gradient_reach(rnn, length, k)
    t = np.arange(length)
    lags = (t[:, None] - t[None, :])[reach]
    needs = reach[t[delay:], t[delay:] - delay]
    return int(lags.max()), int(needs.sum()), int(needs.size)


ANSWERS = [
    Answer("ex5_clipped_w", lambda: float(wall_gradient_clipped()[1][0])),
    Answer("ex5_clipped_b", lambda: float(wall_gradient_clipped()[1][1])),
    Answer("ex5_clipped_cosine", lambda: cosine(*wall_gradient_clipped())),
    Answer("ex5_step_length", lambda: 30.0 * float(np.linalg.norm(wall_gradient_clipped()[1]))),
    Answer("ex5_scale", lambda: 0.1 / float(np.linalg.norm(wall_gradient_clipped()[0]))),
    Answer(
        "ex5_value_cosine",
        lambda: cosine(exploding_gradient(), clip_by_value(exploding_gradient(), 1.0)),
    ),
    Answer("ex5_lower_bound", lambda: float(1 / np.sqrt(1000))),
    Answer("ex5_longest_lag_k8", lambda: reach_summary(8)[0]),
    Answer("ex5_reached_k8", lambda: reach_summary(8)[1]),
    Answer("ex5_loss_terms", lambda: reach_summary(8)[2]),
    Answer("ex5_reached_k5", lambda: reach_summary(5)[1]),
    Answer("ex5_reached_k6", lambda: reach_summary(6)[1]),
]
