"""Core: the tasks the chapter trains and measures on, each defined once.

- the adding problem (lessons 4, 7 and 8);
- the key-and-query memory task with a gap of L distractors (lesson 4);
- delayed recall: say the symbol seen d steps ago (lesson 5, truncated BPTT);
- the one-neuron "cliff" of Pascanu, Mikolov & Bengio (2013), with gradient descent on it (lessons 4 and 5).

Every random draw comes from the numpy Generator passed in, so a figure's seed fixes its data. Pages embed
these sections and notebooks include them; they need numpy and torch (and the ``activations`` section).
"""

from __future__ import annotations

from lessons_code.activations import sigmoid

# --8<-- [start:imports]
import numpy as np
import torch
# --8<-- [end:imports]


# --8<-- [start:adding]
#: Always answering 1, the mean target, scores Var(a + b) = 2/12 for a, b uniform in [0, 1].
ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(n, seq_len, rng):
    """n sequences of the adding problem, in the variant of Le, Jaitly & Hinton (2015) of Hochreiter &
    Schmidhuber's (1997) task: each step holds (value, marker), values uniform in [0, 1], exactly two
    markers, one in each half; the target is the sum of the two marked values.
    Returns x of shape (n, seq_len, 2) and y of shape (n,), in torch's default dtype (float32 unless set)."""
    values = rng.uniform(0.0, 1.0, (n, seq_len))
    markers = np.zeros((n, seq_len))
    rows = np.arange(n)
    markers[rows, rng.integers(0, seq_len // 2, n)] = 1.0
    markers[rows, rng.integers(seq_len // 2, seq_len, n)] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values * markers).sum(axis=1)
    dtype = torch.get_default_dtype()
    return torch.from_numpy(x).to(dtype), torch.from_numpy(y).to(dtype)
    # --8<-- [end:adding]


# --8<-- [start:memory]
def memory_batch(gaps, n, length, n_distractors, rng):
    """One batch of the memory task for each gap in `gaps`.

    A sequence holds a key (token 0 or 1), then `gap` distractor tokens drawn at random, then a
    query token; the answer, asked for at the query, is the key. Shorter sequences are padded at the
    front with all-zero inputs, so every gap shares one `length` (at least max(gaps) + 2).
    Returns inputs x of shape (len(gaps), n, length, vocab), one-hot, and the keys y of shape
    (len(gaps), n). Vocabulary: 0-1 keys, then the distractors, then the query token.
    """
    gaps = np.asarray(gaps)
    if length < gaps.max() + 2:
        raise ValueError(f"length must be at least max(gaps) + 2 = {gaps.max() + 2}, got {length}")
    vocab = 2 + n_distractors + 1
    keys = rng.integers(0, 2, size=(len(gaps), n))
    tokens = rng.integers(2, 2 + n_distractors, size=(len(gaps), n, length))
    t = np.arange(length)
    key_at = (length - gaps - 2)[:, None, None]  # where each gap's key sits
    tokens = np.where(t < key_at, vocab, tokens)  # padding: index `vocab` is the all-zero row
    tokens = np.where(t == key_at, keys[:, :, None], tokens)
    tokens[:, :, -1] = vocab - 1  # the query
    one_hot = np.vstack([np.eye(vocab), np.zeros((1, vocab))]).astype(np.float32)
    return torch.from_numpy(one_hot[tokens]), torch.from_numpy(keys)
    # --8<-- [end:memory]


# --8<-- [start:recall]
def delayed_recall(n, length, delay, n_symbols, rng):
    """Streams of random symbols; the target at step t is the symbol seen `delay` steps earlier.

    Returns one-hot inputs x of shape (n, length, n_symbols), float32, and class targets of shape
    (n, length), with -100 (ignored by cross_entropy) for the first `delay` steps, which have nothing to recall.
    """
    symbols = rng.integers(0, n_symbols, size=(n, length))
    x = torch.from_numpy(np.eye(n_symbols, dtype=np.float32)[symbols])
    targets = torch.full((n, length), -100)
    targets[:, delay:] = torch.from_numpy(symbols[:, :-delay])
    return x, targets
    # --8<-- [end:recall]


# --8<-- [start:cliff]
def cliff_loss_and_grad(w, b, steps=50, x0=0.0, target=0.7):
    """Loss (sigmoid(x_steps) - target)^2 of the one-neuron RNN x_t = w sigmoid(x_{t-1}) + b, and its
    gradient (dL/dw, dL/db) by backpropagation through time. w and b may be arrays (same shape)."""
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    xs = [np.full(w.shape, x0)]
    for _ in range(steps):
        xs.append(w * sigmoid(xs[-1]) + b)
    s = sigmoid(xs[-1])
    loss = (s - target) ** 2
    g_x = 2 * (s - target) * s * (1 - s)  # dL/dx_T
    g_w, g_b = np.zeros_like(w), np.zeros_like(w)
    for t in range(steps, 0, -1):  # x_t = w s_{t-1} + b: collect this step, then go one step back
        s_prev = sigmoid(xs[t - 1])
        g_w += g_x * s_prev
        g_b += g_x
        g_x = g_x * w * s_prev * (1 - s_prev)
    return loss, g_w, g_b


def cliff_descent(w0, b0, lr, n_steps, clip=None, **cliff):
    """Gradient descent on the cliff loss from one start or many (w0, b0: numbers or arrays; lr may be an
    array that broadcasts against them). `clip` maps a gradient, stacked as (..., 2), to the one to use.
    Returns the path of (w, b), shape (n_steps + 1, ..., 2), and the gradient norm met at each step."""
    w, b = np.broadcast_arrays(np.asarray(w0, dtype=np.float64), np.asarray(b0, dtype=np.float64))
    path, grad_norms = [np.stack([w, b], axis=-1)], []
    for _ in range(n_steps):
        _, g_w, g_b = cliff_loss_and_grad(w, b, **cliff)
        g = np.stack([g_w, g_b], axis=-1)
        grad_norms.append(np.linalg.norm(g, axis=-1))
        if clip is not None:
            g = clip(g)
        w, b = w - lr * g[..., 0], b - lr * g[..., 1]
        path.append(np.stack([w, b], axis=-1))
    return np.array(path), np.array(grad_norms)
    # --8<-- [end:cliff]
