"""Lesson 8: the cheat sheet.

The page (``docs/08-cheat-sheet.md``) maps symptoms to causes and remedies; this module holds the
copy-ready PyTorch recipe that the page embeds and the copy-paste test runs, section by section:

* ``init``: orthogonal recurrent weights (one block per gate), the identity initialisation of a ReLU
  RNN (IRNN), and a forget-gate bias for ``nn.LSTM``;
* ``clip``: ``clip_grad_norm_`` with the norm it returns logged, and non-finite steps skipped;
* ``monitor``: the norm of the gradient reaching the hidden state at every time step;
* ``recipe``: a small model and training loop that uses all three.

Two figures show what the diagnostics print on real runs: the per-time-step monitor at
initialisation for four set-ups, and the logged norms of a training run with the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lessons_code import plotting, validation
from lessons_code.registry import FigureSpec, Result

# --8<-- [start:imports]
import math

import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:init]
def init_orthogonal(rnn: nn.RNNBase) -> None:
    """Orthogonal recurrent weights, one square block per gate; Xavier input weights; zero biases.

    Works for nn.RNN (tanh), nn.GRU and nn.LSTM: their weight_hh stacks one (hidden x hidden) block
    per gate, and each block is made orthogonal on its own.
    """
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


def init_identity(rnn: nn.RNN, input_std: float = 1e-3) -> None:
    """IRNN (Le et al., 2015): ReLU RNN, identity recurrent weights, tiny input weights, zero biases."""
    if rnn.nonlinearity != "relu":
        raise ValueError("identity initialisation is meant for nn.RNN(..., nonlinearity='relu')")
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("weight_hh"):
                nn.init.eye_(param)
            elif name.startswith("weight_ih"):
                nn.init.normal_(param, std=input_std)
            else:
                nn.init.zeros_(param)


def set_forget_bias(lstm: nn.LSTM, value: float = 1.0) -> None:
    """Start every forget gate mostly open. PyTorch orders an LSTM's gates (input, forget, cell, output)
    and adds two biases, bias_ih and bias_hh: the first gets `value`, the second 0, so their sum is `value`."""
    h = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[h : 2 * h] = value
            elif name.startswith("bias_hh"):
                param[h : 2 * h] = 0.0
# --8<-- [end:init]


# --8<-- [start:clip]
def clip_and_log(model: nn.Module, max_norm: float, norms: list[float]) -> bool:
    """Clip the global gradient norm to max_norm and log the norm *before* clipping.

    Returns False when that norm is NaN or infinite: skip optimizer.step() then, or one bad
    batch writes NaN into every weight.
    """
    norm = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm))
    norms.append(norm)
    return math.isfinite(norm)


def norm_report(norms: list[float], max_norm: float) -> str:
    """One line for your training log: how large the gradients were and how often clipping acted."""
    finite = sorted(n for n in norms if math.isfinite(n))
    clipped = sum(n > max_norm for n in finite) / max(len(finite), 1)
    return (f"gradient norm: median {finite[len(finite) // 2]:.3g}, max {finite[-1]:.3g}, "
            f"clipped {clipped:.0%} of {len(norms)} steps, non-finite {len(norms) - len(finite)}")
# --8<-- [end:clip]


# --8<-- [start:monitor]
def hidden_gradient_norms(rnn: nn.RNNBase, inputs: torch.Tensor, loss_fn) -> torch.Tensor:
    """||dL/dh_t|| for t = 1..T: how strongly the loss still depends on the hidden state of each step.

    inputs: (batch, T, features) for an rnn built with batch_first=True; loss_fn maps the top layer's
    last hidden state (batch, hidden) to a scalar loss. The rnn is stepped one time step at a time so
    that every h_t is a tensor of its own; parameters' .grad are left untouched. Returns the mean over
    the batch, top layer. A curve that falls by many decades towards t = 1 (or hits exact zeros in
    float32) means the gradient vanishes before it reaches the early steps.
    """
    state, hidden = None, []
    for t in range(inputs.shape[1]):
        _, state = rnn(inputs[:, t : t + 1], state)
        hidden.append(state[0] if isinstance(state, tuple) else state)  # LSTM state is (h, c)
    grads = torch.autograd.grad(loss_fn(hidden[-1][-1]), hidden)
    return torch.stack([g[-1].norm(dim=-1).mean() for g in grads])
# --8<-- [end:monitor]


# --8<-- [start:recipe]
class SequenceRegressor(nn.Module):
    """An LSTM that reads a sequence and predicts one number from its last hidden state."""

    def __init__(self, features: int, hidden: int, forget_bias: float = 1.0):
        super().__init__()
        self.rnn = nn.LSTM(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        init_orthogonal(self.rnn)
        set_forget_bias(self.rnn, forget_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(x)
        return self.head(output[:, -1]).squeeze(-1)


def adding_problem(batch: int, steps: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Each step holds (value, marker); the target is the sum of the two marked values, one marked in
    each half of the sequence, so the answer depends on a step about T/2 or more in the past."""
    values = torch.rand(batch, steps, generator=generator)
    first = torch.randint(0, steps // 2, (batch,), generator=generator)
    second = torch.randint(steps // 2, steps, (batch,), generator=generator)
    markers = torch.zeros(batch, steps)
    markers[torch.arange(batch), first] = 1.0
    markers[torch.arange(batch), second] = 1.0
    return torch.stack([values, markers], dim=-1), (values * markers).sum(dim=1)


def train(model: nn.Module, steps: int, seq_len: int, max_norm: float = 1.0, lr: float = 1e-2,
          batch: int = 64, seed: int = 0) -> tuple[list[float], list[float]]:
    """Adam on the adding problem with clipping; returns the losses and the logged gradient norms."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, norms = [], []
    for _ in range(steps):
        x, y = adding_problem(batch, seq_len, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if clip_and_log(model, max_norm, norms):
            optimizer.step()
        losses.append(loss.item())
    return losses, norms
# --8<-- [end:recipe]


def _mean_tail(values: list[float], n: int) -> float:
    return float(np.mean(values[-n:]))


# ---------------------------------------------------------------- figure l08_monitor
SETUPS = ("tanh RNN, default init", "tanh RNN, orthogonal", "LSTM, default init", "LSTM, orthogonal + forget bias 1")
#: Short names for the facts: decades_lost_<key>.
SETUP_KEYS = dict(zip(SETUPS, ("tanh_default", "tanh_orthogonal", "lstm_default", "lstm_recipe")))


def build_setup(name: str, features: int, hidden: int) -> nn.RNNBase:
    """One of SETUPS, in float64 (float32 would round the smallest gradients to exact zeros)."""
    if name.startswith("tanh RNN"):
        rnn = nn.RNN(features, hidden, batch_first=True, dtype=torch.float64)
    elif name.startswith("LSTM"):
        rnn = nn.LSTM(features, hidden, batch_first=True, dtype=torch.float64)
    else:
        raise ValueError(f"unknown set-up {name!r}; known: {', '.join(SETUPS)}")
    if "orthogonal" in name:
        init_orthogonal(rnn)
    if "forget bias" in name:
        set_forget_bias(rnn, 1.0)
    return rnn


@dataclass(frozen=True)
class MonitorConfig:
    hidden: int = 64  # hidden units of every set-up
    seq_len: int = 100  # time steps T; the monitor reports ||dL/dh_t|| for t = 1..T
    batch: int = 32  # sequences averaged over
    setups: tuple[str, ...] = SETUPS  # which of SETUPS to compare

    def __post_init__(self) -> None:
        validation.positive_ints(self, "hidden", "seq_len", "batch")
        validation.non_empty(self, "setups")
        if self.seq_len < 2:
            raise ValueError(f"MonitorConfig.seq_len must be at least 2, got {self.seq_len!r}")
        unknown = [s for s in self.setups if s not in SETUPS]
        if unknown:
            raise ValueError(f"MonitorConfig.setups has unknown entries {unknown!r}; known: {SETUPS!r}")


def compute_monitor(config: MonitorConfig, rng: np.random.Generator) -> Result:
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    x, y = adding_problem(config.batch, config.seq_len, generator)
    x, y = x.double(), y.double()
    curves, facts = {}, {}
    for name in config.setups:
        rnn = build_setup(name, features=2, hidden=config.hidden)
        readout = torch.randn(config.hidden, generator=generator, dtype=torch.float64) / np.sqrt(config.hidden)
        profile = hidden_gradient_norms(rnn, x, lambda h: ((h @ readout - y) ** 2).mean()).detach().numpy()
        curves[name] = profile
        facts[f"decades_lost_{SETUP_KEYS[name]}"] = float(np.log10(profile[-1] / profile[0]))
    data = {"t": np.arange(1, config.seq_len + 1), "curves": curves}
    return Result(data=data, facts={**facts, "seq_len": config.seq_len})


def plot_monitor(result: Result, ax) -> None:
    t = result.data["t"]
    for name, profile in result.data["curves"].items():
        color = plotting.COLORS["blue"] if name.startswith("tanh") else plotting.COLORS["green"]
        ax.plot(t, profile, color=color, ls="--" if "default" in name else "-", label=name)
    plotting.log_axis(ax)
    ax.set(xlabel="time step $t$ (the loss is read at the last step)",
           ylabel=r"$\|\partial L/\partial h_t\|$ (log scale)")
    ax.legend(loc="lower right")


# ---------------------------------------------------------------- figure l08_clip_log
@dataclass(frozen=True)
class ClipLogConfig:
    hidden: int = 32  # LSTM units
    seq_len: int = 40  # adding-problem length T
    steps: int = 600  # training steps
    max_norm: float = 1.0  # clipping threshold
    lr: float = 1e-2  # Adam learning rate
    batch: int = 64
    tail: int = 50  # the final loss is the mean over the last `tail` steps

    def __post_init__(self) -> None:
        validation.positive_ints(self, "hidden", "seq_len", "steps", "batch", "tail")
        validation.positive_floats(self, "max_norm", "lr")
        if self.seq_len < 2:
            raise ValueError(f"ClipLogConfig.seq_len must be at least 2, got {self.seq_len!r}")
        if self.tail > self.steps:
            raise ValueError(f"ClipLogConfig.tail must not exceed steps, got {self.tail!r}")


#: The loss of always predicting the mean target 1.0: the sum of two U(0, 1) values has variance 1/6.
BASELINE_MSE = 1.0 / 6.0


def compute_clip_log(config: ClipLogConfig, rng: np.random.Generator) -> Result:
    model = SequenceRegressor(features=2, hidden=config.hidden)
    losses, norms = train(model, config.steps, config.seq_len, config.max_norm, config.lr, config.batch,
                          seed=int(rng.integers(2**31)))
    norms_arr = np.asarray(norms)
    facts = {
        "max_norm": config.max_norm,
        "clipped_fraction": float(np.mean(norms_arr > config.max_norm)),
        "median_norm": float(np.median(norms_arr)),
        "largest_norm": float(norms_arr.max()),
        "final_loss": _mean_tail(losses, config.tail),
        "baseline_loss": BASELINE_MSE,
        "seq_len": config.seq_len,
        "steps": config.steps,
    }
    return Result(data={"step": np.arange(1, config.steps + 1), "loss": np.asarray(losses), "norm": norms_arr,
                        "max_norm": config.max_norm}, facts=facts)


def plot_clip_log(result: Result, axes) -> None:
    step, max_norm = result.data["step"], result.data["max_norm"]
    left, right = axes
    left.plot(step, result.data["norm"], color=plotting.COLORS["blue"], lw=0.9)
    left.axhline(max_norm, color=plotting.COLORS["orange"], ls="--", lw=1.4, zorder=3)
    left.text(step[-1], max_norm * 1.15, f"max_norm = {max_norm:g}", color=plotting.COLORS["orange"],
              ha="right", va="bottom", fontsize=9, zorder=4, bbox={"facecolor": plotting.CARD, "edgecolor": "none", "pad": 1})
    plotting.log_axis(left)
    left.set(xlabel="training step", ylabel="global gradient norm (log scale)", title="norm logged before clipping")
    right.plot(step, result.data["loss"], color=plotting.COLORS["green"], lw=0.9)
    right.axhline(BASELINE_MSE, color=plotting.COLORS["grey"], ls=":", lw=1.4)
    right.text(step[-1], BASELINE_MSE * 1.15, "always predict 1", color=plotting.COLORS["grey"], ha="right",
               va="bottom", fontsize=9)
    plotting.log_axis(right)
    right.set(xlabel="training step", ylabel="mean squared error (log scale)", title="training loss")


FIGURES = [
    FigureSpec(
        name="l08_monitor",
        compute=compute_monitor,
        plot=plot_monitor,
        config=MonitorConfig(),
        fast=MonitorConfig(hidden=16, seq_len=30, batch=8),
        expected_s=2.0,
        expected_fast_s=1.0,
        size=(7.0, 4.0),
        alt="The norm of the gradient reaching each time step's hidden state, on a log axis, for four untrained "
        "networks over 100 steps. The two with PyTorch's default initialisation, a tanh RNN and an LSTM, fall "
        "in nearly straight lines by about twenty orders of magnitude towards the first step; the orthogonally "
        "initialised tanh RNN and the LSTM with orthogonal weights and forget bias 1 lose only a few.",
    ),
    FigureSpec(
        name="l08_clip_log",
        compute=compute_clip_log,
        plot=plot_clip_log,
        config=ClipLogConfig(),
        fast=ClipLogConfig(hidden=8, seq_len=10, steps=60, tail=10),
        expected_s=5.0,
        expected_fast_s=2.0,
        panels=(1, 2),
        size=(7.6, 3.4),
        alt="Two panels over the training steps of the recipe's LSTM on the adding problem. Left: the global "
        "gradient norm logged before clipping, mostly below the dashed clipping threshold, with bursts above it "
        "around the time learning takes off. Right: the training loss on a log axis, flat at the level of "
        "always predicting 1 for a few hundred steps, then falling by about two orders of magnitude.",
    ),
]
