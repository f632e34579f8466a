"""Lesson 8: the cheat sheet.

The page (``docs/08-cheat-sheet.md``) maps symptoms to causes and remedies, and assembles a copy-ready
PyTorch recipe from the chapter's core sections, which it embeds in order: the initialisations of
``models.py``, norm clipping and the training loop of ``training.py``, its per-time-step gradient monitor,
and the adding problem of ``tasks.py``. This module adds only what the recipe itself is: a one-line report
of the logged norms, the model (an LSTM with orthogonal recurrent blocks and forget bias 1) and its
training call. The copy-paste test runs the page section by section.

Two figures show what the diagnostics print on real runs: the per-time-step monitor at
initialisation for four set-ups, and the logged norms of a training run with the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.models import LastStepRegressor, init_orthogonal, lstm, set_forget_bias, tanh_rnn
from lessons_code.registry import Claim, FigureSpec, Result
from lessons_code.tasks import ADDING_BASELINE_MSE, adding_problem
from lessons_code.training import hidden_gradient_norms, train

# --8<-- [start:imports]
import math

import numpy as np
import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:report]
def norm_report(norms: list[float], max_norm: float) -> str:
    """One line for your training log: how large the gradients were and how often clipping acted."""
    finite = sorted(n for n in norms if math.isfinite(n))
    clipped = sum(n > max_norm for n in finite) / max(len(finite), 1)
    return (
        f"gradient norm: median {finite[len(finite) // 2]:.3g}, max {finite[-1]:.3g}, "
        f"clipped {clipped:.0%} of {len(norms)} steps, non-finite {len(norms) - len(finite)}"
    )
    # --8<-- [end:report]


# --8<-- [start:recipe]
def recipe_model(features: int, hidden: int, forget_bias: float = 1.0) -> LastStepRegressor:
    """An LSTM read out at its last step, with orthogonal recurrent blocks and its forget gates mostly open."""
    core = nn.LSTM(features, hidden, batch_first=True)
    init_orthogonal(core)
    set_forget_bias(core, forget_bias)
    return LastStepRegressor(core)


def train_recipe(
    model: nn.Module,
    steps: int,
    seq_len: int,
    max_norm: float = 1.0,
    lr: float = 1e-2,
    batch: int = 64,
    rng: np.random.Generator | None = None,
):
    """Adam on fresh adding problems with the gradient norm clipped and logged; a step whose loss or
    gradient is not finite is skipped, so one bad batch cannot write NaN into the weights."""
    rng = np.random.default_rng(0) if rng is None else rng
    return train(
        model,
        lambda: adding_problem(batch, seq_len, rng),
        lambda m, x, y: nn.functional.mse_loss(m(x), y),
        torch.optim.Adam(model.parameters(), lr=lr),
        steps,
        max_norm=max_norm,
        on_nonfinite="skip",
    )
    # --8<-- [end:recipe]


def _mean_tail(values: list[float], n: int) -> float:
    return float(np.mean(values[-n:]))


def loss_leaves_baseline(losses: list[float], window: int) -> int:
    """The first step from which the mean loss over `window` steps is below half the baseline; -1 if never."""
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    below = np.flatnonzero(smooth < 0.5 * ADDING_BASELINE_MSE)
    return int(below[0]) if below.size else -1


# ---------------------------------------------------------------- figure l08_monitor
SETUPS = (
    "tanh RNN, default init",
    "tanh RNN, orthogonal",
    "LSTM, default init",
    "LSTM, orthogonal + forget bias 1",
)
#: Short names for the facts: decades_lost_<key>.
SETUP_KEYS = dict(zip(SETUPS, ("tanh_default", "tanh_orthogonal", "lstm_default", "lstm_recipe")))


def build_setup(name: str, features: int, hidden: int) -> nn.RNNBase:
    """One of SETUPS, in float64 (float32 would round the smallest gradients to exact zeros)."""
    if name.startswith("tanh RNN"):
        rnn = tanh_rnn(features, hidden)
    elif name.startswith("LSTM"):
        rnn = lstm(features, hidden, forget_bias=1.0 if "forget bias" in name else None)
    else:
        raise ValueError(f"unknown set-up {name!r}; known: {', '.join(SETUPS)}")
    if "orthogonal" in name:
        init_orthogonal(rnn)
    return rnn.double()


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
            raise ValueError(
                f"MonitorConfig.setups has unknown entries {unknown!r}; known: {SETUPS!r}"
            )


def compute_monitor(config: MonitorConfig, rng: np.random.Generator) -> Result:
    x, y = adding_problem(config.batch, config.seq_len, rng)
    x, y = x.double(), y.double()
    curves, facts = {}, {}
    for name in config.setups:
        rnn = build_setup(name, features=2, hidden=config.hidden)
        readout = torch.from_numpy(rng.standard_normal(config.hidden) / np.sqrt(config.hidden))
        norms = hidden_gradient_norms(rnn, x, lambda h, u=readout: ((h @ u - y) ** 2).mean())
        profile = norms.mean(1).detach().numpy()  # the mean over the batch, as the recipe prints it
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
    ax.set(
        xlabel="time step $t$ (the loss is read at the last step)",
        ylabel=r"$\|\partial L/\partial h_t\|$ (log scale)",
    )
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


def compute_clip_log(config: ClipLogConfig, rng: np.random.Generator) -> Result:
    model = recipe_model(features=2, hidden=config.hidden)
    log = train_recipe(
        model, config.steps, config.seq_len, config.max_norm, config.lr, config.batch, rng
    )
    losses, norms = log.loss, log.grad_norm
    norms_arr = np.asarray(norms)
    facts = {
        "max_norm": config.max_norm,
        "clipped_fraction": float(np.mean(norms_arr > config.max_norm)),
        "median_norm": float(np.median(norms_arr)),
        "largest_norm": float(norms_arr.max()),
        "final_loss": _mean_tail(losses, config.tail),
        "loss_leaves_baseline_step": loss_leaves_baseline(losses, config.tail),
        "baseline_loss": ADDING_BASELINE_MSE,
        "seq_len": config.seq_len,
        "steps": config.steps,
    }
    return Result(
        data={
            "step": np.arange(1, config.steps + 1),
            "loss": np.asarray(losses),
            "norm": norms_arr,
            "max_norm": config.max_norm,
        },
        facts=facts,
    )


def plot_clip_log(result: Result, axes) -> None:
    step, max_norm = result.data["step"], result.data["max_norm"]
    left, right = axes
    left.plot(step, result.data["norm"], color=plotting.COLORS["blue"], lw=0.9)
    left.axhline(max_norm, color=plotting.COLORS["orange"], ls="--", lw=1.4, zorder=3)
    left.text(
        step[-1],
        max_norm * 1.15,
        f"max_norm = {max_norm:g}",
        color=plotting.COLORS["orange"],
        ha="right",
        va="bottom",
        fontsize=9,
        zorder=4,
        bbox={"facecolor": plotting.CARD, "edgecolor": "none", "pad": 1},
    )
    plotting.log_axis(left)
    left.set(
        xlabel="training step",
        ylabel="global gradient norm (log scale)",
        title="norm logged before clipping",
    )
    right.plot(step, result.data["loss"], color=plotting.COLORS["green"], lw=0.9)
    right.axhline(ADDING_BASELINE_MSE, color=plotting.COLORS["grey"], ls=":", lw=1.4)
    right.text(
        step[-1],
        ADDING_BASELINE_MSE * 1.15,
        "always predict 1",
        color=plotting.COLORS["grey"],
        ha="right",
        va="bottom",
        fontsize=9,
    )
    plotting.log_axis(right)
    right.set(
        xlabel="training step", ylabel="mean squared error (log scale)", title="training loss"
    )


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
        "networks over {seq_len} steps. The two with PyTorch's default initialisation, a tanh RNN and an LSTM, "
        "fall in nearly straight lines by {decades_lost_tanh_default:.0f} and {decades_lost_lstm_default:.0f} "
        "orders of magnitude towards the first step; the orthogonally initialised tanh RNN loses "
        "{decades_lost_tanh_orthogonal:.1f} and the LSTM with orthogonal weights and forget bias one loses "
        "{decades_lost_lstm_recipe:.1f}.",
    ),
    FigureSpec(
        name="l08_clip_log",
        compute=compute_clip_log,
        claims=(
            Claim(
                "the loss stays at the baseline for a while and then drops",
                lambda f: (
                    f["loss_leaves_baseline_step"] > 0
                    and f["final_loss"] < 0.5 * f["baseline_loss"]
                ),
            ),
        ),
        plot=plot_clip_log,
        config=ClipLogConfig(),
        fast=ClipLogConfig(hidden=8, seq_len=10, steps=60, tail=10),
        expected_s=5.0,
        expected_fast_s=2.0,
        panels=(1, 2),
        size=(7.6, 3.4),
        alt="Two panels over {steps} training steps of the recipe's LSTM on the adding problem with sequences of "
        "{seq_len} steps. Left: the global gradient norm logged before clipping, with a median of "
        "{median_norm:.2f} and a largest value of {largest_norm:.2g}, above the dashed clipping threshold of "
        "{max_norm:g} in {clipped_fraction:.0%} of the steps. Right: the training loss on a log axis, which "
        "starts near the level of always predicting one ({baseline_loss:.3f}) and ends at {final_loss:.2g}.",
    ),
]
