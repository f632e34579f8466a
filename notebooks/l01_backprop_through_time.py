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
# # Notebook: backpropagation through time
#
# This notebook goes with lesson 1 of *Gradients Through Time*. You write the forward pass of a small
# recurrent network in numpy, derive its gradients by hand with the chain rule, check them against
# PyTorch's autograd, and measure how much each time step contributes to the gradient of the shared
# recurrent weight matrix.
#
# It needs numpy, torch (for the check only) and matplotlib, and runs in a few seconds on a laptop CPU.
# Cells marked **Try it** suggest a change to make and what to look for.

# %%
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
# $L = \tfrac12 \|\hat y - y\|^2$. The same $W_{hh}$ is used at every step.

# %%
def tanh_prime(a):
    return 1.0 - np.tanh(a) ** 2


def init_params(n_in, n_hidden, n_out, rng):
    """Uniform in [-1/sqrt(n_hidden), 1/sqrt(n_hidden)], as PyTorch's nn.RNN draws its weights."""
    k = 1.0 / np.sqrt(n_hidden)
    shapes = {"W_xh": (n_hidden, n_in), "W_hh": (n_hidden, n_hidden), "b": (n_hidden,),
              "W_hy": (n_out, n_hidden), "c": (n_out,)}
    return {name: rng.uniform(-k, k, size=shape) for name, shape in shapes.items()}


def forward(params, xs, h0):
    """Pre-activations a[t] and states h[t] for t = 0..T (a[0] unused, h[0] = h0), and the readout."""
    T, n = len(xs), len(h0)
    a, h = np.zeros((T + 1, n)), np.zeros((T + 1, n))
    h[0] = h0
    for t in range(1, T + 1):
        a[t] = params["W_hh"] @ h[t - 1] + params["W_xh"] @ xs[t - 1] + params["b"]
        h[t] = np.tanh(a[t])
    return a, h, params["W_hy"] @ h[T] + params["c"]


n_in, n_hidden, T = 3, 16, 40
params = init_params(n_in, n_hidden, 1, rng)
xs, h0, y = rng.normal(size=(T, n_in)), np.tanh(rng.normal(size=n_hidden)), np.array([0.5])
a, h, y_hat = forward(params, xs, h0)
print("prediction", y_hat, "loss", 0.5 * np.sum((y_hat - y) ** 2))

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
def bptt(params, xs, h0, y):
    """Gradients of the loss for every parameter and h0, and each step's term of dL/dW_hh."""
    a, h, y_hat = forward(params, xs, h0)
    T = len(xs)
    err = y_hat - y
    grads = {"W_hy": np.outer(err, h[T]), "c": err,
             "W_xh": np.zeros_like(params["W_xh"]), "b": np.zeros_like(params["b"])}
    per_step = np.zeros((T, *params["W_hh"].shape))
    dh = params["W_hy"].T @ err
    for t in range(T, 0, -1):
        delta = tanh_prime(a[t]) * dh
        per_step[t - 1] = np.outer(delta, h[t - 1])
        grads["W_xh"] += np.outer(delta, xs[t - 1])
        grads["b"] += delta
        dh = params["W_hh"].T @ delta
    grads["W_hh"] = per_step.sum(axis=0)
    grads["h0"] = dh
    return grads, per_step


by_hand, per_step = bptt(params, xs, h0, y)

# %% [markdown]
# ## 3. Check against autograd
#
# The same network written in PyTorch, in float64. If the derivation above is right, every entry of
# every gradient agrees to rounding error.

# %%
def autograd_gradients(params, xs, h0, y):
    leaves = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
              for name, value in {**params, "h0": h0}.items()}
    h = leaves["h0"]
    for x in torch.tensor(xs, dtype=torch.float64):
        h = torch.tanh(leaves["W_hh"] @ h + leaves["W_xh"] @ x + leaves["b"])
    y_hat = leaves["W_hy"] @ h + leaves["c"]
    (0.5 * torch.sum((y_hat - torch.tensor(y)) ** 2)).backward()
    return {name: leaf.grad.numpy() for name, leaf in leaves.items()}


by_autograd = autograd_gradients(params, xs, h0, y)
for name in by_autograd:
    print(f"{name:>4}: largest difference {np.max(np.abs(by_hand[name] - by_autograd[name])):.1e}")

# %% [markdown]
# ## 4. How much does each step contribute?
#
# The term $\delta_t h_{t-1}^\top$ of step $t$ carries the error that travelled $T - t$ steps back.
# Its size shows how much the early steps still matter to the gradient.

# %% alt="Line chart on a log axis of the size of each time step's term in the gradient of the recurrent weights, for two weight scales: with the default scale the bars shrink steadily by many orders of magnitude towards the first step; with weights three times larger they shrink far less."
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for scale in (1.0, 3.0):
    scaled = {**params, "W_hh": scale * params["W_hh"]}
    norms = np.linalg.norm(bptt(scaled, xs, h0, y)[1], axis=(1, 2))
    ax.semilogy(np.arange(1, T + 1), norms, marker="o", ms=3, label=f"W_hh scaled by {scale:g}")
    print(f"scale {scale:g}: last step {norms[-1]:.2e}, first step {norms[0]:.2e}")
ax.set(xlabel="time step $t$ (loss read at the last step)", ylabel=r"$\|\delta_t h_{t-1}^\top\|_F$ (log scale)")
ax.legend()
plt.show()

# %% [markdown]
# With the default initialisation almost the whole gradient comes from the last few steps: the error is
# multiplied by one Jacobian $\operatorname{diag}(\phi'(a_t))\,W_{hh}$ per step and shrinks geometrically.
# Lesson 2 is about that product.
#
# **Try it.** Set the readout target `y` far from the prediction, or make `T` twice as long. The shape
# of the curve does not change: its slope is set by the Jacobians, not by the size of the error.
# Then try a scale of 6: where do the tanh units saturate, and what happens to the slope?
