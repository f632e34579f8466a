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
# # Notebook: initialisation, the IRNN and echo state networks
#
# This notebook goes with lesson 6 of *Gradients Through Time*. Three ways to keep a signal alive across
# many steps without changing the update rule: start the recurrent weights orthogonal, start them at the
# identity with ReLU units (the IRNN), or never train them at all and read a fixed random reservoir with
# a linear readout (an echo state network).
#
# It needs numpy, torch and matplotlib and runs in a few seconds on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

_ = torch.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. How far back does the gradient reach at initialisation?
#
# For each network we measure $\|\partial L / \partial h_{T-k}\| \,/\, \|\partial L / \partial h_T\|$,
# the size of the gradient $k$ steps back relative to the last step, in float64 so that tiny values do
# not round to zero. The network is stepped one time step at a time so that every hidden state is a
# tensor autograd can differentiate against.

# %%
def default_tanh(n_in, hidden):
    return nn.RNN(n_in, hidden, batch_first=True, dtype=torch.float64)


def orthogonal_tanh(n_in, hidden):
    rnn = default_tanh(n_in, hidden)
    nn.init.orthogonal_(rnn.weight_hh_l0)
    return rnn


def irnn(n_in, hidden):
    rnn = nn.RNN(n_in, hidden, nonlinearity="relu", batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(hidden))
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
    return rnn


def lstm(forget_bias):
    def build(n_in, hidden):
        model = nn.LSTM(n_in, hidden, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            model.bias_ih_l0[hidden:2 * hidden] = forget_bias  # gate order: input, forget, cell, output
            model.bias_hh_l0[hidden:2 * hidden] = 0.0
        return model
    return build


def gradient_ratio_by_lag(core, x, readout):
    states, carry = [], None
    for t in range(x.shape[1]):
        _, carry = core(x[:, t:t + 1], carry)
        states.append(carry[0] if isinstance(carry, tuple) else carry)
    grads = torch.autograd.grad((states[-1][0] @ readout).sum(), states)
    norms = torch.stack([g[0].norm(dim=-1) for g in grads]).detach().numpy()
    return np.median(norms / norms[-1], axis=1)[::-1]  # index k: lag k


# %% alt="Gradient ratio against lag on a log axis for six freshly initialised networks over 100 steps: the default tanh RNN and the LSTM with forget bias 0 fall fastest, the orthogonal tanh RNN and the LSTM with forget bias 1 fall much more slowly, and the IRNN and the LSTM with forget bias 3 stay closest to 1."
n_in, hidden, T = 4, 64, 100
x = torch.randn(16, T, n_in, dtype=torch.float64)
readout = torch.randn(hidden, dtype=torch.float64) / hidden ** 0.5
models = {"tanh, default": default_tanh, "tanh, orthogonal": orthogonal_tanh, "IRNN": irnn,
          "LSTM, forget bias 0": lstm(0.0), "LSTM, forget bias 1": lstm(1.0), "LSTM, forget bias 3": lstm(3.0)}
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, build in models.items():
    ratio = gradient_ratio_by_lag(build(n_in, hidden), x, readout)
    ax.semilogy(ratio, label=name)
    print(f"{name:>20}: ratio at lag {T - 1} = {ratio[-1]:.2e}")
ax.set(xlabel="lag $k$", ylabel="gradient ratio (log scale)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# These are measurements at initialisation only. Training moves the weights; orthogonal and identity
# starts buy the optimiser time, and the forget gate of an LSTM is a parameter the network can keep open.
#
# **Try it.** Scale the inputs: `x = 3 * torch.randn(...)`. Which curves move, and why do the tanh
# networks suffer most? (Hint: lesson 3, saturation.)
#
# ## 2. Echo state networks: a reservoir that is never trained
#
# An echo state network runs a fixed random recurrent layer $x_t = \tanh(W x_{t-1} + w_{\text{in}} u_t)$,
# with $W$ scaled to spectral radius $\rho$ below about 1, and trains only a linear readout by least
# squares. No gradient travels back through time. The first property to check: the state forgets where it
# started, so it is a function of the input history (the *echo state property*).

# %%
class EchoStateNetwork:
    def __init__(self, size, spectral_radius, input_scale, rng):
        W = rng.standard_normal((size, size))
        self.W = W * (spectral_radius / np.max(np.abs(np.linalg.eigvals(W))))
        self.w_in = input_scale * rng.uniform(-1.0, 1.0, size)

    def run(self, u, x0=None):
        x = np.zeros(len(self.w_in)) if x0 is None else np.array(x0, dtype=float)
        states = np.empty((len(u), len(x)))
        for t, u_t in enumerate(u):
            x = np.tanh(self.W @ x + self.w_in * u_t)
            states[t] = x
        return states


u = rng.uniform(-1, 1, 2000)
for rho in (0.8, 1.5):
    esn = EchoStateNetwork(200, rho, 0.5, rng)
    a, b = esn.run(u[:100], rng.uniform(-1, 1, 200)), esn.run(u[:100], rng.uniform(-1, 1, 200))
    print(f"rho = {rho}: distance between two runs from different starts after 100 steps "
          f"{np.linalg.norm(a[-1] - b[-1]):.2e}")

# %% [markdown]
# ## 3. How much does the reservoir remember?
#
# Train one ridge-regression readout per delay $d$ to output the input $u_{t-d}$, and score it with $r^2$
# on held-out steps. The sum of the $r^2$ over delays is the reservoir's *memory capacity*.

# %% alt="Recall quality r squared against delay from 1 to 40 for reservoirs with spectral radius 0.5, 0.9 and 0.99: all start near 1 for short delays; the reservoir with radius 0.5 forgets first and abruptly, the ones closer to 1 remember much longer."
def recall_r2(esn, u, max_delay=40, washout=100, n_train=1200, ridge=1e-6):
    states = esn.run(u)
    steps = np.arange(washout + max_delay, len(u))
    delays = np.arange(1, max_delay + 1)
    targets = u[steps[:, None] - delays[None, :]]
    X = states[steps]
    W_out = np.linalg.solve(X[:n_train].T @ X[:n_train] + ridge * np.eye(X.shape[1]), X[:n_train].T @ targets[:n_train])
    predicted = X[n_train:] @ W_out
    return np.array([np.corrcoef(predicted[:, j], targets[n_train:, j])[0, 1] ** 2 for j in range(max_delay)])


fig, ax = plt.subplots(figsize=(6, 3.2))
for rho in (0.5, 0.9, 0.99):
    r2 = recall_r2(EchoStateNetwork(200, rho, 0.1, np.random.default_rng(1)), u)
    ax.plot(np.arange(1, len(r2) + 1), r2, label=rf"$\rho = {rho}$")
    print(f"rho = {rho}: memory capacity {r2.sum():.1f} (of at most 40)")
ax.set(xlabel="delay $d$", ylabel="$r^2$ of recalling $u_{t-d}$")
ax.legend()
plt.show()

# %% [markdown]
# **Try it.** Use a reservoir of 50 units instead of 200. Memory capacity cannot exceed the number of
# units; how close does each reservoir come?
