"""Lesson 1: backpropagation through time (BPTT).

A recurrent network unrolled over T steps is a feed-forward network T layers deep whose layers all
share one set of weights. Backpropagation through that unrolled graph is BPTT. This module writes it
out by hand in numpy, checks it against ``torch.autograd`` in float64, draws the unrolled graph, and
measures how much each time step contributes to the gradient of the shared recurrent weight.

The sections between ``--8<--`` markers are embedded verbatim in ``docs/01-backprop-through-time.md``
and run, in order, as a reader would paste them (after the ``activations`` section of
``lessons_code/activations.py``): they need numpy, and torch for the autograd check.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.activations import ACTIVATIONS
from lessons_code.registry import Claim, FigureSpec, Result

# --8<-- [start:imports]
import numpy as np
import torch
# --8<-- [end:imports]


# --8<-- [start:forward]
def init_params(n_in, n_hidden, n_out, rng):
    """Weights drawn as PyTorch's nn.RNN draws them: uniform in [-1/sqrt(n_hidden), 1/sqrt(n_hidden)]."""
    k = 1.0 / np.sqrt(n_hidden)
    shapes = {
        "W_xh": (n_hidden, n_in),
        "W_hh": (n_hidden, n_hidden),
        "b": (n_hidden,),
        "W_hy": (n_out, n_hidden),
        "c": (n_out,),
    }
    return {name: rng.uniform(-k, k, size=shape) for name, shape in shapes.items()}


def forward(params, xs, h0, activation="tanh"):
    """Run h_t = phi(W_hh h_{t-1} + W_xh x_t + b) for t = 1..T, then read out y_hat = W_hy h_T + c.

    xs has shape (T, n_in); xs[t - 1] is x_t. Returns the pre-activations a and the states h, both of
    shape (T + 1, n_hidden) so that a[t] is a_t and h[t] is h_t (a[0] is unused, h[0] is h0), and y_hat.
    """
    phi = ACTIVATIONS[activation].phi
    T, n_hidden = len(xs), len(h0)
    a = np.full((T + 1, n_hidden), np.nan)
    h = np.empty((T + 1, n_hidden))
    h[0] = h0
    for t in range(1, T + 1):
        a[t] = params["W_hh"] @ h[t - 1] + params["W_xh"] @ xs[t - 1] + params["b"]
        h[t] = phi(a[t])
    y_hat = params["W_hy"] @ h[T] + params["c"]
    return a, h, y_hat


def loss(y_hat, y):
    """Squared error at the last step only: L = 1/2 ||y_hat - y||^2."""
    return 0.5 * np.sum((y_hat - y) ** 2)
    # --8<-- [end:forward]


# --8<-- [start:scalar]
def scalar_terms(w, h0, xs, y):
    """h_t = tanh(w h_{t-1} + x_t), t = 1..T, and L = (h_T - y)^2 / 2, by hand.

    Returns a, h and tp with a[t] = a_t, h[t] = h_t, tp[t] = tanh'(a_t), and
    the T terms of dL/dw. Term t is
    (h_T - y) * h_{t-1} * w^(T-t) * tanh'(a_t) * ... * tanh'(a_T).
    """
    T = len(xs)
    a, h = [np.nan], [h0]  # a[0] is unused, h[0] is h_0
    for x in xs:
        a.append(w * h[-1] + x)
        h.append(np.tanh(a[-1]))
    tp = [np.nan] + [1 - np.tanh(a_t) ** 2 for a_t in a[1:]]
    terms = [(h[T] - y) * h[t - 1] * w ** (T - t) * np.prod(tp[t:]) for t in range(1, T + 1)]
    return a, h, tp, terms
    # --8<-- [end:scalar]


# --8<-- [start:bptt]
def bptt(params, xs, h0, y, activation="tanh"):
    """The gradient of the loss with respect to every parameter and h0, by the chain rule, by hand.

    Returns (L, grads, per_step): per_step[t - 1] is time step t's term delta_t h_{t-1}^T in the
    sum that makes up dL/dW_hh.
    """
    phi_prime = ACTIVATIONS[activation].prime
    a, h, y_hat = forward(params, xs, h0, activation)
    T = len(xs)
    err = y_hat - y  # dL/dy_hat
    grads = {
        "W_hy": np.outer(err, h[T]),
        "c": err,
        "W_xh": np.zeros_like(params["W_xh"]),
        "b": np.zeros_like(params["b"]),
    }
    per_step = np.empty((T, *params["W_hh"].shape))
    dh = params["W_hy"].T @ err  # dL/dh_T: where the backward pass starts
    for t in range(T, 0, -1):
        delta = phi_prime(a[t]) * dh  # dL/da_t = diag(phi'(a_t)) dL/dh_t
        per_step[t - 1] = np.outer(delta, h[t - 1])  # step t's share of dL/dW_hh
        grads["W_xh"] += np.outer(delta, xs[t - 1])
        grads["b"] += delta
        dh = params["W_hh"].T @ delta  # dL/dh_{t-1} = (diag(phi'(a_t)) W_hh)^T dL/dh_t
    # the weight is shared, so its gradient is a sum over steps
    grads["W_hh"] = per_step.sum(axis=0)
    grads["h0"] = dh
    return loss(y_hat, y), grads, per_step
    # --8<-- [end:bptt]


# --8<-- [start:autograd]
TORCH_ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def autograd_gradients(params, xs, h0, y, activation="tanh"):
    """The same loss written in torch (float64); torch.autograd finds the gradients."""
    phi = TORCH_ACTIVATIONS[activation]
    leaves = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in {**params, "h0": h0}.items()
    }
    h = leaves["h0"]
    for x in torch.tensor(xs, dtype=torch.float64):
        h = phi(leaves["W_hh"] @ h + leaves["W_xh"] @ x + leaves["b"])
    y_hat = leaves["W_hy"] @ h + leaves["c"]
    L = 0.5 * torch.sum((y_hat - torch.tensor(y, dtype=torch.float64)) ** 2)
    L.backward()
    return L.item(), {name: leaf.grad.numpy() for name, leaf in leaves.items()}


def max_gradient_difference(params, xs, h0, y, activation="tanh"):
    """Largest absolute difference between any hand-written and any autograd gradient entry."""
    _, by_hand, _ = bptt(params, xs, h0, y, activation)
    _, by_autograd = autograd_gradients(params, xs, h0, y, activation)
    return max(np.max(np.abs(by_hand[name] - by_autograd[name])) for name in by_autograd)
    # --8<-- [end:autograd]


# --8<-- [start:contributions]
def contribution_norms(params, xs, h0, y, activation="tanh"):
    """||delta_t h_{t-1}^T|| (Frobenius norm) for t = 1..T: how much each step adds to dL/dW_hh."""
    _, _, per_step = bptt(params, xs, h0, y, activation)
    return np.linalg.norm(per_step, axis=(1, 2))
    # --8<-- [end:contributions]


# ---------------------------------------------------------------- figure l01_scalar
@dataclass(frozen=True)
class ScalarConfig:
    """The three-step example worked by hand on the page (docs/01 quotes every number through facts)."""

    w: float = 0.8  # the one recurrent weight
    h0: float = 0.6  # the state before the first step
    xs: tuple[float, ...] = (0.3, 0.5, 0.2)  # inputs x_1, x_2, x_3
    y: float = 0.0  # the target of h_3

    def __post_init__(self) -> None:
        # the page writes its formulas for T = 3
        if not isinstance(self.xs, tuple) or len(self.xs) != 3:
            raise ValueError(
                f"ScalarConfig.xs must be a tuple of exactly 3 inputs, got {self.xs!r}"
            )
        for name in ("w", "h0", "y", "xs"):
            values = getattr(self, name) if name == "xs" else (getattr(self, name),)
            if any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v)
                for v in values
            ):
                raise ValueError(
                    f"ScalarConfig.{name} must hold finite numbers, got {getattr(self, name)!r}"
                )


def scalar_autograd(w, h0, xs, y):
    """dL/dw of the same scalar network, found by torch.autograd in float64: the independent check."""
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    h = torch.tensor(h0, dtype=torch.float64)
    for x in xs:
        h = torch.tanh(w * h + x)
    (0.5 * (h - y) ** 2).backward()
    return w.grad.item()


def compute_scalar(config: ScalarConfig, rng: np.random.Generator) -> Result:
    a, h, tp, terms = scalar_terms(config.w, config.h0, config.xs, config.y)
    T = len(config.xs)
    by_autograd = scalar_autograd(config.w, config.h0, config.xs, config.y)
    difference = abs(sum(terms) - by_autograd)
    if difference > AUTOGRAD_TOLERANCE:  # the build fails rather than show a wrong worked example
        raise ValueError(f"the hand-worked dL/dw differs from autograd by {difference:.3g}")
    facts = {
        "scalar_steps": T,
        "scalar_w": config.w,
        "scalar_h0": config.h0,
        "scalar_y": config.y,
        "scalar_error": float(h[T] - config.y),
        "scalar_loss": float(0.5 * (h[T] - config.y) ** 2),
        "scalar_grad": float(sum(terms)),
        "scalar_grad_autograd": by_autograd,
        "scalar_autograd_diff": float(difference),
        "scalar_autograd_tolerance": AUTOGRAD_TOLERANCE,
    }
    for t in range(1, T + 1):
        facts.update(
            {
                f"scalar_x{t}": config.xs[t - 1],
                f"scalar_a{t}": float(a[t]),
                f"scalar_h{t}": float(h[t]),
                f"scalar_tanh_prime{t}": float(tp[t]),
                f"scalar_w_power{t}": float(config.w ** (T - t)),  # w^(T-t)
                # tanh'(a_t) ... tanh'(a_T)
                f"scalar_tanh_prime_product{t}": float(np.prod(tp[t:])),
                f"scalar_term{t}": float(terms[t - 1]),
                # What the error is multiplied by when it goes back from h_t to h_{t-1}: dh_t/dh_{t-1}.
                f"scalar_step_factor{t}": float(config.w * tp[t]),
            }
        )
    return Result(
        data={
            "t": np.arange(1, T + 1),
            "h_prev": np.array(h[:T]),
            "w_power": config.w ** (T - np.arange(1, T + 1)),
            "tanh_prime_product": np.array([np.prod(tp[t:]) for t in range(1, T + 1)]),
            "terms": np.array(terms),
            "error": float(h[T] - config.y),
            "grad_autograd": by_autograd,
        },
        facts=facts,
    )


def plot_scalar(result: Result, ax) -> None:
    d = result.data
    t, terms = np.asarray(d["t"]), np.asarray(d["terms"])
    T, total = len(t), float(np.sum(d["terms"]))
    blue, grey, orange = plotting.COLORS["blue"], plotting.COLORS["grey"], plotting.COLORS["orange"]
    ax.set_axisbelow(True)  # grid lines behind the bars
    ax.bar(
        t,
        terms,
        width=0.6,
        color=blue,
        label=rf"term $t$ $= (h_{T} - y)\, h_{{t-1}}\, w^{{{T}-t}}\, \tanh′(a_t) \cdots \tanh′(a_{T})$",
    )
    ax.bar([T + 1.3], [total], width=0.6, color=grey, label="sum of the terms")
    ax.hlines(
        d["grad_autograd"],
        T + 0.9,
        T + 1.7,
        color=orange,
        lw=3,
        zorder=3,
        label=r"$\partial L/\partial w$ from autograd (float64)",
    )
    top = max(total, float(terms.max()))
    for x, term, h_prev, power, prod in zip(
        t, terms, d["h_prev"], d["w_power"], d["tanh_prime_product"]
    ):
        # The factors of each term in the order of the legend's formula, then the term itself.
        ax.text(
            x,
            term + 0.03 * top,
            f"{d['error']:.3f}\n× {h_prev:.3f}\n× {power:.3g}\n× {prod:.3f}\n= {term:.3f}",
            ha="center",
            va="bottom",
            fontsize=8.5,
            color=plotting.INK,
            linespacing=1.15,
        )
    ax.text(
        T + 1.3,
        total + 0.03 * top,
        f"{total:.4f}",
        ha="center",
        va="bottom",
        fontsize=8.5,
        color=plotting.INK,
    )
    ax.set_xticks(list(t) + [T + 1.3], [f"$t = {x}$" for x in t] + ["sum"])
    ax.set_ylim(min(0.0, float(terms.min())) * 1.1, top * 1.9)
    ax.set_ylabel(r"contribution to $\partial L/\partial w$")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left")


#: What docs/01 says in words about the worked example (checked on the published numbers).
SCALAR_CLAIMS = (
    Claim(
        "the further back the step, the smaller its term: each step back adds a factor w tanh'(a_k) below 1",
        lambda f: (
            abs(f["scalar_term1"]) < abs(f["scalar_term2"]) < abs(f["scalar_term3"])
            and all(abs(f[f"scalar_step_factor{k}"]) < 1 for k in range(2, f["scalar_steps"] + 1))
        ),
    ),
)


# ---------------------------------------------------------------- figure l01_unrolled
@dataclass(frozen=True)
class UnrolledConfig:
    n_steps: int = 4  # time steps drawn; the diagram stays legible up to MAX_DRAWN_STEPS

    def __post_init__(self) -> None:
        validation.positive_ints(self, "n_steps")
        if self.n_steps > MAX_DRAWN_STEPS:
            raise ValueError(
                f"UnrolledConfig.n_steps must be at most {MAX_DRAWN_STEPS} to stay legible, "
                f"got {self.n_steps!r}"
            )


MAX_DRAWN_STEPS = 6
# Rows of the diagram (data coordinates): inputs at the bottom, states in the middle, loss on top.
ROW_X, ROW_H, ROW_L = 0.0, 1.5, 3.0


def compute_unrolled(config: UnrolledConfig, rng: np.random.Generator) -> Result:
    """The unrolled graph as nodes (name, x, y, label) and edges (source, target, kind, label)."""
    T = config.n_steps
    nodes = [{"name": "h0", "x": 0.0, "y": ROW_H, "label": "$h_0$"}]
    edges = []
    for t in range(1, T + 1):
        nodes.append({"name": f"x{t}", "x": float(t), "y": ROW_X, "label": f"$x_{t}$"})
        nodes.append({"name": f"h{t}", "x": float(t), "y": ROW_H, "label": f"$h_{t}$"})
        edges.append({"source": f"x{t}", "target": f"h{t}", "kind": "input", "label": r"$W_{xh}$"})
        edges.append(
            {"source": f"h{t - 1}", "target": f"h{t}", "kind": "recurrent", "label": r"$W_{hh}$"}
        )
        # The backward pass crosses the same edge the other way, multiplying by J_t^T.
        edges.append(
            {
                "source": f"h{t}",
                "target": f"h{t - 1}",
                "kind": "backward",
                "label": f"$J_{t}^\\top$",
            }
        )
    nodes.append({"name": "L", "x": float(T), "y": ROW_L, "label": "$L$"})
    edges.append({"source": f"h{T}", "target": "L", "kind": "readout", "label": r"$W_{hy}$"})
    edges.append(
        {
            "source": "L",
            "target": f"h{T}",
            "kind": "backward",
            "label": r"$\partial L/\partial h_T$",
        }
    )
    n_weights = sum(e["kind"] == "recurrent" for e in edges)
    return Result(
        data={"nodes": nodes, "edges": edges},
        facts={"n_steps": T, "n_recurrent_edges": n_weights, "n_recurrent_matrices": 1},
    )


def plot_unrolled(result: Result, ax) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyArrowPatch

    nodes = {n["name"]: n for n in result.data["nodes"]}
    radius = 0.24
    fill = {"x": "#E8F1F8", "h": "#FFFFFF", "L": "#FBE9DF"}
    for n in nodes.values():
        kind = n["name"][0]
        edge = plotting.COLORS["orange"] if kind == "L" else plotting.INK
        ax.add_patch(
            Circle((n["x"], n["y"]), radius, facecolor=fill[kind], edgecolor=edge, lw=1.3, zorder=3)
        )
        ax.text(n["x"], n["y"], n["label"], ha="center", va="center", fontsize=11, zorder=4)

    forward_color, backward_color = plotting.COLORS["blue"], plotting.COLORS["orange"]
    for e in result.data["edges"]:
        s, d = nodes[e["source"]], nodes[e["target"]]
        if e["kind"] == "backward" and e["source"] != "L":
            # Arc above the forward arrow, from h_t back to h_{t-1}.
            arrow = FancyArrowPatch(
                (s["x"] - 0.12, s["y"] + radius),
                (d["x"] + 0.12, d["y"] + radius),
                connectionstyle="arc3,rad=0.55",
                arrowstyle="-|>",
                mutation_scale=12,
                color=backward_color,
                lw=2.0,
                zorder=2,
            )
            ax.add_patch(arrow)
            ax.text(
                (s["x"] + d["x"]) / 2,
                s["y"] + 0.62,
                e["label"],
                ha="center",
                va="bottom",
                color=backward_color,
                fontsize=10,
            )
            continue
        if e["kind"] == "backward":  # L -> h_T, to the right of the readout arrow
            ax.add_patch(
                FancyArrowPatch(
                    (s["x"] + radius, s["y"]),
                    (d["x"] + 0.12, d["y"] + radius),
                    connectionstyle="arc3,rad=-0.5",
                    arrowstyle="-|>",
                    mutation_scale=12,
                    color=backward_color,
                    lw=2.0,
                    zorder=2,
                )
            )
            ax.text(
                s["x"] + 0.62,
                (s["y"] + d["y"]) / 2,
                e["label"],
                ha="left",
                va="center",
                color=backward_color,
                fontsize=10,
            )
            continue
        color = forward_color if e["kind"] == "recurrent" else plotting.COLORS["grey"]
        direction = np.array([d["x"] - s["x"], d["y"] - s["y"]])
        direction /= np.linalg.norm(direction)
        start = np.array([s["x"], s["y"]]) + (radius + 0.02) * direction
        end = np.array([d["x"], d["y"]]) - (radius + 0.02) * direction
        ax.add_patch(
            FancyArrowPatch(
                tuple(start),
                tuple(end),
                shrinkA=0,
                shrinkB=0,
                arrowstyle="-|>",
                mutation_scale=11,
                color=color,
                lw=1.4,
                zorder=1,
            )
        )
        mx, my = (s["x"] + d["x"]) / 2, (s["y"] + d["y"]) / 2
        if e["kind"] == "recurrent":
            ax.text(
                mx, my - 0.1, e["label"], ha="center", va="top", color=forward_color, fontsize=10
            )
        else:
            ax.text(mx - 0.07, my, e["label"], ha="right", va="center", color=color, fontsize=9)

    xs = [n["x"] for n in nodes.values()]
    ax.set_xlim(min(xs) - 0.45, max(xs) + 1.45)
    ax.set_ylim(ROW_X - 0.4, ROW_L + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [
        Line2D(
            [], [], color=forward_color, lw=1.4, label=r"forward: the same $W_{hh}$ at every step"
        ),
        Line2D(
            [],
            [],
            color=backward_color,
            lw=2.0,
            label=r"backward: $J_t^\top$, with $J_t = \mathrm{diag}(\phi′(a_t))\,W_{hh}$",
        ),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=9)


# ---------------------------------------------------------------- figure l01_contributions
@dataclass(frozen=True)
class ContributionsConfig:
    seq_len: int = 50  # T: steps the network reads before the loss is computed at the last one
    n_in: int = 4  # input size
    hidden: int = 32  # hidden units
    activation: str = "tanh"  # one of ACTIVATIONS
    n_sequences: int = 20  # random input sequences; the bars are the mean over them
    tail: int = 5  # the prose quotes the share of the last `tail` steps

    def __post_init__(self) -> None:
        validation.positive_ints(self, "seq_len", "n_in", "hidden", "n_sequences", "tail")
        validation.one_of(self, "activation", ACTIVATIONS)
        if self.tail > self.seq_len:
            raise ValueError(f"ContributionsConfig.tail must be at most seq_len, got {self.tail!r}")


#: The hand-written gradients must agree with autograd to this absolute tolerance (float64).
AUTOGRAD_TOLERANCE = 1e-10


def compute_contributions(config: ContributionsConfig, rng: np.random.Generator) -> Result:
    params = init_params(config.n_in, config.hidden, 1, rng)
    norms = np.empty((config.n_sequences, config.seq_len))
    worst_difference = 0.0
    for i in range(config.n_sequences):
        xs = rng.normal(size=(config.seq_len, config.n_in))
        h0 = np.tanh(rng.normal(size=config.hidden))  # a state left over from earlier input
        y = rng.normal(size=1)
        norms[i] = contribution_norms(params, xs, h0, y, config.activation)
        # the hand-written gradients are checked against autograd every time the figure is built
        if i == 0:
            worst_difference = max(
                float(max_gradient_difference(params, xs, h0, y, name)) for name in ACTIVATIONS
            )
            if worst_difference > AUTOGRAD_TOLERANCE:
                raise ValueError(
                    f"hand-written BPTT differs from autograd by {worst_difference:.3g}"
                )
    mean = norms.mean(axis=0)
    # each sequence's split of the total over steps
    share = norms / norms.sum(axis=1, keepdims=True)
    facts = {
        "seq_len": config.seq_len,
        "hidden": config.hidden,
        "n_sequences": config.n_sequences,
        "tail": config.tail,
        "last_step_mean": float(mean[-1]),
        "first_step_mean": float(mean[0]),
        "first_to_last_ratio": float(mean[0] / mean[-1]),
        "share_last_steps": float(share[:, -config.tail :].sum(axis=1).mean()),
        "share_first_half": float(share[:, : config.seq_len // 2].sum(axis=1).mean()),
        "w_hh_spectral_radius": float(np.max(np.abs(np.linalg.eigvals(params["W_hh"])))),
        "w_hh_sigma_max": float(np.linalg.norm(params["W_hh"], 2)),
        "autograd_max_abs_diff": worst_difference,  # over all entries of all gradients, for every activation
        "autograd_tolerance": AUTOGRAD_TOLERANCE,
    }
    data = {
        "t": np.arange(1, config.seq_len + 1),
        "mean_norm": mean,
        "min_norm": norms.min(axis=0),
        "max_norm": norms.max(axis=0),
    }
    return Result(data=data, facts=facts)


def plot_contributions(result: Result, ax) -> None:
    t, mean = result.data["t"], result.data["mean_norm"]
    ax.bar(t, mean, width=0.8, color=plotting.COLORS["blue"], label="mean over sequences")
    ax.vlines(
        t,
        result.data["min_norm"],
        result.data["max_norm"],
        color=plotting.COLORS["grey"],
        lw=0.8,
        label="range over sequences",
    )
    plotting.log_axis(ax)
    ax.set_xlim(0, t[-1] + 1)
    ax.set(
        xlabel="time step $t$ (the loss is measured at the last step)",
        ylabel=r"$\|\delta_t\, h_{t-1}^\top\|_F$ (log scale)",
    )
    ax.legend(loc="upper left")


FIGURES = [
    FigureSpec(
        name="l01_scalar",
        compute=compute_scalar,
        plot=plot_scalar,
        config=ScalarConfig(),
        fast=ScalarConfig(),  # already instant: the fast preset is the example itself
        expected_s=0.5,
        expected_fast_s=0.5,
        size=(6.4, 3.8),
        claims=SCALAR_CLAIMS,
        alt="Bar chart of the {scalar_steps} terms of the gradient of the loss with respect to the single recurrent "
        "weight w of a scalar tanh network, one bar per time step, each labelled with its four factors: the error "
        "at the last step, the state before step t, a power of w and the product of tanh derivatives from step t "
        "to the end. The terms grow from the first step to the last: {scalar_term1:.3f}, {scalar_term2:.3f} and "
        "{scalar_term3:.3f}. A grey bar shows their sum, {scalar_grad:.4f}, and an orange mark on it the value "
        "autograd finds, {scalar_grad_autograd:.4f}.",
    ),
    FigureSpec(
        name="l01_unrolled",
        compute=compute_unrolled,
        plot=plot_unrolled,
        config=UnrolledConfig(),
        fast=UnrolledConfig(n_steps=3),
        expected_s=0.5,
        expected_fast_s=0.5,
        size=(7.2, 3.4),
        alt="Diagram of a recurrent network unrolled over {n_steps} time steps. A row of input nodes, one per step, "
        "feeds a row of hidden states that starts at h0; blue arrows labelled W_hh join each state to the next, "
        "and the loss L sits above the last state. Orange arrows run the other way: from L down to the last "
        "state, then in arcs from each state back to the one before, each labelled with the transposed Jacobian "
        "J_t.",
    ),
    FigureSpec(
        name="l01_contributions",
        compute=compute_contributions,
        plot=plot_contributions,
        config=ContributionsConfig(),
        fast=ContributionsConfig(seq_len=15, hidden=8, n_sequences=4),
        expected_s=1.0,
        expected_fast_s=1.0,
        size=(6.4, 3.6),
        alt="Bar chart on a logarithmic axis of how much each of {seq_len} time steps contributes to the gradient of "
        "the recurrent weight matrix, for a freshly initialised tanh network with the loss at the last step. The "
        "bars fall from the last step to the first: on average over {n_sequences} random input sequences, whose "
        "range thin grey lines show, the first step contributes {first_to_last_ratio:.1e} times as much as the "
        "last.",
    ),
]
