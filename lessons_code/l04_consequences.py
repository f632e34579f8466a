"""Lesson 4: what vanishing and exploding gradients do to learning.

Three experiments, one per figure:

- a memory task of our own (the first token decides the answer at the end, with a gap of L tokens in
  between): a tanh RNN's test accuracy against L, next to the norm of the Jacobian that carries the
  gradient from the last step back to the first (``l04_memory_vs_gap``);
- ReLU RNNs with identity initialisation (IRNN) trained by plain SGD on the adding problem, without
  and with gradient-norm clipping, several seeds each, NaN recorded where it happens (``l04_unstable_loss``);
- the one-neuron "cliff" of Pascanu, Mikolov and Bengio (2013) with a gradient-descent path thrown
  off its wall (``l04_cliff``).

The sections between ``--8<--`` markers are embedded verbatim in ``docs/04-consequences.md`` and run,
in order, as a reader would paste them: they need nothing but numpy and torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.activations import sigmoid
from lessons_code.models import StackedRNN, irnn, tanh_rnn
from lessons_code.registry import Claim, FigureSpec, Result
from lessons_code.tasks import (
    ADDING_BASELINE_MSE,
    adding_problem,
    cliff_descent,
    cliff_loss_and_grad,
    memory_batch,
)
from lessons_code.training import train

# --8<-- [start:imports]
import math

import numpy as np
import torch
# --8<-- [end:imports]


# --8<-- [start:jacobian]
def jacobian_norm_back(W_hh, states, start):
    """Spectral norm of dh_T/dh_start for tanh RNNs, in float64.

    W_hh: (models, H, H); states: hidden states h_1..h_T, (models, batch, T, H), with h_t at index t-1.
    dh_T/dh_start is the product of the one-step Jacobians diag(1 - h_t^2) W_hh for t = start+1..T.
    `start` is a step number (1-based), one per model. Returns (models, batch).
    """
    W = np.asarray(W_hh, dtype=np.float64)
    h = np.asarray(states, dtype=np.float64)
    n_models, batch, T, H = h.shape
    norms = np.empty((n_models, batch))
    for g in range(n_models):
        J = np.broadcast_to(np.eye(H), (batch, H, H)).copy()
        for t in range(start[g] + 1, T + 1):  # multiply on the left: latest Jacobian outermost
            J = ((1 - h[g, :, t - 1] ** 2)[:, :, None] * W[g]) @ J
        norms[g] = np.linalg.norm(J, ord=2, axis=(1, 2))
    return norms
    # --8<-- [end:jacobian]


# --8<-- [start:train_memory]
def train_memory(gaps, seeds, hidden, n_distractors, steps, batch, lr, rng):
    """Train len(gaps) * seeds tanh RNNs together (model g learns gap gaps[g // seeds]) with Adam.
    Returns the stacked models and their initial weights."""
    gap_of_model = np.repeat(gaps, seeds)
    length, vocab = max(gaps) + 2, 2 + n_distractors + 1
    model = StackedRNN([tanh_rnn(vocab, hidden) for _ in gap_of_model], outputs=2)
    initial = {name: p.detach().clone() for name, p in model.named_parameters()}

    # each model's own mean cross-entropy, so its gradient is its own
    def loss_per_model(model, x, y):
        losses = torch.nn.functional.cross_entropy(
            model(x).flatten(0, 1), y.flatten(), reduction="none"
        )
        return losses.view(len(gap_of_model), -1).mean(1)

    train(
        model,
        lambda: memory_batch(gap_of_model, batch, length, n_distractors, rng),
        loss_per_model,
        torch.optim.Adam(model.parameters(), lr=lr),
        steps,
        per_model=True,
    )
    return model, initial
    # --8<-- [end:train_memory]


# ---------------------------------------------------------------- figure l04_memory_vs_gap
@dataclass(frozen=True)
class MemoryConfig:
    gaps: tuple[int, ...] = (2, 5, 10, 20, 40, 80)  # L: distractor tokens between key and query
    seeds: int = 3  # independently initialised networks per gap, all reported
    hidden: int = 32  # tanh units per network
    n_distractors: int = 4  # distinct distractor tokens
    steps: int = 600  # Adam steps
    batch: int = 64  # sequences per step and network
    lr: float = 3e-3  # Adam learning rate
    test_size: int = (
        4000  # fresh sequences per network for the accuracy (standard error 0.008 at chance)
    )
    jacobian_size: int = 32  # sequences per network for the Jacobian norm

    def __post_init__(self) -> None:
        validation.positive_ints(
            self, "seeds", "hidden", "n_distractors", "steps", "batch", "test_size", "jacobian_size"
        )
        validation.positive_floats(self, "lr")
        validation.non_empty(self, "gaps")
        if any(isinstance(g, bool) or not isinstance(g, int) or g < 1 for g in self.gaps):
            raise ValueError(f"MemoryConfig.gaps must be positive integers, got {self.gaps!r}")
        if list(self.gaps) != sorted(set(self.gaps)):
            raise ValueError(
                f"MemoryConfig.gaps must be increasing and distinct, got {self.gaps!r}"
            )


CHANCE_ACCURACY = 0.5  # two equally likely keys
SOLVED_ACCURACY = 0.95  # a network at or above this test accuracy has learned its gap
CHANCE_BAND = (
    0.05  # within this of 0.5 counts as chance (the standard error at 4000 test sequences is 0.008)
)


def compute_memory_vs_gap(config: MemoryConfig, rng: np.random.Generator) -> Result:
    gaps = list(config.gaps)
    model, initial = train_memory(
        gaps,
        config.seeds,
        config.hidden,
        config.n_distractors,
        config.steps,
        config.batch,
        config.lr,
        rng,
    )
    gap_of_model = np.repeat(gaps, config.seeds)
    length = max(gaps) + 2
    key_step = length - gap_of_model - 1  # 1-based step number of the key
    x, y = memory_batch(gap_of_model, config.test_size, length, config.n_distractors, rng)
    with torch.no_grad():
        correct = torch.cat(
            [model(xc).argmax(-1) == yc for xc, yc in zip(x.split(500, 1), y.split(500, 1))], 1
        )
        accuracy = correct.double().mean(1).numpy().reshape(len(gaps), config.seeds)
        x_j = x[:, : config.jacobian_size].double()
        trained = jacobian_norm_back(model.W_hh, model.double().states(x_j), key_step)
        for name, p in model.named_parameters():
            p.copy_(initial[name])
        at_init = jacobian_norm_back(model.W_hh, model.states(x_j), key_step)
    # Per network: the geometric mean over sequences (the norms span decades, so average their logs).
    trained = np.exp(np.log(trained).mean(1)).reshape(len(gaps), config.seeds)
    at_init = np.exp(np.log(at_init).mean(1)).reshape(len(gaps), config.seeds)
    facts: dict[str, float | int] = {
        "chance_accuracy": CHANCE_ACCURACY,
        "n_seeds": config.seeds,
        "longest_gap": gaps[-1],
        "shortest_gap": gaps[0],
    }
    for i, gap in enumerate(gaps):
        facts[f"accuracy_gap_{gap}"] = float(accuracy[i].mean())
        facts[f"accuracy_min_gap_{gap}"] = float(accuracy[i].min())
        facts[f"accuracy_max_gap_{gap}"] = float(accuracy[i].max())
        facts[f"jacobian_norm_gap_{gap}"] = float(np.exp(np.log(trained[i]).mean()))
        facts[f"jacobian_norm_init_gap_{gap}"] = float(np.exp(np.log(at_init[i]).mean()))
    # Summaries under fixed names, so the prose reads the same facts whatever gaps a preset uses.
    solved = accuracy.min(1) >= SOLVED_ACCURACY
    at_chance = np.abs(accuracy - CHANCE_ACCURACY).max(1) <= CHANCE_BAND
    from_here_on = [i for i in range(len(gaps)) if at_chance[i:].all()]
    facts.update(
        accuracy_shortest_gap=facts[f"accuracy_gap_{gaps[0]}"],
        accuracy_longest_gap=facts[f"accuracy_gap_{gaps[-1]}"],
        accuracy_min_longest_gap=facts[f"accuracy_min_gap_{gaps[-1]}"],
        accuracy_max_longest_gap=facts[f"accuracy_max_gap_{gaps[-1]}"],
        longest_gap_all_solved=int(max((g for g, ok in zip(gaps, solved) if ok), default=0)),
        gap_from_which_all_at_chance=int(gaps[from_here_on[0]]) if from_here_on else -1,
        networks_solved=int((accuracy >= SOLVED_ACCURACY).sum()),
        networks_total=int(accuracy.size),
        solved_accuracy=SOLVED_ACCURACY,
        chance_band=CHANCE_BAND,
        jacobian_norm_shortest_gap=facts[f"jacobian_norm_gap_{gaps[0]}"],
        jacobian_norm_longest_gap=facts[f"jacobian_norm_gap_{gaps[-1]}"],
        jacobian_norm_init_shortest_gap=facts[f"jacobian_norm_init_gap_{gaps[0]}"],
        jacobian_norm_init_longest_gap=facts[f"jacobian_norm_init_gap_{gaps[-1]}"],
        train_steps=config.steps,
        hidden=config.hidden,
        lr=config.lr,
        test_size=config.test_size,
    )
    data = {
        "gaps": gaps,
        "accuracy": accuracy,
        "jacobian_trained": trained,
        "jacobian_init": at_init,
        "test_size": config.test_size,
    }
    return Result(data=data, facts=facts)


def plot_memory_vs_gap(result: Result, axes) -> None:
    ax_acc, ax_jac = axes
    gaps = np.asarray(result.data["gaps"])
    accuracy = np.asarray(result.data["accuracy"])
    blue, orange, grey = plotting.COLORS["blue"], plotting.COLORS["orange"], plotting.COLORS["grey"]
    for s in range(accuracy.shape[1]):
        ax_acc.scatter(
            gaps,
            accuracy[:, s],
            s=16,
            color=blue,
            alpha=0.55,
            zorder=3,
            label="one network" if s == 0 else None,
        )
    ax_acc.plot(gaps, accuracy.mean(1), color=blue, marker="o", ms=4, label="mean over networks")
    ax_acc.axhline(
        result.facts["chance_accuracy"], color=grey, ls="--", lw=1.0, label="chance (0.5)"
    )
    ax_acc.set_xscale("log")
    ax_acc.set_xticks(gaps, [str(g) for g in gaps])
    ax_acc.minorticks_off()
    ax_acc.set(
        ylim=(0.4, 1.04),
        xlabel="gap $L$ (tokens between key and query)",
        ylabel="test accuracy",
        title="Recall after training",
    )
    ax_acc.legend(loc="lower left", bbox_to_anchor=(0.0, 0.14))

    for key, color, label in (
        ("jacobian_trained", blue, "after training"),
        ("jacobian_init", orange, "at initialisation"),
    ):
        values = np.asarray(result.data[key])
        for s in range(values.shape[1]):
            ax_jac.scatter(gaps, values[:, s], s=14, color=color, alpha=0.5, zorder=3)
        ax_jac.plot(
            gaps, np.exp(np.log(values).mean(1)), color=color, marker="o", ms=4, label=label
        )
    ax_jac.set_xscale("log")
    ax_jac.set_xticks(gaps, [str(g) for g in gaps])
    ax_jac.minorticks_off()
    plotting.log_axis(ax_jac)
    ax_jac.set(
        xlabel="gap $L$",
        ylabel=r"$\|\partial h_T / \partial h_k\|_2$, $k$ = key step (log scale)",
        title="Gradient path from query back to key",
    )
    ax_jac.legend(loc="lower left")


# ---------------------------------------------------------------- figure l04_unstable_loss
@dataclass(frozen=True)
class UnstableConfig:
    seeds: int = (
        6  # initialisations; each is trained twice, without and with clipping, on the same data
    )
    length: int = 100  # T of the adding problem
    hidden: int = 64  # ReLU units
    batch: int = 32  # sequences per step
    steps: int = 200  # plain SGD steps
    lr: float = 0.01  # SGD learning rate, the same for both arms
    max_norm: float = 1.0  # clipping threshold on each run's whole gradient
    spike_factor: float = 1000.0  # a loss this many times its starting value counts as a spike
    window: int = (
        2  # plot the largest loss in each window of this many steps (keeps spikes, thins points)
    )

    def __post_init__(self) -> None:
        validation.positive_ints(self, "seeds", "length", "hidden", "batch", "steps", "window")
        validation.positive_floats(self, "lr", "max_norm", "spike_factor")
        if self.length < 2:
            raise ValueError(f"UnstableConfig.length must be at least 2, got {self.length!r}")


def first_nonfinite(losses: np.ndarray) -> np.ndarray:
    """Index of the first NaN/inf loss of each row, or -1 if the row stays finite."""
    bad = ~np.isfinite(losses)
    return np.where(bad.any(1), bad.argmax(1), -1)


def compute_unstable_loss(config: UnstableConfig, rng: np.random.Generator) -> Result:
    S = config.seeds
    # Models 0..S-1 train without clipping, S..2S-1 with it: the same S initialisations twice, same data.
    pair = StackedRNN([irnn(2, config.hidden) for _ in range(S)], outputs=1)
    model = StackedRNN([irnn(2, config.hidden) for _ in range(2 * S)], outputs=1)
    with torch.no_grad():
        for p_model, p_pair in zip(model.parameters(), pair.parameters()):
            p_model.copy_(torch.cat([p_pair, p_pair]))
    # inf: that model is never clipped
    thresholds = torch.tensor([math.inf] * S + [config.max_norm] * S)

    def both_arms():  # one batch per seed, seen by both of its arms
        x, y = adding_problem(S * config.batch, config.length, rng)
        x, y = x.view(S, config.batch, config.length, 2), y.view(S, config.batch, 1)
        return torch.cat([x, x]), torch.cat([y, y])

    # a NaN in one model leaves the others alone
    log = train(
        model,
        both_arms,
        lambda model, x, y: (model(x) - y).pow(2).mean((1, 2)),
        torch.optim.SGD(model.parameters(), lr=config.lr),
        config.steps,
        max_norm=thresholds,
        per_model=True,
        on_nonfinite="continue",
    )
    losses, grad_norms = np.array(log.loss).T, np.array(log.grad_norm).T  # (models, steps)
    free, clipped = losses[:S], losses[S:]
    start = losses[:, :1]
    with np.errstate(invalid="ignore", over="ignore"):
        # finite peak
        peak = np.where(np.isfinite(losses), losses, -np.inf).max(1, keepdims=True) / start
    nan_step = first_nonfinite(free)
    spiked = (peak[:S, 0] >= config.spike_factor) | (nan_step >= 0)
    facts = {
        "unstable_seeds": S,
        "unstable_seeds_spiked": int(spiked.sum()),
        "unstable_seeds_nonfinite": int((nan_step >= 0).sum()),
        "unstable_unclipped_peak_ratio": float(peak[:S].max()),
        "unstable_clipped_peak_ratio": float(peak[S:].max()),
        "unstable_clipped_final_loss_max": float(clipped[:, -1].max()),
        "unstable_clipped_final_over_start_max": float((clipped[:, -1] / clipped[:, 0]).max()),
        "unstable_clipped_nonfinite": int((first_nonfinite(clipped) >= 0).sum()),
        "unstable_lr": config.lr,
        "unstable_max_norm": config.max_norm,
        "unstable_length": config.length,
        "unstable_steps": config.steps,
        "unstable_spike_factor": config.spike_factor,
        "unstable_unclipped_max_grad_norm": float(
            np.nanmax(np.where(np.isfinite(grad_norms[:S]), grad_norms[:S], np.nan))
        ),
        "unstable_clipped_max_grad_norm": float(grad_norms[S:].max()),
        "adding_baseline_mse": ADDING_BASELINE_MSE,
    }
    data = {
        "step": np.arange(config.steps),
        "unclipped_loss": free,
        "clipped_loss": clipped,
        "unclipped_nonfinite_step": nan_step,
        "unclipped_peak_ratio": peak[:S, 0],
        "clipped_peak_ratio": peak[S:, 0],
        "window": config.window,
    }
    return Result(data=data, facts=facts)


def window_max(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest value in each window of `window` steps (NaN-aware; all-NaN windows stay NaN), and the window starts."""
    n = len(values) // window * window
    blocks = values[:n].reshape(-1, window)
    finite = np.where(np.isfinite(blocks), blocks, -np.inf)
    top = finite.max(1)
    top = np.where(np.isfinite(top), top, np.nan)
    return np.arange(0, n, window), top


def plot_unstable_loss(result: Result, axes) -> None:
    window = int(result.data["window"])
    n_seeds = len(result.data["unclipped_loss"])
    # Seeds have no order: the palette's colours in turn, repeated if there are more seeds than colours.
    colors = (plotting.CYCLE * (n_seeds // len(plotting.CYCLE) + 1))[:n_seeds]
    top = max(
        np.nanmax(
            np.where(np.isfinite(np.asarray(losses, float)), np.asarray(losses, float), np.nan)
        )
        for losses in (result.data["unclipped_loss"], result.data["clipped_loss"])
    )
    marker_y = top * 30
    for ax, key, title in (
        (axes[0], "unclipped_loss", "SGD, no clipping"),
        (axes[1], "clipped_loss", "same runs, norm clipped"),
    ):
        losses = np.asarray(result.data[key], dtype=float)
        n_marked = 0  # NaN labels are stacked downwards so that two of them never overlap
        for i, (curve, color) in enumerate(zip(losses, colors)):
            steps, peak = window_max(curve, window)
            ax.plot(steps, peak, color=color, lw=1.2, label=f"seed {i}")
            if key == "unclipped_loss":
                bad = int(result.data["unclipped_nonfinite_step"][i])
                # the loss is NaN or inf from here on: mark the step instead of a curve
                if bad >= 0:
                    last = curve[bad - 1] if bad > 0 else marker_y
                    ax.plot([bad, bad], [last, marker_y], color=color, ls=":", lw=1.0)
                    ax.scatter(
                        [bad], [marker_y], marker="x", s=40, color=color, zorder=4, linewidths=2
                    )
                    ax.annotate(
                        f"seed {i}: NaN/inf\nfrom step {bad}",
                        (bad, marker_y),
                        textcoords="offset points",
                        xytext=(6, -4 - 24 * n_marked),
                        fontsize=8,
                        color=plotting.INK,
                        va="top",
                    )
                    n_marked += 1
        ax.axhline(
            result.facts["adding_baseline_mse"], color=plotting.COLORS["grey"], ls="--", lw=0.9
        )
        plotting.log_axis(ax)
        ax.set(title=title, xlabel="SGD step")
    axes[1].set_ylim(axes[0].get_ylim())
    axes[0].set_ylabel("training loss (MSE, log scale)")
    axes[1].annotate(
        "always answer 1: MSE 1/6",
        (0, result.facts["adding_baseline_mse"]),
        textcoords="offset points",
        xytext=(2, -11),
        fontsize=8,
        color=plotting.COLORS["grey"],
    )
    axes[1].legend(loc="upper right", ncols=2, fontsize=8)


# ---------------------------------------------------------------- figure l04_cliff
@dataclass(frozen=True)
class CliffConfig:
    w_range: tuple[float, float] = (-1.0, 10.0)  # recurrent weight w shown in the surface
    b_range: tuple[float, float] = (-7.0, 3.0)  # bias b shown in the surface
    grid: int = 96  # surface resolution per axis (drawn as an image)
    steps: int = 50  # T: the loss reads sigmoid(x_T)
    x0: float = 0.0  # initial state: with x0 = 0 the wall lies exactly on b = -w/2
    target: float = 0.7  # the loss is (sigmoid(x_T) - target)^2
    start: tuple[float, float] = (8.0, -3.0)  # (w, b) where gradient descent starts
    lr: float = 1.0  # gradient-descent step size
    descent_steps: int = 300  # gradient-descent steps

    def __post_init__(self) -> None:
        validation.positive_ints(self, "grid", "steps", "descent_steps")
        validation.positive_floats(self, "lr")
        for name in ("w_range", "b_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(
                    f"CliffConfig.{name} must be (low, high) with low < high, got {(lo, hi)!r}"
                )
        if not 0.0 < self.target < 1.0:
            raise ValueError(
                f"CliffConfig.target must lie strictly between 0 and 1, got {self.target!r}"
            )
        if self.grid < 2:
            raise ValueError(f"CliffConfig.grid must be at least 2, got {self.grid!r}")


def compute_cliff(config: CliffConfig, rng: np.random.Generator) -> Result:
    cliff = {"steps": config.steps, "x0": config.x0, "target": config.target}
    w = np.linspace(*config.w_range, config.grid)
    b = np.linspace(*config.b_range, config.grid)
    W, B = np.meshgrid(w, b)
    loss, _, _ = cliff_loss_and_grad(W, B, **cliff)
    path, grad_norms = cliff_descent(*config.start, config.lr, config.descent_steps, **cliff)
    jump = int(np.argmax(grad_norms))
    step_lengths = np.hypot(*np.diff(path, axis=0).T)
    final_loss, _, _ = cliff_loss_and_grad(*path[-1], **cliff)
    # On the wall itself x_0 = 0 is a fixed point (0 = w sigmoid(0) + b), so x_t = 0 for all t: the exact
    # crest of the cliff at the w where the path jumped, for comparison with the grid's coarse maximum.
    facts = {
        "cliff_max_grad_norm": float(grad_norms.max()),
        "cliff_jump_step": jump,
        "cliff_jump_length": float(step_lengths[jump]),
        "cliff_jump_to_w": float(path[jump + 1, 0]),
        "cliff_jump_to_b": float(path[jump + 1, 1]),
        "cliff_jump_from_w": float(path[jump, 0]),
        "cliff_jump_from_b": float(path[jump, 1]),
        "cliff_median_grad_norm_before_jump": float(np.median(grad_norms[:jump]))
        if jump > 0
        else float(grad_norms[0]),
        "cliff_zero_grad_steps": int(np.sum(grad_norms[jump + 1 :] == 0.0)),
        "cliff_steps_after_jump": int(len(grad_norms) - jump - 1),
        "cliff_final_loss": float(final_loss),
        "cliff_start_w": float(config.start[0]),
        "cliff_start_b": float(config.start[1]),
        "cliff_lr": config.lr,
        "cliff_loss_low_state": float((sigmoid(-np.inf) - config.target) ** 2),
        "cliff_loss_high_state": float((1.0 - config.target) ** 2),
    }
    if config.x0 == 0:
        # On the wall x_0 = 0 is a fixed point (0 = w sigmoid(0) + b), so x_t = 0 for every t. Its gradient
        # there is finite and exact: the height of the crest, which a grid or a path only ever samples near.
        w_wall = config.start[0]
        _, gw_wall, gb_wall = cliff_loss_and_grad(w_wall, -w_wall / 2, **cliff)
        facts["cliff_wall_w"] = float(w_wall)
        facts["cliff_wall_grad_norm"] = float(np.hypot(gw_wall, gb_wall))
    if config.start[0] > 4:
        # x -> w sigma(x) + b has two stable fixed points only for b in a band around -w/2: the line x - b must
        # cut the sigmoid three times, between its tangents at the two points where w sigma'(x) = 1.
        w_start = config.start[0]
        # sigma(x) at the upper tangent point; the lower is 1 - s_high
        s_high = (1 + math.sqrt(1 - 4 / w_start)) / 2
        x_high = math.log(s_high / (1 - s_high))
        facts["cliff_bistable_w"] = float(w_start)
        facts["cliff_bistable_b_low"] = x_high - w_start * s_high
        facts["cliff_bistable_b_high"] = -x_high - w_start * (1 - s_high)
    # Where the run is stranded, sigma'(x_t) < exp(-|x_t|) at every step: far below the smallest positive
    # float64, so the gradient computes as exactly 0 although mathematically it is not.
    w_end, b_end = path[-1]
    states = [config.x0]
    for _ in range(config.steps):
        states.append(w_end * sigmoid(states[-1]) + b_end)
    facts["cliff_stranded_min_abs_state"] = float(np.min(np.abs(states[1:])))
    facts["float64_smallest_log"] = float(np.log(np.finfo(np.float64).smallest_subnormal))
    data = {
        "w": w,
        "b": b,
        "loss": loss,
        "path": path,
        "grad_norms": grad_norms,
        "x0": config.x0,
        "jump": jump,
    }
    return Result(data=data, facts=facts)


def plot_cliff(result: Result, axes) -> None:
    ax, ax_norm = axes
    w, b, loss = (np.asarray(result.data[k]) for k in ("w", "b", "loss"))
    path, jump = np.asarray(result.data["path"]), int(result.data["jump"])
    image = ax.imshow(
        loss,
        origin="lower",
        extent=(w[0], w[-1], b[0], b[-1]),
        aspect="auto",
        cmap="viridis",
        interpolation="nearest",
    )
    cbar = ax.figure.colorbar(image, ax=ax, shrink=0.85, pad=0.02)
    cbar.set_label("loss $(\\sigma(x_{50}) - 0.7)^2$", fontsize=9)
    if result.data["x0"] == 0:
        # the wall exists where x = 0 is an unstable fixed point: w > 4
        ww = np.linspace(4.0, w[-1], 50)
        ax.plot(ww, -ww / 2, color="white", ls="--", lw=1.0, label="wall $b = -w/2$")
    before = path[: jump + 1]
    ax.plot(
        before[:, 0],
        before[:, 1],
        color=plotting.COLORS["orange"],
        lw=1.6,
        label="gradient descent",
    )
    ax.scatter(
        *path[0],
        color=plotting.COLORS["orange"],
        s=28,
        zorder=4,
        edgecolors="white",
        linewidths=0.8,
    )
    ax.scatter(*path[jump], color="white", marker="o", s=22, zorder=4)
    # The jump leaves the picture: draw it as an arrow towards where it lands, stopped at the frame.
    (w0, b0), (w1, b1) = path[jump], path[jump + 1]
    d = np.array([w1 - w0, b1 - b0])
    limits = [(w[0], w[-1]), (b[0], b[-1])]
    t_exit = min(
        ((hi if di > 0 else lo) - p) / di for p, di, (lo, hi) in zip((w0, b0), d, limits) if di != 0
    )
    t_draw = min(1.0, 0.97 * t_exit)
    ax.annotate(
        "",
        xy=(w0 + t_draw * d[0], b0 + t_draw * d[1]),
        xytext=(w0, b0),
        arrowprops={"arrowstyle": "-|>", "color": "white", "lw": 1.4},
    )
    ax.text(
        0.03,
        0.62,
        f"step {jump}: thrown to\n(w, b) ≈ ({w1:,.0f}, {b1:,.0f})",
        transform=ax.transAxes,
        fontsize=8,
        color="white",
    )
    ax.set(
        xlim=(w[0], w[-1]),
        ylim=(b[0], b[-1]),
        xlabel="recurrent weight $w$",
        ylabel="bias $b$",
        title="Loss surface of $x_t = w\\,\\sigma(x_{t-1}) + b$",
    )
    ax.grid(False)
    ax.legend(
        loc="lower left",
        fontsize=8,
        frameon=True,
        facecolor=plotting.CARD,
        framealpha=0.85,
        edgecolor="none",
    )

    norms = np.asarray(result.data["grad_norms"])
    steps = np.arange(len(norms))
    ax_norm.plot(steps[: jump + 1], norms[: jump + 1], color=plotting.COLORS["orange"], lw=1.2)
    ax_norm.scatter([jump], [norms[jump]], color=plotting.COLORS["orange"], s=22, zorder=3)
    ax_norm.annotate(
        f"step {jump}: {norms[jump]:,.0f}",
        (jump, norms[jump]),
        textcoords="offset points",
        xytext=(-92, -4),
        fontsize=8,
    )
    plotting.log_axis(ax_norm)
    after = norms[jump + 1 :]
    if len(after):
        ax_norm.axvspan(jump + 1, len(norms) - 1, color=plotting.GRID, alpha=0.6, lw=0)
        zero = bool(np.all(after == 0))
        ax_norm.text(
            jump + 4,
            np.sqrt(norms[: jump + 1].min() * norms[jump]),
            "after the jump:\ngradient " + ("exactly 0" if zero else "tiny") + ",\nrun stranded",
            fontsize=8,
            color=plotting.INK,
            rotation=90,
            va="center",
        )
    ax_norm.set(
        xlabel="gradient-descent step",
        ylabel="gradient norm (log scale)",
        title="Gradient norm on the path",
    )


#: What docs/04-consequences.md says in words about the published results.
MEMORY_CLAIMS = (
    Claim(
        "short gaps are learned, and from some gap on every network is at chance",
        lambda f: (
            f["longest_gap_all_solved"] >= f["shortest_gap"]
            and f["gap_from_which_all_at_chance"] > 0
        ),
    ),
    Claim(
        "the networks that learned the shortest gap raised their Jacobian norm in training",
        lambda f: f["jacobian_norm_shortest_gap"] > f["jacobian_norm_init_shortest_gap"],
    ),
)
UNSTABLE_CLAIMS = (
    Claim(
        "with clipping every run drifts down towards the baseline",
        lambda f: (
            f["unstable_clipped_final_over_start_max"] < 0.5
            and f["unstable_clipped_nonfinite"] == 0
        ),
    ),
    Claim("without clipping some runs turn into NaN", lambda f: f["unstable_seeds_nonfinite"] >= 1),
)


FIGURES = [
    FigureSpec(
        name="l04_memory_vs_gap",
        compute=compute_memory_vs_gap,
        claims=MEMORY_CLAIMS,
        plot=plot_memory_vs_gap,
        config=MemoryConfig(),
        fast=MemoryConfig(
            gaps=(2, 60),
            seeds=2,
            hidden=16,
            steps=150,
            batch=32,
            lr=1e-2,
            test_size=256,
            jacobian_size=8,
        ),
        expected_s=30.0,
        expected_fast_s=2.0,
        panels=(1, 2),
        size=(7.6, 3.6),
        alt="Left: test accuracy of tanh RNNs on the memory task against the gap L on a log axis, {n_seeds} networks "
        "per gap: every network reaches at least {solved_accuracy:.0%} up to a gap of {longest_gap_all_solved}, "
        "and from a gap of {gap_from_which_all_at_chance} on every network sits at the chance line of "
        "{chance_accuracy:g}. Right: the norm of the Jacobian from the query step back to the key step on a log "
        "axis, falling from {jacobian_norm_init_shortest_gap:.2g} at the shortest gap to "
        "{jacobian_norm_init_longest_gap:.0e} at the longest at initialisation, and from "
        "{jacobian_norm_shortest_gap:.2g} to {jacobian_norm_longest_gap:.0e} after training.",
    ),
    FigureSpec(
        name="l04_unstable_loss",
        compute=compute_unstable_loss,
        claims=UNSTABLE_CLAIMS,
        plot=plot_unstable_loss,
        config=UnstableConfig(),
        fast=UnstableConfig(seeds=3, length=50, hidden=32, steps=80, lr=0.05),
        expected_s=8.0,
        expected_fast_s=1.5,
        panels=(1, 2),
        size=(7.6, 3.6),
        nonfinite_ok=frozenset({"unclipped_loss"}),
        alt="Training loss on a log axis against SGD step for {unstable_seeds} seeds of a ReLU RNN with identity "
        "initialisation on the adding problem. Left, without clipping: {unstable_seeds_spiked} of the runs spike "
        "to at least {unstable_spike_factor:,.0f} times their starting loss or become non-finite, the worst by a "
        "factor of {unstable_unclipped_peak_ratio:.0e}, and the {unstable_seeds_nonfinite} runs that end in NaN "
        "or infinity are marked with crosses. Right, the same runs with gradient-norm clipping: no curve ever "
        "rises above {unstable_clipped_peak_ratio:.2f} times its start, and every one ends at or below "
        "{unstable_clipped_final_loss_max:.2f}, near the dashed baseline of {adding_baseline_mse:.3f}.",
    ),
    FigureSpec(
        name="l04_cliff",
        compute=compute_cliff,
        plot=plot_cliff,
        config=CliffConfig(),
        fast=CliffConfig(grid=32),
        expected_s=1.0,
        expected_fast_s=0.5,
        panels=(1, 2),
        size=(8.4, 3.7),
        alt="Left: the loss of a one-neuron RNN over its weight w and bias b, shown as colour: a low plateau above a "
        "straight wall along the line where b equals minus w over two, and a high plateau below it. A gradient-"
        "descent path slides along the wall and at step {cliff_jump_step} is thrown far out of the picture in a "
        "single step of length {cliff_jump_length:.3g}. Right: the gradient norm along the path, with a median of"
        " {cliff_median_grad_norm_before_jump:.2g} before the jump and one spike of {cliff_max_grad_norm:.3g} at "
        "the step that jumps; after it the gradient is zero.",
    ),
]
