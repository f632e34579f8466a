# %% [markdown]
# # Notebook: backpropagation through time
#
# This notebook goes with lesson 1 of *Gradients Through Time*. You write the forward pass of a small
# recurrent network in numpy, derive its gradients by hand with the chain rule, check them against
# PyTorch's autograd, and measure how much each time step contributes to the gradient of the shared
# recurrent weight matrix. The functions are the lesson's own, exactly as its page shows them.
#
# It needs numpy, torch (for the check only) and matplotlib, and runs in a few seconds on a laptop CPU.
# Cells marked **Try it** suggest a change to make and what to look for.

# %%
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The forward pass
#
# At every step $t = 1, \dots, T$ the network mixes the previous state $h_{t-1}$ with the input $x_t$:
#
# $$
# a_t = W_{hh} h_{t-1} + W_{xh} x_t + b, \qquad h_t = \phi(a_t).
# $$
#
# After the last step a linear readout gives $\hat y = W_{hy} h_T + c$ and the loss is
# $L = \tfrac12 \|\hat y - y\|^2$. The same $W_{hh}$ is used at every step. The activation $\phi$ and its
# derivative come from a small table shared by the whole chapter.

# %%
# --8<-- "lessons_code/activations.py:activations"


# --8<-- "lessons_code/l01_backprop_through_time.py:forward"


n_in, n_hidden, T = 3, 16, 40
params = init_params(n_in, n_hidden, 1, rng)
xs, h0, y = rng.normal(size=(T, n_in)), np.tanh(rng.normal(size=n_hidden)), np.array([0.5])
a, h, y_hat = forward(params, xs, h0)
print("prediction", y_hat, "loss", loss(y_hat, y))

# %% [markdown]
# ## 2. The backward pass, by hand
#
# The error starts at the readout, $\partial L / \partial h_T = W_{hy}^\top (\hat y - y)$, and travels
# back one step at a time. At step $t$ it passes through the derivative of the activation,
# $\delta_t = \phi'(a_t) \odot \partial L / \partial h_t$, and then through the recurrent weights,
# $\partial L / \partial h_{t-1} = W_{hh}^\top \delta_t$. Because $W_{hh}$ is shared, its gradient is a
# sum with one term per step:
#
# $$
# \frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \delta_t\, h_{t-1}^\top .
# $$

# %%
# --8<-- "lessons_code/l01_backprop_through_time.py:bptt"


L, by_hand, per_step = bptt(params, xs, h0, y)
print({name: g.shape for name, g in by_hand.items()}, per_step.shape)

# %% [markdown]
# ## 3. Check against autograd
#
# The same network written in PyTorch, in float64. If the derivation above is right, every entry of
# every gradient agrees to rounding error, for every activation in the table.

# %%
# --8<-- "lessons_code/l01_backprop_through_time.py:autograd"


_, by_autograd = autograd_gradients(params, xs, h0, y)
for name in by_autograd:
    print(f"{name:>4}: largest difference {np.max(np.abs(by_hand[name] - by_autograd[name])):.1e}")
for activation in ACTIVATIONS:
    print(
        f"{activation}: largest difference over all gradients {max_gradient_difference(params, xs, h0, y, activation):.1e}"
    )

# %% [markdown]
# ## 4. How much does each step contribute?
#
# The term $\delta_t h_{t-1}^\top$ of step $t$ carries the error that travelled $T - t$ steps back.
# Its size shows how much the early steps still matter to the gradient.

# %%
# --8<-- "lessons_code/l01_backprop_through_time.py:contributions"

# %% alt="Line chart on a log axis of the size of each time step's term in the gradient of the recurrent weights, for two weight scales: with the default scale the terms shrink steadily by many orders of magnitude towards the first step; with weights three times larger they shrink far less."
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for scale in (1.0, 3.0):
    norms = contribution_norms({**params, "W_hh": scale * params["W_hh"]}, xs, h0, y)
    ax.semilogy(np.arange(1, T + 1), norms, marker="o", ms=3, label=f"W_hh scaled by {scale:g}")
    print(f"scale {scale:g}: last step {norms[-1]:.2e}, first step {norms[0]:.2e}")
ax.set(
    xlabel="time step $t$ (loss read at the last step)",
    ylabel=r"$\|\delta_t h_{t-1}^\top\|_F$ (log scale)",
)
ax.legend()
plt.show()

# %% [markdown]
# With the default initialisation almost the whole gradient comes from the last few steps: the error is
# multiplied by one Jacobian $\operatorname{diag}(\phi'(a_t))\,W_{hh}$ per step and shrinks geometrically.
# Lesson 2 is about that product.
#
# **Try it.** Set the readout target `y` far from the prediction, or make `T` twice as long. The shape
# of the curve does not change: its slope is set by the Jacobians, not by the size of the error.
# Then try a scale of 6: where do the tanh units saturate, and what happens to the slope? Or pass
# `activation="relu"` to `contribution_norms`.
