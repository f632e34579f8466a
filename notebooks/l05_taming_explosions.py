# %% [markdown]
# # Notebook: taming exploding gradients
#
# This notebook goes with lesson 5 of *Gradients Through Time*. You compare clipping by norm with
# clipping by value, rescue gradient descent on the one-neuron cliff with norm clipping, log what
# clipping does while training a recurrent network, and see what truncated backpropagation through time
# can and cannot learn. The functions are the chapter's own, exactly as the lesson page shows them.
#
# It needs numpy, torch and matplotlib and runs in well under a minute on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Clip the norm, not the values
#
# Norm clipping shrinks a gradient $g$ that is longer than a threshold $\tau$ to length $\tau$:
# $g \leftarrow \tau\, g / \|g\|$. Its direction stays the same. Clipping each component to
# $[-\tau, \tau]$ instead can turn the vector. A threshold that is not a positive number is a bug, so
# both functions refuse one.

# %%
# --8<-- "lessons_code/l05_taming_explosions.py:clip"


g = np.array([40.0, 3.0])
for name, clipped in (("by norm", clip_by_norm(g, 1.0)), ("by value", clip_by_value(g, 1.0))):
    print(f"clipped {name}: {clipped.round(3)}, cosine with the original {cosine(g, clipped):.3f}")

# %% [markdown]
# ## 2. Norm clipping on the cliff
#
# Lesson 4's one-neuron network $x_t = w\,\sigma(x_{t-1}) + b$ has a loss surface with a wall on which the
# gradient is huge. Run gradient descent from 200 random starts near the wall, with and without clipping
# the gradient norm to 0.1, at several learning rates, and count the runs that end with a loss below
# $10^{-3}$.

# %%
# --8<-- "lessons_code/activations.py:activations"
# --8<-- "lessons_code/tasks.py:cliff"


w0, b0 = rng.uniform(4, 10, 200), rng.uniform(-6, 0, 200)
with np.errstate(over="ignore", invalid="ignore"):
    for lr in (1.0, 10.0, 30.0):
        success = {}
        for name, clip in (
            ("without clipping", None),
            ("with clipping", lambda g: clip_by_norm(g, 0.1)),
        ):
            path, _ = cliff_descent(w0, b0, lr, 500, clip)
            loss, _, _ = cliff_loss_and_grad(path[-1, :, 0], path[-1, :, 1])
            success[name] = np.mean(loss < 1e-3)
        print(
            f"lr {lr:>4}: loss below 1e-3 in "
            + ", ".join(f"{s:4.0%} of runs {n}" for n, s in success.items())
        )

# %% [markdown]
# **Try it.** Change the threshold to 0.01 or 10. A small threshold slows descent everywhere; a large
# one lets the wall throw runs away again.
#
# ## 3. Log what clipping does while training
#
# `torch.nn.utils.clip_grad_norm_` returns the norm *before* clipping. Log it: it tells you when and how
# often clipping acts. The chapter's training loop does that at every step. Here a ReLU network with
# identity recurrent weights (an IRNN) learns the adding problem of length 100 with plain SGD, once without
# and once with clipping, from the same initial weights and on the same batches.

# %%
# --8<-- "lessons_code/tasks.py:adding"
# --8<-- "lessons_code/models.py:inits"
# --8<-- "lessons_code/models.py:cores"
# --8<-- "lessons_code/models.py:regressor"
# --8<-- "lessons_code/training.py:clip"
# --8<-- "lessons_code/training.py:train"

# %%
runs = {}
for name, max_norm in (("no clipping", None), ("clipped at 1", 1.0)):
    torch.manual_seed(1)  # the same initial weights ...
    batches = np.random.default_rng(0)  # ... and the same batches for both runs
    model = LastStepRegressor(irnn(2, 64))
    runs[name] = train(
        model,
        lambda batches=batches: adding_problem(32, 100, batches),
        lambda m, x, y: ((m(x) - y) ** 2).mean(),
        torch.optim.SGD(model.parameters(), lr=0.01),
        steps=200,
        max_norm=max_norm,
    )
for name, log in runs.items():
    norms = np.array(log.grad_norm)
    finite = norms[np.isfinite(norms)]
    print(
        f"{name:>12}: {len(log.loss)} steps, largest norm {finite.max():.3g}, "
        f"last loss {log.loss[-1]:.4g}, "
        + (
            "always finite"
            if log.diverged_at is None
            else f"not finite from step {log.diverged_at} on"
        )
    )

# %% alt="Two panels over SGD steps for an IRNN on the adding problem, without and with clipping. Left: the logged gradient norm on a log axis. Right: the training loss on a log axis."
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
for name, log in runs.items():
    left.semilogy(log.grad_norm, lw=0.9, label=name)
    right.semilogy(log.loss, lw=0.9, label=name)
left.set(xlabel="SGD step", ylabel="gradient norm before clipping")
right.set(xlabel="SGD step", ylabel="training loss (MSE)")
right.legend()
plt.show()

# %% [markdown]
# Without clipping a few huge gradients throw the loss up by many orders of magnitude; with clipping
# the same steps are cut to length 1 and the loss stays near where it was.
#
# **Try it.** Lower the learning rate to 0.001 without clipping. Does the explosion go away, and what
# does the loss do instead?
#
# ## 4. Truncated backpropagation through time
#
# Truncated BPTT cuts the sequence into chunks of $k$ steps and stops the gradient at every chunk
# boundary. It saves memory and time, but a gradient can now travel back at most $k - 1$ steps, and only
# from the last step of a chunk: a dependency of $k$ steps or more gets no gradient at all.
# The task: output, at every step, the symbol seen `delay` steps earlier.

# %%
# --8<-- "lessons_code/l05_taming_explosions.py:tbptt"
# --8<-- "lessons_code/tasks.py:recall"


def recall_accuracy(k, delay=6, steps=250, n_symbols=4, hidden=48, length=48):
    torch.manual_seed(0)
    rnn, readout = nn.GRU(n_symbols, hidden, batch_first=True), nn.Linear(hidden, n_symbols)
    optimiser = torch.optim.Adam([*rnn.parameters(), *readout.parameters()], lr=1e-2)
    for _ in range(steps):
        x, targets = delayed_recall(32, length, delay, n_symbols, rng)
        tbptt_step(rnn, readout, optimiser, x, targets, k)
    x, targets = delayed_recall(256, length, delay, n_symbols, rng)
    with torch.no_grad():
        predictions = readout(rnn(x)[0]).argmax(-1)
    mask = targets != -100
    return (predictions[mask] == targets[mask]).float().mean().item()


for k in (3, 12):
    print(
        f"chunks of {k:>2} steps, delay 6: recall accuracy {recall_accuracy(k):.3f} (chance 0.25)"
    )

# %% [markdown]
# With chunks shorter than the delay the network only learns what a chunk can show it; with longer chunks
# it learns the task. Truncation limits how far back learning reaches. It is not a cure for exploding
# gradients, only a cap on how many factors enter each product.
#
# **Try it.** Use `delay=10` with chunks of 12. Most targets now sit within one chunk of their cause,
# but not all of them: what accuracy do you expect?
