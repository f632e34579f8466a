"""Lesson 5: taming exploding gradients.

- Norm clipping against value clipping, on 2-D vectors (``l05_clip_geometry``).
- Gradient descent on the one-neuron cliff of lesson 4 from many random starts, with and without
  norm clipping, over several learning rates (``l05_clip_cliff``).
- Truncated backpropagation through time on a delay-d recall task: error against the truncation
  length k (``l05_truncation``).
- Pascanu et al.'s gradient-norm regulariser and what it does to the backward signal (``l05_penalty``).
- A copy-ready training step that logs per-parameter and per-time-step gradient norms and the value
  returned by ``torch.nn.utils.clip_grad_norm_``.

The sections between ``--8<--`` markers are embedded verbatim in ``docs/05-taming-explosions.md`` and
run, in order, as a reader would paste them (after lesson 4's ``cliff`` section, which the page embeds
too): they need nothing but numpy and torch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.models import LastStepRegressor, StackedRNN, tanh_rnn
from lessons_code.registry import Claim, FigureSpec, Result
from lessons_code.tasks import cliff_descent, cliff_loss_and_grad, delayed_recall
from lessons_code.training import hidden_states, train

# --8<-- [start:imports]
import math

import numpy as np
import torch
# --8<-- [end:imports]


# --8<-- [start:clip]
def check_threshold(value, name):
    """A clipping threshold must be a finite number above zero; anything else is a bug, not a setting."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def clip_by_norm(g, max_norm):
    """Shrink g to length max_norm if it is longer; its direction never changes.
    The last axis holds one vector, so a whole batch of gradients can be clipped at once."""
    check_threshold(max_norm, "max_norm")
    g = np.asarray(g, dtype=np.float64)
    norm = np.linalg.norm(g, axis=-1, keepdims=True)
    return g * np.minimum(1.0, max_norm / np.maximum(norm, np.finfo(float).tiny))


def clip_by_value(g, clip_value):
    """Clip every component to [-clip_value, clip_value] on its own; this can turn the vector."""
    check_threshold(clip_value, "clip_value")
    return np.clip(np.asarray(g, dtype=np.float64), -clip_value, clip_value)


def cosine(a, b):
    """Cosine of the angle between two vectors: 1 means the same direction."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    # --8<-- [end:clip]


# --8<-- [start:tbptt]
def tbptt_step(rnn, readout, optimiser, x, targets, k):
    """One update with truncated BPTT: the sequence is cut into chunks of k steps. The hidden state is
    carried from chunk to chunk, but detached, so no gradient crosses a chunk boundary: the gradient
    of a loss term reaches back at most k steps, and the graph kept for backward is k steps long.
    x: (batch, T, inputs); targets: (batch, T) class indices, -100 where there is nothing to predict."""
    optimiser.zero_grad()
    n_targets = (targets != -100).sum()
    h, total = None, 0.0
    for start in range(0, x.shape[1], k):
        out, h = rnn(x[:, start : start + k], h)
        logits = readout(out)
        loss = (
            torch.nn.functional.cross_entropy(
                logits.flatten(0, 1),
                targets[:, start : start + k].flatten(),
                ignore_index=-100,
                reduction="sum",
            )
            / n_targets
        )
        loss.backward()  # gradients of all chunks add up in .grad
        h = h.detach()  # keep the state, cut the gradient
        total += loss.item()
    optimiser.step()
    return total
    # --8<-- [end:tbptt]


# --8<-- [start:penalty]
def pascanu_penalty(W_hh, states, state_grads):
    """Gradient-norm regulariser of Pascanu, Mikolov & Bengio (2013), for h_t = tanh(W_hh h_{t-1} + ...).

    For each step it compares the backward signal before and after crossing one step:
    ratio_t = ||v_t diag(1 - h_t^2) W_hh|| / ||v_t||, with v_t = dE/dh_t held constant (the error
    direction), and penalises (ratio_t - 1)^2. Zero when every step passes the error back unchanged in
    size: it pushes against vanishing along the directions the error actually uses.
    states: h_1..h_T, (batch, hidden) each, in the graph; state_grads: dE/dh_1..dE/dh_T, detached.
    """
    terms = []
    for h_t, v_t in zip(states[1:], state_grads[1:]):
        back = (v_t * (1 - h_t**2)) @ W_hh  # v_t dh_t/dh_{t-1}
        ratio = back.norm(dim=-1) / v_t.norm(dim=-1).clamp_min(1e-30)
        terms.append((ratio - 1) ** 2)
    return torch.stack(terms).mean()


def loss_and_penalty(model, x, y):
    """Task loss of a LastStepRegressor around a one-layer tanh nn.RNN, and the penalty, ready for
    (loss + strength * penalty).backward()."""
    states = hidden_states(model.core, x)  # h_1..h_T as nodes of the graph, (1, batch, hidden) each
    loss = torch.nn.functional.mse_loss(model.head(states[-1][-1]).squeeze(-1), y)
    state_grads = torch.autograd.grad(loss, states, retain_graph=True)  # dE/dh_t for every t
    penalty = pascanu_penalty(
        model.core.weight_hh_l0, [h[-1] for h in states], [v[-1].detach() for v in state_grads]
    )
    return loss, penalty
    # --8<-- [end:penalty]


# ---------------------------------------------------------------- figure l05_clip_geometry
@dataclass(frozen=True)
class GeometryConfig:
    example: tuple[float, float] = (4.0, 1.0)  # the gradient drawn as arrows
    threshold: float = 1.0  # max_norm for norm clipping and clip_value for value clipping
    sweep_norms: tuple[float, ...] = (1.5, 4.0, 16.0)  # gradient lengths for the angle sweep
    n_angles: int = 181  # directions from 0 to 90 degrees

    def __post_init__(self) -> None:
        check_threshold(self.threshold, "GeometryConfig.threshold")
        validation.positive_ints(self, "n_angles")
        validation.non_empty(self, "sweep_norms")
        if (
            not all(math.isfinite(v) for v in self.example)
            or math.hypot(*self.example) <= self.threshold
        ):
            raise ValueError(
                f"GeometryConfig.example must be finite and longer than threshold, got {self.example!r}"
            )
        if any(not (math.isfinite(r) and r > 0) for r in self.sweep_norms):
            raise ValueError(
                f"GeometryConfig.sweep_norms must be finite and > 0, got {self.sweep_norms!r}"
            )


def compute_clip_geometry(config: GeometryConfig, rng: np.random.Generator) -> Result:
    g = np.array(config.example)
    by_norm, by_value = clip_by_norm(g, config.threshold), clip_by_value(g, config.threshold)
    angles = np.linspace(0.0, 90.0, config.n_angles)
    directions = np.stack([np.cos(np.radians(angles)), np.sin(np.radians(angles))], axis=-1)
    sweep_value, sweep_norm = {}, {}
    for r in config.sweep_norms:
        vectors = r * directions
        clipped_v, clipped_n = (
            clip_by_value(vectors, config.threshold),
            clip_by_norm(vectors, config.threshold),
        )
        sweep_value[f"{r:g}"] = np.array([cosine(a, c) for a, c in zip(vectors, clipped_v)])
        sweep_norm[f"{r:g}"] = np.array([cosine(a, c) for a, c in zip(vectors, clipped_n)])
    facts = {
        "norm_clip_cosine": cosine(g, by_norm),
        "value_clip_cosine": cosine(g, by_value),
        "norm_clip_length": float(np.linalg.norm(by_norm)),
        "value_clip_length": float(np.linalg.norm(by_value)),
        "example_length": float(np.linalg.norm(g)),
        "example_angle_deg": float(np.degrees(np.arctan2(g[1], g[0]))),
        "value_clip_angle_deg": float(np.degrees(np.arctan2(by_value[1], by_value[0]))),
        "value_clip_turn_deg": float(np.degrees(np.arccos(min(1.0, cosine(g, by_value))))),
        "value_clip_min_cosine": float(min(v.min() for v in sweep_value.values())),
        "norm_clip_min_cosine_sweep": float(min(v.min() for v in sweep_norm.values())),
        "clip_threshold": config.threshold,
    }
    data = {
        "example": g,
        "by_norm": by_norm,
        "by_value": by_value,
        "threshold": config.threshold,
        "angles": angles,
        "value_cosine": sweep_value,
        "norm_cosine": sweep_norm,
    }
    return Result(data=data, facts=facts)


def plot_clip_geometry(result: Result, axes) -> None:
    ax, ax_sweep = axes
    c = result.data["threshold"]
    g, by_norm, by_value = (np.asarray(result.data[k]) for k in ("example", "by_norm", "by_value"))
    theta = np.linspace(0, 2 * np.pi, 200)
    blue, orange, ink = plotting.COLORS["blue"], plotting.COLORS["orange"], plotting.INK
    ax.plot(
        c * np.cos(theta),
        c * np.sin(theta),
        color=blue,
        lw=1.0,
        ls="--",
        label=f"norm $\\leq {c:g}$",
    )
    ax.plot(
        [-c, c, c, -c, -c],
        [-c, -c, c, c, -c],
        color=orange,
        lw=1.0,
        ls=":",
        label=f"each entry in $[-{c:g}, {c:g}]$",
    )
    for vec, color in ((g, ink), (by_norm, blue), (by_value, orange)):
        ax.annotate(
            "", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.8}
        )
    ax.annotate(
        f"gradient $g = ({g[0]:g}, {g[1]:g})$",
        g,
        textcoords="offset points",
        xytext=(-70, 8),
        fontsize=9,
    )
    ax.annotate(
        "norm-clipped:\nsame direction",
        by_norm,
        textcoords="offset points",
        xytext=(4, -30),
        fontsize=8,
        color=blue,
    )
    ax.annotate(
        "value-clipped:\nturned",
        by_value,
        textcoords="offset points",
        xytext=(-20, 10),
        fontsize=8,
        color=orange,
    )
    ax.set_aspect("equal")
    ax.set(
        xlim=(-1.3, g[0] + 0.5),
        ylim=(-1.3, max(2.0, g[1] + 1.0)),
        xlabel="$g_1$",
        ylabel="$g_2$",
        title="Clipping one gradient",
    )
    ax.legend(loc="lower right", fontsize=8)

    angles = np.asarray(result.data["angles"])
    curves = result.data["value_cosine"]
    for (r, cos_v), color in zip(curves.items(), plotting.sequential(len(curves), "plasma")):
        ax_sweep.plot(angles, cos_v, color=color, label=f"value clipping, $\\|g\\| = {r}$")
    ax_sweep.axhline(1.0, color=blue, lw=2.2, label="norm clipping, any $\\|g\\|$")
    ax_sweep.set(
        xlabel="direction of $g$ (degrees from the $g_1$ axis)",
        ylabel="cosine(clipped, original)",
        title="How far value clipping turns $g$",
        xticks=[0, 15, 30, 45, 60, 75, 90],
    )
    ax_sweep.legend(loc="lower center", fontsize=8)


# ---------------------------------------------------------------- figure l05_clip_cliff
@dataclass(frozen=True)
class ClipCliffConfig:
    n_starts: int = 200  # random starts (w, b), uniform in the box below; every one is reported
    w_range: tuple[float, float] = (4.0, 10.0)  # the part of the plane where the wall is (w > 4)
    b_range: tuple[float, float] = (-6.0, 0.0)
    lrs: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0)  # learning rates tried, for both arms
    headline_lr: float = 30.0  # the learning rate whose starts are drawn on the map
    max_norm: float = 0.1  # clipping threshold
    n_steps: int = 500  # gradient-descent steps per run
    success_loss: float = 1e-3  # a run succeeds if its final loss is below this
    steps: int = 50  # the cliff's T (as in lesson 4)

    def __post_init__(self) -> None:
        validation.positive_ints(self, "n_starts", "n_steps", "steps")
        check_threshold(self.max_norm, "ClipCliffConfig.max_norm")
        validation.positive_floats(self, "headline_lr", "success_loss")
        validation.non_empty(self, "lrs")
        if any(not (math.isfinite(lr) and lr > 0) for lr in self.lrs):
            raise ValueError(f"ClipCliffConfig.lrs must be finite and > 0, got {self.lrs!r}")
        if self.headline_lr not in self.lrs:
            raise ValueError(
                f"ClipCliffConfig.headline_lr must be one of lrs, got {self.headline_lr!r}"
            )
        for name in ("w_range", "b_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(
                    f"ClipCliffConfig.{name} must be (low, high) with low < high, got {(lo, hi)!r}"
                )


def compute_clip_cliff(config: ClipCliffConfig, rng: np.random.Generator) -> Result:
    w0 = rng.uniform(*config.w_range, config.n_starts)
    b0 = rng.uniform(*config.b_range, config.n_starts)
    lrs = np.array(config.lrs)
    # Every (learning rate, start) pair as one batch: shape (n_lrs, n_starts).
    W0, B0 = np.broadcast_to(w0, (len(lrs), len(w0))), np.broadcast_to(b0, (len(lrs), len(b0)))
    LR = lrs[:, None]
    outcome = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for arm, clip in (
            ("unclipped", None),
            ("clipped", lambda g: clip_by_norm(g, config.max_norm)),
        ):
            path, _ = cliff_descent(W0, B0, LR, config.n_steps, clip, steps=config.steps)
            loss, _, _ = cliff_loss_and_grad(path[-1, ..., 0], path[-1, ..., 1], steps=config.steps)
            outcome[arm] = {"success": loss < config.success_loss}
    head = int(np.flatnonzero(lrs == config.headline_lr)[0])
    rate = {arm: outcome[arm]["success"].mean(1) for arm in outcome}
    facts = {
        "cliff_success_clipped": float(rate["clipped"][head]),
        "cliff_success_unclipped": float(rate["unclipped"][head]),
        "cliff_success_unclipped_best": float(rate["unclipped"].max()),
        "cliff_success_unclipped_best_lr": float(lrs[int(rate["unclipped"].argmax())]),
        "cliff_success_clipped_worst": float(rate["clipped"].min()),
        "cliff_success_clipped_worst_lr": float(lrs[int(rate["clipped"].argmin())]),
        "cliff_lr_min": float(lrs.min()),
        "cliff_lr_max": float(lrs.max()),
        "cliff_n_lrs": len(lrs),
        "cliff_headline_lr": config.headline_lr,
        "cliff_n_starts": config.n_starts,
        "cliff_max_norm": config.max_norm,
        "cliff_n_steps": config.n_steps,
        "cliff_success_loss": config.success_loss,
        "cliff_only_clipped_succeeds": int(
            np.sum(outcome["clipped"]["success"][head] & ~outcome["unclipped"]["success"][head])
        ),
        "cliff_only_unclipped_succeeds": int(
            np.sum(~outcome["clipped"]["success"][head] & outcome["unclipped"]["success"][head])
        ),
    }
    for i, lr in enumerate(lrs):
        facts[f"cliff_success_clipped_lr_{lr:g}"] = float(rate["clipped"][i])
        facts[f"cliff_success_unclipped_lr_{lr:g}"] = float(rate["unclipped"][i])
    data = {
        "lrs": lrs,
        "rate_clipped": rate["clipped"],
        "rate_unclipped": rate["unclipped"],
        "w0": w0,
        "b0": b0,
        "headline_lr": config.headline_lr,
        "success_clipped": outcome["clipped"]["success"][head],
        "success_unclipped": outcome["unclipped"]["success"][head],
        "w_range": config.w_range,
        "b_range": config.b_range,
    }
    return Result(data=data, facts=facts)


def plot_clip_cliff(result: Result, axes) -> None:
    ax_rate, ax_map = axes
    lrs = np.asarray(result.data["lrs"])
    blue, orange, grey = plotting.COLORS["blue"], plotting.COLORS["orange"], plotting.COLORS["grey"]
    ax_rate.plot(lrs, result.data["rate_clipped"], color=blue, marker="o", label="norm-clipped")
    ax_rate.plot(lrs, result.data["rate_unclipped"], color=orange, marker="s", label="not clipped")
    ax_rate.set_xscale("log")
    ax_rate.set_xticks(lrs, [f"{v:g}" for v in lrs])
    ax_rate.minorticks_off()
    ax_rate.axvline(result.data["headline_lr"], color=grey, lw=0.8, ls=":")
    n = len(result.data["w0"])
    ax_rate.set(
        ylim=(-0.03, 1.05),
        xlabel="learning rate",
        ylabel=f"fraction of {n} starts that succeed",
        title="Success rate on the cliff",
    )
    ax_rate.legend(loc="lower left")

    w0, b0 = np.asarray(result.data["w0"]), np.asarray(result.data["b0"])
    ok_c, ok_u = (
        np.asarray(result.data["success_clipped"], bool),
        np.asarray(result.data["success_unclipped"], bool),
    )
    groups = (
        (ok_c & ok_u, "both succeed", plotting.COLORS["green"], "o"),
        (ok_c & ~ok_u, "only clipped succeeds", blue, "^"),
        (~ok_c & ok_u, "only unclipped succeeds", orange, "v"),
        (~ok_c & ~ok_u, "both fail", grey, "x"),
    )
    for mask, label, color, marker in groups:
        ax_map.scatter(
            w0[mask],
            b0[mask],
            s=16,
            color=color,
            marker=marker,
            label=f"{label} ({mask.sum()})",
            lw=1.0,
        )
    ww = np.linspace(*result.data["w_range"], 20)
    ax_map.plot(ww, -ww / 2, color=plotting.INK, ls="--", lw=1.0, label="wall $b = -w/2$")
    ax_map.set(
        xlabel="start $w$",
        ylabel="start $b$",
        title=f"Each start, learning rate {result.data['headline_lr']:g}",
    )
    ax_map.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize=8, ncols=2)


# ---------------------------------------------------------------- figure l05_truncation
@dataclass(frozen=True)
class TruncationConfig:
    delays: tuple[int, ...] = (5, 10)  # d: how far back the symbol to recall lies
    ks: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 32)  # truncation lengths tried
    seeds: int = 3  # independently initialised networks per (d, k), all reported
    length: int = 32  # steps per training sequence (k = length is full BPTT)
    n_symbols: int = 2  # random symbols in the stream; chance error is 1 - 1/n_symbols
    hidden: int = 32  # tanh units
    batch: int = 32
    steps: int = 600  # Adam steps
    lr: float = 1e-2
    test_size: int = 512
    solved_error: float = 0.05  # a network with test error below this has solved the task

    def __post_init__(self) -> None:
        validation.positive_ints(
            self, "seeds", "length", "n_symbols", "hidden", "batch", "steps", "test_size"
        )
        validation.positive_floats(self, "lr", "solved_error")
        for name in ("delays", "ks"):
            values = getattr(self, name)
            validation.non_empty(self, name)
            if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
                raise ValueError(
                    f"TruncationConfig.{name} must be positive integers, got {values!r}"
                )
        if max(self.ks) > self.length or max(self.delays) >= self.length:
            raise ValueError(
                f"TruncationConfig.ks must be <= length and delays < length, got {self.ks!r}, {self.delays!r}"
            )
        if self.n_symbols < 2:
            raise ValueError(
                f"TruncationConfig.n_symbols must be at least 2, got {self.n_symbols!r}"
            )


def compute_truncation(config: TruncationConfig, rng: np.random.Generator) -> Result:
    delays, ks, S = list(config.delays), list(config.ks), config.seeds
    # One network per (delay, k, seed), in that order, all trained together.
    delay_of = torch.tensor(np.repeat(delays, len(ks) * S))
    k_of = torch.tensor(np.tile(np.repeat(ks, S), len(delays)))
    G = len(delay_of)
    model = StackedRNN(
        [tanh_rnn(config.n_symbols, config.hidden) for _ in range(G)], outputs=config.n_symbols
    )

    def batch(n):  # one set of streams per delay, shared by every network trained on that delay
        x, targets = zip(
            *(delayed_recall(n, config.length, d, config.n_symbols, rng) for d in delays)
        )
        group = [delays.index(d) for d in delay_of.tolist()]
        return torch.stack([x[i] for i in group]), torch.stack([targets[i] for i in group])

    def loss_per_model(model, x, targets):  # mean cross-entropy over each network's own targets
        logits = model(x, every_step=True, truncate_every=k_of)
        loss = torch.nn.functional.cross_entropy(
            logits.flatten(0, 2), targets.flatten(), ignore_index=-100, reduction="none"
        ).view(G, -1)
        return loss.sum(1) / (targets != -100).reshape(G, -1).sum(1)

    train(
        model,
        lambda: batch(config.batch),
        loss_per_model,
        torch.optim.Adam(model.parameters(), lr=config.lr),
        config.steps,
        per_model=True,
    )
    x, targets = batch(config.test_size)
    with torch.no_grad():
        # no truncation at test
        wrong = (model(x, every_step=True).argmax(-1) != targets) & (targets != -100)
        error = (wrong.sum((1, 2)).double() / (targets != -100).sum((1, 2))).numpy()
    error = error.reshape(len(delays), len(ks), S)
    solved = error < config.solved_error
    chance = 1.0 - 1.0 / config.n_symbols
    facts: dict[str, float | int] = {
        "truncation_chance_error": chance,
        "truncation_length": config.length,
        "truncation_seeds": S,
        "truncation_solved_error": config.solved_error,
    }
    ks_arr = np.array(ks)
    for i, d in enumerate(delays):
        for j, k in enumerate(ks):
            facts[f"truncation_error_d{d}_k{k}"] = float(error[i, j].mean())
            facts[f"truncation_solved_d{d}_k{k}"] = int(solved[i, j].sum())
    # Summaries under fixed names (shortest and longest delay), so prose reads the same facts in any preset.
    for tag, i in (("short", 0), ("long", len(delays) - 1)):
        d = delays[i]
        facts[f"truncation_delay_{tag}"] = d
        groups = {
            "k1": ks_arr == 1,
            "below": (ks_arr >= 2) & (ks_arr < d),
            "at": ks_arr == d,
            "above": ks_arr >= d + 2,
        }
        for name, mask in groups.items():
            if mask.any():
                facts[f"truncation_{tag}_solved_{name}"] = int(solved[i, mask].sum())
                facts[f"truncation_{tag}_runs_{name}"] = int(solved[i, mask].size)
                facts[f"truncation_{tag}_min_error_{name}"] = float(error[i, mask].min())
                facts[f"truncation_{tag}_max_error_{name}"] = float(error[i, mask].max())
        all_solved = [k for j, k in enumerate(ks) if solved[i, j].all()]
        facts[f"truncation_{tag}_first_k_all_solved"] = int(min(all_solved)) if all_solved else -1
    data = {"delays": delays, "ks": ks, "error": error, "chance": chance}
    return Result(data=data, facts=facts)


def plot_truncation(result: Result, ax) -> None:
    ks = np.asarray(result.data["ks"])
    error = np.asarray(result.data["error"])  # (delays, ks, seeds)
    # nudge the two delays apart so their points do not hide each other
    offsets = np.array([0.97, 1.03])
    for i, ((d, err), color) in enumerate(zip(zip(result.data["delays"], error), plotting.CYCLE)):
        x = ks * offsets[i % 2]
        for s in range(err.shape[1]):
            ax.scatter(x, err[:, s], s=12, color=color, alpha=0.55, zorder=3)
        ax.plot(
            x, err.mean(1), color=color, lw=1.4, label=f"delay $d = {d}$ (mean; dots: each network)"
        )
        ax.axvline(d, color=color, ls=":", lw=1.0)
        ax.annotate(
            f"$k = d = {d}$",
            (d, 0.56),
            textcoords="offset points",
            xytext=(3, 0),
            fontsize=8,
            color=color,
        )
    ax.axhline(
        result.data["chance"],
        color=plotting.COLORS["grey"],
        ls="--",
        lw=1.0,
        label="chance (guessing)",
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.minorticks_off()
    ax.set(
        ylim=(-0.02, 0.62),
        xlabel="truncation length $k$ (steps the gradient may travel back)",
        ylabel="recall error on test streams",
        title="Truncated BPTT on delayed recall",
    )
    ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.28), fontsize=8)


# ---------------------------------------------------------------- figure l05_penalty
@dataclass(frozen=True)
class PenaltyConfig:
    hidden: int = 32  # tanh units
    length: int = 40  # T: steps between first input and the readout
    batch: int = 32
    steps: int = 800  # Adam steps, for both runs
    lr: float = 3e-3
    strength: float = 1.0  # weight of the penalty in loss + strength * penalty
    max_norm: float = (
        1.0  # both runs clip the gradient norm, as Pascanu et al. do with their penalty
    )
    init_scale: float = (
        0.5  # initial spectral norm of W_hh: below 1, so the backward signal vanishes
    )
    eval_every: int = 50  # steps between measurements of the task loss on held-out sequences
    eval_size: int = 512  # held-out sequences

    def __post_init__(self) -> None:
        validation.positive_ints(
            self, "hidden", "length", "batch", "steps", "eval_every", "eval_size"
        )
        validation.positive_floats(self, "lr", "strength", "max_norm", "init_scale")
        if self.length < 2:
            raise ValueError(f"PenaltyConfig.length must be at least 2, got {self.length!r}")


def mean_task(n, length, rng):
    """Inputs uniform in [-1, 1], one per step; the target is their mean over all `length` steps, so every
    step matters equally. Always answering 0 scores the target's variance, 1 / (3 length)."""
    x = torch.from_numpy(rng.uniform(-1, 1, size=(n, length, 1)))
    return x, x.mean((1, 2))


def penalty_start(config: PenaltyConfig, rng: np.random.Generator) -> LastStepRegressor:
    """A float64 tanh RNN with a readout; W_hh Gaussian, scaled to spectral norm init_scale; zero biases."""
    model = LastStepRegressor(tanh_rnn(1, config.hidden)).double()
    W = rng.standard_normal((config.hidden, config.hidden))
    with torch.no_grad():
        model.core.weight_hh_l0.copy_(
            torch.from_numpy(W * (config.init_scale / np.linalg.norm(W, 2)))
        )
        model.core.weight_ih_l0.copy_(torch.from_numpy(rng.standard_normal((config.hidden, 1))))
        model.core.bias_ih_l0.zero_()
        model.core.bias_hh_l0.zero_()
        model.head.weight.copy_(
            torch.from_numpy(rng.standard_normal((1, config.hidden)) / math.sqrt(config.hidden))
        )
        model.head.bias.zero_()
    return model


def backward_profile(model, x, y):
    """||dE/dh_t|| / ||dE/dh_T|| for t = 1..T, averaged (geometrically) over the batch; the penalty; the loss."""
    states = hidden_states(model.core, x)
    loss = torch.nn.functional.mse_loss(model.head(states[-1][-1]).squeeze(-1), y)
    grads = torch.autograd.grad(loss, states, retain_graph=True)
    norms = torch.stack([v[-1].norm(dim=-1) for v in grads], 1)  # (batch, T)
    profile = torch.exp(torch.log(norms / norms[:, -1:]).mean(0))
    penalty = pascanu_penalty(
        model.core.weight_hh_l0, [h[-1] for h in states], [v[-1].detach() for v in grads]
    )
    return profile.detach().numpy(), float(penalty.detach()), float(loss.detach())


def compute_penalty(config: PenaltyConfig, rng: np.random.Generator) -> Result:
    start = penalty_start(config, rng)
    x_eval, y_eval = mean_task(config.eval_size, config.length, rng)
    data_seed = int(rng.integers(2**32))  # both runs see the same training batches
    baseline = float(1.0 / (3 * config.length))
    runs, curves = {"initial": backward_profile(start, x_eval, y_eval)}, {}
    for name, strength in (("loss only", 0.0), ("loss + penalty", config.strength)):
        model = copy.deepcopy(start)
        data = np.random.default_rng(data_seed)

        def objective(model, x, y, strength=strength):
            if strength == 0:
                return torch.nn.functional.mse_loss(model(x), y)
            loss, penalty = loss_and_penalty(model, x, y)
            return loss + strength * penalty

        log = train(
            model,
            lambda data=data: mean_task(config.batch, config.length, data),
            objective,
            torch.optim.Adam(model.parameters(), lr=config.lr),
            config.steps,
            max_norm=config.max_norm,
            evaluate=lambda m: torch.nn.functional.mse_loss(m(x_eval), y_eval).item(),
            eval_every=config.eval_every,
        )
        runs[name] = backward_profile(model, x_eval, y_eval)
        curves[name] = np.array(log.evals)
    facts = {
        "penalty_initial": runs["initial"][1],
        "penalty_after_loss_only": runs["loss only"][1],
        "penalty_after_with_penalty": runs["loss + penalty"][1],
        "penalty_length": config.length,
        "penalty_steps": config.steps,
        "penalty_init_scale": config.init_scale,
        "penalty_max_norm": config.max_norm,
        "penalty_strength": config.strength,
        "penalty_baseline_mse": baseline,
    }
    for key, tag in (
        ("initial", "initial"),
        ("loss only", "loss_only"),
        ("loss + penalty", "with_penalty"),
    ):
        facts[f"penalty_ratio_first_{tag}"] = float(runs[key][0][0])
        facts[f"penalty_task_loss_{tag}"] = runs[key][2]
        facts[f"penalty_task_loss_{tag}_vs_baseline"] = runs[key][2] / baseline
    data = {
        "t": np.arange(1, config.length + 1),
        "profiles": {k: v[0] for k, v in runs.items()},
        "curves": {k: {"step": v[:, 0], "loss": v[:, 1]} for k, v in curves.items()},
        "baseline": baseline,
    }
    return Result(data=data, facts=facts)


PENALTY_STYLES = {
    "initial": (plotting.COLORS["grey"], "--", "at initialisation"),
    "loss only": (plotting.COLORS["orange"], "-", "trained on the loss only"),
    "loss + penalty": (plotting.COLORS["blue"], "-", "trained on loss + penalty"),
}


def plot_penalty(result: Result, axes) -> None:
    ax, ax_loss = axes
    t = np.asarray(result.data["t"])
    for key, profile in result.data["profiles"].items():
        color, ls, label = PENALTY_STYLES[key]
        ax.plot(t, profile, color=color, ls=ls, label=label)
    plotting.log_axis(ax)
    ax.set(
        xlabel="time step $t$",
        ylabel=r"$\|\partial E/\partial h_t\| \,/\, \|\partial E/\partial h_T\|$ (log scale)",
        title="Backward signal reaching step $t$",
    )
    ax.legend(loc="lower right", fontsize=8)
    for key, curve in result.data["curves"].items():
        color, ls, label = PENALTY_STYLES[key]
        ax_loss.plot(curve["step"], curve["loss"], color=color, ls=ls, label=label)
    ax_loss.axhline(
        result.data["baseline"],
        color=plotting.COLORS["black"],
        ls="--",
        lw=1.0,
        label="always answer 0: $1/(3T)$",
    )
    plotting.log_axis(ax_loss)
    ax_loss.set(
        xlabel="Adam step",
        ylabel="task loss on held-out sequences (MSE, log scale)",
        title="Task loss against the baseline",
    )
    ax_loss.legend(loc="lower left", fontsize=8)


#: What docs/05-taming-explosions.md says in words about the penalty experiment's published results.
PENALTY_CLAIMS = (
    Claim(
        "both runs learn the task: they end below half the baseline",
        lambda f: (
            max(
                f["penalty_task_loss_loss_only_vs_baseline"],
                f["penalty_task_loss_with_penalty_vs_baseline"],
            )
            < 0.5
        ),
    ),
    Claim(
        "the penalty keeps more of the signal at the first step than the loss alone",
        lambda f: (
            f["penalty_ratio_first_with_penalty"]
            > f["penalty_ratio_first_loss_only"]
            > f["penalty_ratio_first_initial"]
        ),
    ),
    Claim(
        "on this task the penalty left the task loss higher, not lower",
        lambda f: f["penalty_task_loss_with_penalty"] > f["penalty_task_loss_loss_only"],
    ),
)


FIGURES = [
    FigureSpec(
        name="l05_clip_geometry",
        compute=compute_clip_geometry,
        plot=plot_clip_geometry,
        config=GeometryConfig(),
        fast=GeometryConfig(n_angles=31),
        expected_s=0.5,
        expected_fast_s=0.5,
        panels=(1, 2),
        size=(8.0, 3.6),
        alt="Left: a gradient arrow g = ({config.example}) with the circle of norm {clip_threshold:g} and the square "
        "of entries between minus and plus {clip_threshold:g}. Norm clipping shortens the arrow onto the circle "
        "along the same line; value clipping moves its tip to the corner of the square, turning it by "
        "{value_clip_turn_deg:.0f} degrees to an angle of {value_clip_angle_deg:.0f} degrees. Right: cosine "
        "between the value-clipped and the original gradient against the gradient's direction, for lengths "
        "{config.sweep_norms}: it dips as low as {value_clip_min_cosine:.2f} away from the axes and the diagonal,"
        " while norm clipping stays at exactly {norm_clip_min_cosine_sweep:g}.",
    ),
    FigureSpec(
        name="l05_clip_cliff",
        compute=compute_clip_cliff,
        plot=plot_clip_cliff,
        config=ClipCliffConfig(),
        fast=ClipCliffConfig(n_starts=100, lrs=(3.0, 30.0), n_steps=200),
        expected_s=2.0,
        expected_fast_s=1.0,
        panels=(1, 2),
        size=(8.4, 3.7),
        alt="Left: fraction of {cliff_n_starts} random starts on the cliff problem that reach the minimum, against "
        "the learning rate from {cliff_lr_min:g} to {cliff_lr_max:g}, with and without gradient-norm clipping: at"
        " the largest rate {cliff_success_clipped:.0%} of the clipped runs succeed and "
        "{cliff_success_unclipped:.0%} of the unclipped ones; the best unclipped rate is "
        "{cliff_success_unclipped_best:.0%}. Right: the starts in the (w, b) plane marked by outcome at learning "
        "rate {cliff_headline_lr:g}, with the wall where b equals minus w over two.",
    ),
    FigureSpec(
        name="l05_truncation",
        compute=compute_truncation,
        plot=plot_truncation,
        config=TruncationConfig(),
        fast=TruncationConfig(
            delays=(5,), ks=(1, 2, 5, 12), seeds=2, length=16, hidden=16, steps=150
        ),
        expected_s=28.0,
        expected_fast_s=1.5,
        size=(6.4, 3.8),
        alt="Recall error against truncation length k on a log axis, for delays d = {truncation_delay_short} and d = "
        "{truncation_delay_long}, {truncation_seeds} networks each, with the chance level of "
        "{truncation_chance_error:g} dashed. For k from two up to the delay almost every network stays near "
        "chance ({truncation_short_solved_below} of {truncation_short_runs_below} runs learned the short delay, "
        "{truncation_long_solved_below} of {truncation_long_runs_below} the long one); from k = "
        "{truncation_short_first_k_all_solved} every network learns the short delay and from k = "
        "{truncation_long_first_k_all_solved} the long one. Dotted lines mark k = d. At k equal to one, "
        "{truncation_short_solved_k1} of {truncation_short_runs_k1} networks learned the short delay anyway.",
    ),
    FigureSpec(
        name="l05_penalty",
        compute=compute_penalty,
        claims=PENALTY_CLAIMS,
        plot=plot_penalty,
        config=PenaltyConfig(),
        fast=PenaltyConfig(hidden=16, length=20, steps=60, eval_every=20, eval_size=128),
        expected_s=12.0,
        expected_fast_s=1.5,
        panels=(1, 2),
        size=(8.4, 3.7),
        alt="Left: size of the backward signal at each of {penalty_length} time steps relative to the last step, on a"
        " log axis. At the first step it is {penalty_ratio_first_initial:.0e} at initialisation, "
        "{penalty_ratio_first_loss_only:.2g} after training on the loss alone, and "
        "{penalty_ratio_first_with_penalty:.2g} after training with Pascanu's regulariser. Right: the task loss "
        "on held-out sequences during {penalty_steps} training steps for both runs, against the dashed line of "
        "always answering zero at {penalty_baseline_mse:.4f}; they end at {penalty_task_loss_loss_only:.2g} "
        "without the penalty and {penalty_task_loss_with_penalty:.2g} with it.",
    ),
]
