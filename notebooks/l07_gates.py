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
# # Notebook: gates, the LSTM and the GRU
#
# This notebook goes with lesson 7 of *Gradients Through Time*. You write one LSTM step by hand with the
# weights of PyTorch's `nn.LSTM`, follow the gradient along the cell state, and race a tanh RNN, an LSTM
# and a GRU on the adding problem.
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

# %%
def lstm_step(lstm, x_t, h, c):
    gates = x_t @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    i, f, g, o = gates.chunk(4, dim=-1)  # PyTorch's order: input, forget, candidate, output
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    return o * torch.tanh(c), c, f


lstm = nn.LSTM(3, 8, batch_first=True, dtype=torch.float64)
x = torch.randn(2, 5, 3, dtype=torch.float64)
h = c = torch.zeros(2, 8, dtype=torch.float64)
for t in range(5):
    h, c, _ = lstm_step(lstm, x[:, t], h, c)
_, (h_torch, c_torch) = lstm(x)
print("largest difference from nn.LSTM:", (h - h_torch[0]).abs().max().detach().item(),
      (c - c_torch[0]).abs().max().detach().item())

# %% [markdown]
# ## 2. The gradient along the cell state
#
# Along the additive path alone, the gradient from $c_T$ back to $c_{T-k}$ is multiplied by the forget
# gates $f_T \odot \dots \odot f_{T-k+1}$ and nothing else: no weight matrix, no $\tanh'$. We compare that
# product with the full gradient $\|\partial L / \partial c_{T-k}\|$ measured by autograd, for freshly
# initialised LSTMs with forget-gate bias 1 and 3.

# %% alt="Gradient ratio along the cell state against lag on a log axis for LSTMs with forget bias 1 and 3: the dashed forget-gate-only curves fall in straight lines below the solid measured ones; with bias 3 both stay many orders of magnitude higher than with bias 1."
def with_forget_bias(bias, n_in=2, hidden=64):
    model = nn.LSTM(n_in, hidden, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        model.bias_ih_l0[hidden:2 * hidden] = bias
        model.bias_hh_l0[hidden:2 * hidden] = 0.0
    return model


def cell_gradient_by_lag(lstm, x, readout):
    h = c = torch.zeros(x.shape[0], lstm.hidden_size, dtype=x.dtype)
    cells, forgets = [], []
    for t in range(x.shape[1]):
        h, c, f = lstm_step(lstm, x[:, t], h, c)
        cells.append(c)
        forgets.append(f.detach())
    grads = torch.autograd.grad((cells[-1] @ readout).sum(), cells)
    measured = torch.stack([g.norm(dim=-1) for g in grads]).flip(0) / readout.norm()
    products = torch.cumprod(torch.stack(forgets).flip(0), dim=0)
    products = torch.cat([torch.ones_like(products[:1]), products[:-1]])
    forget_only = (products * readout).norm(dim=-1) / readout.norm()
    return measured.median(dim=1).values.numpy(), forget_only.median(dim=1).values.numpy()


x = torch.rand(16, 100, 2, dtype=torch.float64)
readout = torch.randn(64, dtype=torch.float64)
fig, ax = plt.subplots(figsize=(6, 3.4))
for bias, color in ((1.0, "tab:blue"), (3.0, "tab:orange")):
    measured, forget_only = cell_gradient_by_lag(with_forget_bias(bias), x, readout)
    ax.semilogy(measured, color=color, label=f"forget bias {bias:g}: measured")
    ax.semilogy(forget_only, color=color, ls="--", label=f"forget bias {bias:g}: forget gates only")
    print(f"forget bias {bias:g}: ratio at lag 99, measured {measured[-1]:.2e}, forget gates only {forget_only[-1]:.2e}")
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
def adding_batch(batch, seq_len, rng):
    values = rng.uniform(0.0, 1.0, (batch, seq_len))
    markers = np.zeros((batch, seq_len))
    markers[np.arange(batch), rng.integers(0, seq_len // 2, batch)] = 1.0
    markers[np.arange(batch), rng.integers(seq_len // 2, seq_len, batch)] = 1.0
    return torch.from_numpy(np.stack([values, markers], axis=-1)).float(), torch.from_numpy((values * markers).sum(1)).float()


class LastStepRegressor(nn.Module):
    def __init__(self, core, hidden):
        super().__init__()
        self.core, self.head = core, nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.core(x)[0][:, -1]).squeeze(-1)


def train(model, lr, seq_len=50, max_steps=800, eval_every=25, stop_mse=0.01):
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    x_test, y_test = adding_batch(500, seq_len, np.random.default_rng(1))
    steps, errors = [], []
    for step in range(max_steps + 1):
        if step % eval_every == 0:
            with torch.no_grad():
                steps.append(step)
                errors.append(float(((model(x_test) - y_test) ** 2).mean()))
            if errors[-1] <= stop_mse or not math.isfinite(errors[-1]):
                break
        x, y = adding_batch(32, seq_len, rng)
        loss = ((model(x) - y) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
    return steps, errors


hidden = 32
lstm_core = nn.LSTM(2, hidden, batch_first=True)
with torch.no_grad():
    lstm_core.bias_ih_l0[hidden:2 * hidden] = 1.0
    lstm_core.bias_hh_l0[hidden:2 * hidden] = 0.0
contestants = {
    "tanh RNN": (LastStepRegressor(nn.RNN(2, hidden, batch_first=True), hidden), 1e-3),
    "LSTM (forget bias 1)": (LastStepRegressor(lstm_core, hidden), 1e-2),
    "GRU": (LastStepRegressor(nn.GRU(2, hidden, batch_first=True), hidden), 1e-2),
}
curves = {}
for name, (model, lr) in contestants.items():
    curves[name] = train(model, lr)
    steps, errors = curves[name]
    print(f"{name:>20}: test MSE {errors[-1]:.4f} after {steps[-1]} steps")

# %% alt="Test mean squared error against training steps on a log axis for a tanh RNN, an LSTM and a GRU on the adding problem of length 50, with the level of always predicting 1 as a dotted line: the tanh RNN stays near that level, the LSTM and the GRU fall below 0.01."
fig, ax = plt.subplots(figsize=(6, 3.4))
for name, (steps, errors) in curves.items():
    ax.semilogy(steps, errors, marker="o", ms=3, label=name)
ax.axhline(1 / 6, color="grey", ls=":", label="always predict 1")
ax.set(xlabel="training step", ylabel="test MSE (log scale)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Try it.** Make the sequences longer (`seq_len=100` in `train`) and give every model 2000 steps. The
# gated models still solve it; the tanh RNN does not. Then try the LSTM with forget bias 0.
