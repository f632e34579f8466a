# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook: taming exploding gradients
#
# This notebook goes with lesson 5 of *Gradients Through Time*. You compare clipping by norm with
# clipping by value, rescue gradient descent on the one-neuron cliff with norm clipping, log what
# `clip_grad_norm_` returns while training a recurrent network, and see what truncated backpropagation
# through time can and cannot learn.
#
# It needs numpy, torch and matplotlib and runs in well under a minute on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

_ = torch.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Clip the norm, not the values
#
# Norm clipping shrinks a gradient $g$ that is longer than a threshold $\tau$ to length $\tau$:
# $g \leftarrow \tau\, g / \|g\|$. Its direction stays the same. Clipping each component to
# $[-\tau, \tau]$ instead can turn the vector.

# %%
def clip_by_norm(g, max_norm):
    norm = np.linalg.norm(g, axis=-1, keepdims=True)
    return g * np.minimum(1.0, max_norm / np.maximum(norm, 1e-300))


def clip_by_value(g, clip_value):
    return np.clip(g, -clip_value, clip_value)


def cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


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
def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def cliff_loss_and_grad(w, b, steps=50, target=0.7):
    xs = [np.zeros(w.shape)]
    for _ in range(steps):
        xs.append(w * sigmoid(xs[-1]) + b)
    s = sigmoid(xs[-1])
    g_x = 2 * (s - target) * s * (1 - s)
    g_w, g_b = np.zeros(w.shape), np.zeros(w.shape)
    for t in range(steps, 0, -1):
        s_prev = sigmoid(xs[t - 1])
        g_w, g_b = g_w + g_x * s_prev, g_b + g_x
        g_x = g_x * w * s_prev * (1 - s_prev)
    return (s - target) ** 2, g_w, g_b


def descend(w, b, lr, n_steps, max_norm=None):
    """Gradient descent from many starts at once; returns the final losses."""
    for _ in range(n_steps):
        _, g_w, g_b = cliff_loss_and_grad(w, b)
        step = np.stack([g_w, g_b], axis=-1)
        if max_norm is not None:
            step = clip_by_norm(step, max_norm)
        w, b = w - lr * step[..., 0], b - lr * step[..., 1]
    return cliff_loss_and_grad(w, b)[0]


w0, b0 = rng.uniform(4, 10, 200), rng.uniform(-6, 0, 200)
with np.errstate(over="ignore", invalid="ignore"):
    for lr in (1.0, 10.0, 30.0):
        plain = descend(w0, b0, lr, 500)
        clipped = descend(w0, b0, lr, 500, max_norm=0.1)
        print(f"lr {lr:>4}: loss below 1e-3 in {np.mean(plain < 1e-3):4.0%} of runs without clipping, "
              f"{np.mean(clipped < 1e-3):4.0%} with clipping")

# %% [markdown]
# **Try it.** Change the threshold to 0.01 or 10. A small threshold slows descent everywhere; a large
# one lets the wall throw runs away again.
#
# ## 3. Log what clipping does while training
#
# `torch.nn.utils.clip_grad_norm_` returns the norm *before* clipping. Log it: it tells you when and how
# often clipping acts. Here a ReLU network with identity recurrent weights (an IRNN) learns the adding
# problem of length 100 with plain SGD, once without and once with clipping, from the same initial
# weights and on the same batches.

# %%
def adding_batch(n, length, generator):
    values = torch.rand(n, length, generator=generator)
    markers = torch.zeros(n, length)
    markers[torch.arange(n), torch.randint(0, length // 2, (n,), generator=generator)] = 1.0
    markers[torch.arange(n), torch.randint(length // 2, length, (n,), generator=generator)] = 1.0
    return torch.stack([values, markers], dim=-1), (values * markers).sum(dim=1, keepdim=True)


def make_irnn(hidden=64):
    torch.manual_seed(1)
    rnn = nn.RNN(2, hidden, nonlinearity="relu", batch_first=True)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(hidden))
        rnn.weight_ih_l0.normal_(0, 1e-3)
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
    return rnn, nn.Linear(hidden, 1)


def train(max_norm, steps=200, length=100, lr=0.01):
    rnn, readout = make_irnn()
    params = [*rnn.parameters(), *readout.parameters()]
    optimiser = torch.optim.SGD(params, lr=lr)
    generator = torch.Generator().manual_seed(0)
    losses, norms = [], []
    for _ in range(steps):
        x, y = adding_batch(32, length, generator)
        out, _ = rnn(x)
        loss = nn.functional.mse_loss(readout(out[:, -1]), y)
        optimiser.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(params, max_norm if max_norm else float("inf")).item()
        losses.append(loss.item())
        norms.append(norm)
        if not math.isfinite(norm):
            break  # a NaN/inf gradient: stop (in real training, skip this update)
        optimiser.step()
    return np.array(losses), np.array(norms)


runs = {"no clipping": train(None), "clipped at 1": train(1.0)}
for name, (losses, norms) in runs.items():
    finite = norms[np.isfinite(norms)]
    print(f"{name:>12}: {len(losses)} steps, largest norm {finite.max():.3g}, "
          f"last loss {losses[-1]:.4g}, non-finite {np.sum(~np.isfinite(norms))}")

# %% alt="Two panels over SGD steps for an IRNN on the adding problem, without and with clipping. Left: the logged gradient norm on a log axis. Right: the training loss on a log axis."
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
for name, (losses, norms) in runs.items():
    left.semilogy(norms, lw=0.9, label=name)
    right.semilogy(losses, lw=0.9, label=name)
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
# boundary. It saves memory and time, but a dependency longer than $k$ steps gets no gradient at all.
# The task: output, at every step, the symbol seen `delay` steps earlier.

# %%
def recall_batch(n, length, delay, n_symbols, rng):
    symbols = rng.integers(0, n_symbols, size=(n, length))
    x = torch.from_numpy(np.eye(n_symbols, dtype=np.float32)[symbols])
    targets = torch.full((n, length), -100)
    targets[:, delay:] = torch.from_numpy(symbols[:, :-delay])
    return x, targets


def train_truncated(k, delay=6, steps=250, n_symbols=4, hidden=48, length=48):
    torch.manual_seed(0)
    rnn, readout = nn.GRU(n_symbols, hidden, batch_first=True), nn.Linear(hidden, n_symbols)
    optimiser = torch.optim.Adam([*rnn.parameters(), *readout.parameters()], lr=1e-2)
    for _ in range(steps):
        x, targets = recall_batch(32, length, delay, n_symbols, rng)
        optimiser.zero_grad()
        h = None
        for start in range(0, length, k):
            out, h = rnn(x[:, start:start + k], h)
            logits = readout(out).flatten(0, 1)
            nn.functional.cross_entropy(logits, targets[:, start:start + k].flatten(), ignore_index=-100).backward()
            h = h.detach()  # keep the state, cut the gradient
        optimiser.step()
    x, targets = recall_batch(256, length, delay, n_symbols, rng)
    with torch.no_grad():
        predictions = readout(rnn(x)[0]).argmax(-1)
    mask = targets != -100
    return (predictions[mask] == targets[mask]).float().mean().item()


for k in (3, 12):
    print(f"chunks of {k:>2} steps, delay 6: recall accuracy {train_truncated(k):.3f} (chance 0.25)")

# %% [markdown]
# With chunks shorter than the delay the network only learns what a chunk can show it; with longer chunks
# it learns the task. Truncation limits how far back learning reaches. It is not a cure for exploding
# gradients, only a cap on how many factors enter each product.
#
# **Try it.** Use `delay=10` with chunks of 12. Most targets now sit within one chunk of their cause,
# but not all of them: what accuracy do you expect?
