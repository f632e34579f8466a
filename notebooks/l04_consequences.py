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
# # Notebook: what vanishing and exploding gradients do to learning
#
# This notebook goes with lesson 4 of *Gradients Through Time*. Two experiments: a memory task where a
# plain tanh RNN must carry one token across a gap of $L$ distractors, and the one-neuron "cliff" of
# Pascanu, Mikolov and Bengio (2013), where gradient descent meets a wall in the loss surface.
#
# It needs numpy, torch and matplotlib and runs in well under a minute on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

_ = torch.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Vanishing gradients: a memory task
#
# Each sequence starts with a key (token 0 or 1), then $L$ random distractor tokens, then a query token.
# At the query the network must output the key. To learn that, the gradient from the last step has to
# reach the key's step, $L + 1$ steps back.

# %%
N_DISTRACTORS = 4
VOCAB = 2 + N_DISTRACTORS + 1  # keys, distractors, query


def memory_batch(gap, n, rng):
    keys = rng.integers(0, 2, size=n)
    tokens = rng.integers(2, 2 + N_DISTRACTORS, size=(n, gap + 2))
    tokens[:, 0] = keys
    tokens[:, -1] = VOCAB - 1
    return torch.from_numpy(np.eye(VOCAB, dtype=np.float32)[tokens]), torch.from_numpy(keys)


class Recaller(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.rnn = nn.RNN(VOCAB, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x):
        states, _ = self.rnn(x)
        return self.out(states[:, -1])


def train_and_test(gap, steps=400, batch=64, lr=3e-3):
    model = Recaller()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        x, y = memory_batch(gap, batch, rng)
        loss = nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    x, y = memory_batch(gap, 2000, rng)
    with torch.no_grad():
        return (model(x).argmax(-1) == y).float().mean().item()


gaps = [2, 5, 10, 20, 40]
accuracy = [train_and_test(gap) for gap in gaps]
for gap, acc in zip(gaps, accuracy):
    print(f"gap {gap:>2}: test accuracy {acc:.3f}")

# %% alt="Test accuracy of a trained tanh RNN against the gap between key and query, on a log axis: near 1 for short gaps, falling to chance, 0.5, for the longest gaps."
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.semilogx(gaps, accuracy, marker="o")
ax.axhline(0.5, color="grey", ls="--", lw=0.8, label="chance")
ax.set_xticks(gaps, [str(g) for g in gaps])
ax.minorticks_off()
ax.set(xlabel="gap $L$", ylabel="test accuracy", ylim=(0.4, 1.05))
ax.legend()
plt.show()

# %% [markdown]
# Short gaps are learned, long ones stay at chance: the task is the same, only the distance differs.
# The network is not too small for the long gaps; the gradient that would teach it dies on the way back.
#
# **Try it.** Train the gap of 40 twice as long (`train_and_test(40, steps=800)`). Does the accuracy
# move? Then give the network more units (`Recaller(hidden=128)`): size is not what it lacks.
#
# ## 2. Exploding gradients: the cliff
#
# The smallest recurrent network has one unit: $x_t = w\,\sigma(x_{t-1}) + b$, run for 50 steps, with the
# loss $(\sigma(x_{50}) - 0.7)^2$. Depending on $(w, b)$ the state settles high or low. Where it switches,
# the loss jumps, and the gradient there is enormous.

# %%
def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def cliff_loss_and_grad(w, b, steps=50, target=0.7):
    """Loss and (dL/dw, dL/db) by backpropagation through time; w and b may be arrays."""
    w, b = np.broadcast_arrays(np.asarray(w, float), np.asarray(b, float))
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


w0, b0, lr = 8.0, -3.0, 1.0
path, grad_norms = [(w0, b0)], []
for _ in range(300):
    _, g_w, g_b = cliff_loss_and_grad(*path[-1])
    grad_norms.append(float(np.hypot(g_w, g_b)))
    path.append((path[-1][0] - lr * float(g_w), path[-1][1] - lr * float(g_b)))
path = np.array(path)
jump = int(np.argmax(grad_norms))
print(f"largest gradient norm {max(grad_norms):.3g} at step {jump}, "
      f"median before it {np.median(grad_norms[:jump]):.3g}")
print(f"that step moved (w, b) by {np.hypot(*(path[jump + 1] - path[jump])):.3g}")

# %% alt="Left: the loss over the plane of w and b as an image, with a sharp diagonal wall between a low-loss and a high-loss region, and the gradient-descent path that creeps towards the wall and is thrown far away from it. Right: the gradient norm at each step on a log axis, with a single spike many orders of magnitude above the rest."
w_grid, b_grid = np.meshgrid(np.linspace(-1, 10, 96), np.linspace(-7, 3, 96))
loss_grid, _, _ = cliff_loss_and_grad(w_grid, b_grid)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
image = left.imshow(loss_grid, origin="lower", extent=(-1, 10, -7, 3), aspect="auto", cmap="viridis")
left.plot(path[:, 0], path[:, 1], color="white", marker=".", ms=3, lw=0.8)
left.set(xlim=(-1, 10), ylim=(-7, 3), xlabel="$w$", ylabel="$b$", title="loss and the descent path")
fig.colorbar(image, ax=left, label="loss")
right.semilogy(grad_norms)
right.set(xlabel="gradient-descent step", ylabel="gradient norm", title="the gradient on the way")
plt.show()

# %% [markdown]
# One step lands on the wall, its gradient is huge, and the update throws the parameters far away,
# undoing everything before it. Lesson 5 shows how clipping the gradient norm prevents this.
#
# **Try it.** Start from `w0, b0 = 6.0, -2.0` or change the learning rate to 0.3. Does the path still hit
# the wall, and where does it land?
