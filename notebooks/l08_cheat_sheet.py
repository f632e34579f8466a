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
# # Notebook: the cheat-sheet recipe in action
#
# This notebook goes with lesson 8 of *Gradients Through Time*, the cheat sheet. It runs the PyTorch recipe
# from that page end to end: orthogonal initialisation and a forget-gate bias, gradient clipping with the
# returned norm logged, and a per-time-step monitor of the gradient reaching each hidden state, before and
# after training an LSTM on the adding problem.
#
# It needs torch and matplotlib and runs in well under a minute on a laptop CPU. Cells marked **Try it**
# suggest a change to make and what to look for.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

_ = torch.manual_seed(0)  # the same initial weights on every run

# %% [markdown]
# ## 1. The recipe
#
# The same four pieces as on the cheat sheet: initialisation, clipping with logging, the monitor, and a
# small model with its training loop.

# %%
def init_orthogonal(rnn):
    """Orthogonal recurrent weights, one square block per gate; Xavier input weights; zero biases."""
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("weight_hh"):
                for block in param.split(rnn.hidden_size, dim=0):
                    nn.init.orthogonal_(block)
            elif name.startswith("weight_ih"):
                for block in param.split(rnn.hidden_size, dim=0):
                    nn.init.xavier_uniform_(block)
            elif name.startswith("bias"):
                nn.init.zeros_(param)


def set_forget_bias(lstm, value=1.0):
    """PyTorch orders an LSTM's gates (input, forget, cell, output); the two biases add up to `value`."""
    h = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[h:2 * h] = value
            elif name.startswith("bias_hh"):
                param[h:2 * h] = 0.0


def clip_and_log(model, max_norm, norms):
    """Clip the global gradient norm; log the norm before clipping; False means: skip this step."""
    norm = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm))
    norms.append(norm)
    return math.isfinite(norm)


def hidden_gradient_norms(rnn, inputs, loss_fn):
    """||dL/dh_t|| for t = 1..T (top layer, mean over the batch), stepping the network one step at a time."""
    state, hidden = None, []
    for t in range(inputs.shape[1]):
        _, state = rnn(inputs[:, t:t + 1], state)
        hidden.append(state[0] if isinstance(state, tuple) else state)
    grads = torch.autograd.grad(loss_fn(hidden[-1][-1]), hidden)
    return torch.stack([g[-1].norm(dim=-1).mean() for g in grads])


class SequenceRegressor(nn.Module):
    def __init__(self, features, hidden, forget_bias=1.0, recipe=True):
        super().__init__()
        self.rnn = nn.LSTM(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        if recipe:
            init_orthogonal(self.rnn)
            set_forget_bias(self.rnn, forget_bias)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1]).squeeze(-1)


def adding_problem(batch, steps, generator):
    values = torch.rand(batch, steps, generator=generator)
    first = torch.randint(0, steps // 2, (batch,), generator=generator)
    second = torch.randint(steps // 2, steps, (batch,), generator=generator)
    markers = torch.zeros(batch, steps)
    markers[torch.arange(batch), first] = 1.0
    markers[torch.arange(batch), second] = 1.0
    return torch.stack([values, markers], dim=-1), (values * markers).sum(dim=1)


# %% [markdown]
# ## 2. The monitor before training
#
# Two LSTMs, one with PyTorch's default initialisation and one built with the recipe. The monitor shows
# $\|\partial L/\partial h_t\|$ for every step $t$ of a sequence of 100 steps, with the loss read at the end.

# %%
seq_len = 40
probe_x, probe_y = adding_problem(64, 100, torch.Generator().manual_seed(1))


def profile(model):
    return hidden_gradient_norms(
        model.rnn, probe_x, lambda h: nn.functional.mse_loss(model.head(h).squeeze(-1), probe_y)
    ).detach()


default_model = SequenceRegressor(2, 32, recipe=False)
recipe_model = SequenceRegressor(2, 32)
before = {"default init": profile(default_model), "recipe": profile(recipe_model)}
for name, curve in before.items():
    print(f"{name:>12}: ||dL/dh_1|| / ||dL/dh_T|| = {(curve[0] / curve[-1]).item():.2e}")

# %% [markdown]
# A ratio of exactly 0 is float32 underflow: the gradient of the default-initialised LSTM fell below the
# smallest number float32 can hold before it reached the first steps. That is vanishing, seen directly.
#
# ## 3. Train with clipping, and log the norm

# %%
def train(model, steps=600, max_norm=1.0, lr=1e-2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, norms, skipped = [], [], 0
    for _ in range(steps):
        x, y = adding_problem(64, seq_len, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if clip_and_log(model, max_norm, norms):
            optimizer.step()
        else:
            skipped += 1
        losses.append(loss.item())
    return losses, norms, skipped


losses, norms, skipped = train(recipe_model)
clipped = sum(n > 1.0 for n in norms) / len(norms)
print(f"clipping acted on {clipped:.0%} of {len(norms)} steps; largest norm {max(norms):.3g}; "
      f"skipped {skipped} non-finite steps; mean loss of the last 50 steps {sum(losses[-50:]) / 50:.4f}")

# %% alt="Three panels. Left: the gradient norm logged before clipping at every training step, on a log axis, with the threshold at 1. Middle: the training loss on a log axis, flat near one sixth at first and then falling. Right: the per-time-step gradient monitor over 100 steps for the default-initialised LSTM, the recipe LSTM before training and the same LSTM after training."
fig, (a, b, c) = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
a.semilogy(norms, lw=0.8)
a.axhline(1.0, color="tab:orange", ls="--", label="max_norm")
a.set(xlabel="training step", ylabel="norm before clipping")
a.legend()
b.semilogy(losses, lw=0.8, color="tab:green")
b.axhline(1 / 6, color="grey", ls=":", label="always predict 1")
b.set(xlabel="training step", ylabel="training loss (MSE)")
b.legend()
for name, curve in {**before, "recipe, after training": profile(recipe_model)}.items():
    c.semilogy(torch.arange(1, 101), curve, label=name)
c.set(xlabel="time step $t$", ylabel=r"$\|\partial L/\partial h_t\|$")
c.legend(fontsize=8)
plt.show()

# %% [markdown]
# After training the monitor is nearly flat: the network has learned to carry information, and the
# gradient, across the whole sequence.
#
# **Try it.**
#
# - Train `SequenceRegressor(2, 32, recipe=False)` with the same loop. How long does it sit at the level
#   of always predicting 1?
# - Set `max_norm=0.05`. Clipping now acts on almost every step: it has become a smaller learning rate.
# - Make `seq_len` 100. The recipe still learns, more slowly; watch the monitor's left end.
