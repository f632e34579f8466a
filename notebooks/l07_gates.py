# %% [markdown]
# # Notebook: gates, the LSTM and the GRU
#
# This notebook goes with lesson 7 of *Gradients Through Time*. You write one LSTM step by hand with the
# weights of PyTorch's `nn.LSTM`, follow the gradient along the cell state, and race a tanh RNN, an LSTM
# and a GRU on the adding problem. The functions are the chapter's own, exactly as the lesson page shows
# them.
#
# It needs numpy, torch and matplotlib and runs in well under a minute on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. One LSTM step, by hand
#
# Four gates are computed from the input $x_t$ and the previous output $h_{t-1}$: the input gate $i_t$,
# the forget gate $f_t$, the candidate $g_t$ and the output gate $o_t$. The cell state is updated by
#
# $$
# c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t).
# $$
#
# The old content is scaled by $f_t$ and new content is *added*. That sum is the path the gradient uses.
# The chapter's models come first: among them an LSTM whose forget gates start at a chosen bias.

# %%
# --8<-- "lessons_code/models.py:inits"
# --8<-- "lessons_code/models.py:cores"

# %%
# --8<-- "lessons_code/l07_gates.py:lstm_step"


cell = nn.LSTM(3, 8, batch_first=True, dtype=torch.float64)
x = torch.randn(2, 5, 3, dtype=torch.float64)
h = c = torch.zeros(2, 8, dtype=torch.float64)
for t in range(5):
    h, c, _ = lstm_step(cell, x[:, t], h, c)
_, (h_torch, c_torch) = cell(x)
print(
    "largest difference from nn.LSTM:",
    (h - h_torch[0]).abs().max().detach().item(),
    (c - c_torch[0]).abs().max().detach().item(),
)

# %% [markdown]
# ## 2. The gradient along the cell state
#
# Along the additive path alone, the gradient from $c_T$ back to $c_{T-k}$ is multiplied by the forget
# gates $f_T \odot \dots \odot f_{T-k+1}$ and nothing else: no weight matrix, no $\tanh'$. We compare that
# product with the full gradient $\|\partial L / \partial c_{T-k}\|$ measured by autograd, for freshly
# initialised LSTMs with forget-gate bias 1 and 3.

# %%
# --8<-- "lessons_code/l07_gates.py:cell_gradient"

# %% alt="Gradient ratio along the cell state against lag on a log axis for LSTMs with forget bias 1 and 3: the dashed forget-gate-only curves fall in straight lines below the solid measured ones; with bias 3 both stay many orders of magnitude higher than with bias 1."
x = torch.rand(16, 100, 2, dtype=torch.float64)
readout = torch.randn(64, dtype=torch.float64)
fig, ax = plt.subplots(figsize=(6, 3.4))
for bias, color in ((1.0, "tab:blue"), (3.0, "tab:orange")):
    measured, forget_only = cell_gradient_by_lag(lstm(2, 64, forget_bias=bias).double(), x, readout)
    ax.semilogy(measured, color=color, label=f"forget bias {bias:g}: measured")
    ax.semilogy(forget_only, color=color, ls="--", label=f"forget bias {bias:g}: forget gates only")
    print(
        f"forget bias {bias:g}: ratio at lag 99, measured {measured[-1]:.2e}, forget gates only {forget_only[-1]:.2e}"
    )
ax.set(xlabel="lag $k$", ylabel=r"$\|\partial L/\partial c_{T-k}\|$ (relative)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The product of forget gates alone already decides the order of magnitude: a bias of 3 starts each gate
# near $\sigma(3) \approx 0.95$ and the product decays slowly; a bias of 1 starts it near 0.73 and the
# product collapses. The measured gradient is larger than the additive path alone, because the paths
# through $h_t$ and the gates add to it, but it follows the same order: the more the cell keeps, the
# further back the gradient reaches.
#
# **Try it.** Set the bias to 0. Each gate then starts near $\sigma(0) = 0.5$: how many steps until the
# gradient is a millionth of its size?
#
# ## 3. The adding problem
#
# Every step carries a random value and a marker; the target is the sum of the two marked values, one in
# each half of the sequence of length $T = 50$. Always predicting 1 gives a mean squared error of $1/6$.
# Each model trains with Adam and gradient clipping until its test error is at most 0.01, or for at most
# 800 steps.

# %%
# --8<-- "lessons_code/tasks.py:adding"
# --8<-- "lessons_code/models.py:regressor"
# --8<-- "lessons_code/l07_gates.py:models"
# --8<-- "lessons_code/training.py:clip"
# --8<-- "lessons_code/training.py:train"
# --8<-- "lessons_code/l07_gates.py:train"

# %%
test = adding_problem(500, 50, np.random.default_rng(1))
curves = {}
for name, kind, lr in (
    ("tanh RNN", "tanh_rnn", 1e-3),
    ("LSTM (forget bias 1)", "lstm", 1e-2),
    ("GRU", "gru", 1e-2),
):
    log = train_on_adding(
        adding_model(kind, hidden=32),
        lr,
        max_steps=800,
        batch=32,
        seq_len=50,
        max_norm=1.0,
        eval_every=25,
        stop_mse=0.01,
        test=test,
        rng=rng,
    )
    curves[name] = log.evals
    print(f"{name:>20}: test MSE {log.evals[-1][1]:.4f} after {log.evals[-1][0]} steps")

# %% alt="Test mean squared error against training steps on a log axis for a tanh RNN, an LSTM and a GRU on the adding problem of length 50, with the level of always predicting 1 as a dotted line: the tanh RNN stays near that level, the LSTM and the GRU fall below 0.01."
fig, ax = plt.subplots(figsize=(6, 3.4))
for name, evals in curves.items():
    steps, errors = zip(*evals)
    ax.semilogy(steps, errors, marker="o", ms=3, label=name)
ax.axhline(ADDING_BASELINE_MSE, color="grey", ls=":", label="always predict 1")
ax.set(xlabel="training step", ylabel="test MSE (log scale)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Try it.** Make the sequences longer (`seq_len=100`, and a test set of that length) and give every
# model 2000 steps. The gated models still solve it; the tanh RNN does not. Then try the LSTM with
# forget bias 0 (`adding_model("lstm", 32, forget_bias=0.0)`).
