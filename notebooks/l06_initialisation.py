# %% [markdown]
# # Notebook: initialisation, the IRNN and echo state networks
#
# This notebook goes with lesson 6 of *Gradients Through Time*. Three ways to keep a signal alive across
# many steps without changing the update rule: start the recurrent weights orthogonal, start them at the
# identity with ReLU units (the IRNN), or never train them at all and read a fixed random reservoir with
# a linear readout (an echo state network). The functions are the chapter's own, exactly as the lesson
# page shows them.
#
# It needs numpy, torch and matplotlib and runs in a few seconds on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. How far back does the gradient reach at initialisation?
#
# The networks: PyTorch's tanh RNN as it comes, the same with an orthogonal recurrent matrix, the IRNN
# (ReLU units, recurrent matrix the identity, tiny input weights, zero biases), and LSTMs whose forget
# gates start at a chosen bias.

# %%
# --8<-- "lessons_code/models.py:inits"
# --8<-- "lessons_code/models.py:cores"
# --8<-- "lessons_code/l06_initialisation.py:orthogonal"


W = orthogonal_tanh_rnn(1, 64).weight_hh_l0.detach()
print("orthogonal:", torch.allclose(W.T @ W, torch.eye(64), atol=1e-5))

# %% [markdown]
# For each network we measure $\|\partial L / \partial h_{T-k}\| \,/\, \|\partial L / \partial h_T\|$,
# the size of the gradient $k$ steps back relative to the last step, in float64 so that tiny values do
# not round to zero. The network is stepped one time step at a time so that every hidden state is a
# tensor autograd can differentiate against.

# %%
# --8<-- "lessons_code/training.py:states"
# --8<-- "lessons_code/training.py:monitor"

# %% alt="Gradient ratio against lag on a log axis for six freshly initialised networks over 100 steps: the default tanh RNN and the LSTM with forget bias 0 fall fastest, the orthogonal tanh RNN and the LSTM with forget bias 1 fall much more slowly, and the IRNN and the LSTM with forget bias 3 stay closest to 1."
n_in, hidden, T = 4, 64, 100
x = torch.randn(16, T, n_in, dtype=torch.float64)
readout = torch.randn(hidden, dtype=torch.float64) / hidden**0.5
models = {
    "tanh, default": tanh_rnn(n_in, hidden),
    "tanh, orthogonal": orthogonal_tanh_rnn(n_in, hidden),
    "IRNN": irnn(n_in, hidden),
    **{f"LSTM, forget bias {b:g}": lstm(n_in, hidden, b) for b in (0.0, 1.0, 3.0)},
}
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, core in models.items():
    ratio = gradient_ratio_by_lag(core.double(), x, readout)
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
# --8<-- "lessons_code/l06_initialisation.py:esn"
# --8<-- "lessons_code/l06_initialisation.py:esp"


u = rng.uniform(-1, 1, 2000)
for rho in (0.8, 1.5):
    distance = state_distance(
        EchoStateNetwork(200, rho, 0.5, rng), u[:100], *rng.uniform(-1, 1, (2, 200))
    )
    print(
        f"rho = {rho}: distance between two runs from different starts after 100 steps {distance[-1]:.2e}"
    )

# %% [markdown]
# ## 3. How much does the reservoir remember?
#
# Train one ridge-regression readout per delay $d$ to output the input $u_{t-d}$, and score it with $r^2$
# on held-out steps. The sum of the $r^2$ over delays is the reservoir's *memory capacity*.

# %%
# --8<-- "lessons_code/l06_initialisation.py:memory"

# %% alt="Recall quality r squared against delay from 1 to 40 for reservoirs with spectral radius 0.5, 0.9 and 0.99: all start near 1 for short delays; the reservoir with radius 0.5 forgets first and abruptly, the ones closer to 1 remember much longer."
fig, ax = plt.subplots(figsize=(6, 3.2))
for rho in (0.5, 0.9, 0.99):
    esn = EchoStateNetwork(200, rho, 0.1, np.random.default_rng(1))
    r2 = recall_r2(esn, u, max_delay=40, washout=100, n_train=1200, ridge=1e-6)
    ax.plot(np.arange(1, len(r2) + 1), r2, label=rf"$\rho = {rho}$")
    print(f"rho = {rho}: memory capacity {r2.sum():.1f} (of at most 40)")
ax.set(xlabel="delay $d$", ylabel="$r^2$ of recalling $u_{t-d}$")
ax.legend()
plt.show()

# %% [markdown]
# **Try it.** Use a reservoir of 50 units instead of 200. Memory capacity cannot exceed the number of
# units; how close does each reservoir come?
