# %% [markdown]
# # Notebook: what vanishing and exploding gradients do to learning
#
# This notebook goes with lesson 4 of *Gradients Through Time*. Two experiments: a memory task where a
# plain tanh RNN must carry one token across a gap of $L$ distractors, and the one-neuron "cliff" of
# Pascanu, Mikolov and Bengio (2013), where gradient descent meets a wall in the loss surface. The
# functions are the chapter's own, exactly as the lesson page shows them.
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

torch.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Vanishing gradients: a memory task
#
# Each sequence starts with a key (token 0 or 1), then $L$ random distractor tokens, then a query token.
# At the query the network must output the key. To learn that, the gradient from the last step has to
# reach the key's step, $L + 1$ steps back.

# %%
# --8<-- "lessons_code/tasks.py:memory"


x, y = memory_batch([3], n=2, length=5, n_distractors=4, rng=np.random.default_rng(0))
print(
    x[0].argmax(-1), y[0]
)  # token ids per sequence: key, three distractors, query (6); then the keys

# %% [markdown]
# The network is a tanh RNN with a linear readout at the query step that scores the two keys. To train one
# network per gap at the price of one, the chapter steps many independent networks together: each has its
# own weights and its own data, stacked on a leading axis. These pieces, and the training loop, are shared
# by the whole chapter.

# %%
# --8<-- "lessons_code/models.py:inits"
# --8<-- "lessons_code/models.py:cores"
# --8<-- "lessons_code/models.py:stacked"
# --8<-- "lessons_code/training.py:clip"
# --8<-- "lessons_code/training.py:train"

# %%
# --8<-- "lessons_code/l04_consequences.py:train_memory"


gaps = [2, 5, 10, 20, 40]
model, _ = train_memory(
    gaps, seeds=1, hidden=32, n_distractors=4, steps=300, batch=64, lr=3e-3, rng=rng
)
x, y = memory_batch(gaps, 2000, max(gaps) + 2, 4, rng)
with torch.no_grad():
    accuracy = (model(x).argmax(-1) == y).float().mean(1).numpy()
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
# **Try it.** Train twice as long (`steps=600`). Does the accuracy at gap 40 move? Then give the networks
# more units (`hidden=128`): size is not what they lack.
#
# ## 2. Exploding gradients: the cliff
#
# The smallest recurrent network has one unit: $x_t = w\,\sigma(x_{t-1}) + b$, run for 50 steps, with the
# loss $(\sigma(x_{50}) - 0.7)^2$. Depending on $(w, b)$ the state settles high or low. Where it switches,
# the loss jumps, and the gradient there is enormous.

# %%
# --8<-- "lessons_code/activations.py:activations"
# --8<-- "lessons_code/tasks.py:cliff"


path, grad_norms = cliff_descent(8.0, -3.0, lr=1.0, n_steps=300)
jump = int(np.argmax(grad_norms))
print(
    f"largest gradient norm {grad_norms.max():.3g} at step {jump}, "
    f"median before it {np.median(grad_norms[:jump]):.3g}"
)
print(f"that step moved (w, b) by {np.hypot(*(path[jump + 1] - path[jump])):.3g}")

# %% alt="Left: the loss over the plane of w and b as an image, with a sharp diagonal wall between a low-loss and a high-loss region, and the gradient-descent path that creeps towards the wall and is thrown far away from it. Right: the gradient norm at each step on a log axis, with a single spike many orders of magnitude above the rest."
w_grid, b_grid = np.meshgrid(np.linspace(-1, 10, 96), np.linspace(-7, 3, 96))
loss_grid, _, _ = cliff_loss_and_grad(w_grid, b_grid)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
image = left.imshow(
    loss_grid, origin="lower", extent=(-1, 10, -7, 3), aspect="auto", cmap="viridis"
)
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
# **Try it.** Start from `cliff_descent(6.0, -2.0, ...)` or change the learning rate to 0.3. Does the path
# still hit the wall, and where does it land?
