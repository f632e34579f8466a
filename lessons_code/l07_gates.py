"""Lesson 7: gates. The LSTM's cell state, the GRU, and the adding problem as the headline comparison.

The sections between ``--8<--`` markers are embedded verbatim in ``docs/07-gates.md`` and run, in order,
as a reader would paste them, after the core sections the page embeds before them (the models of
``lessons_code/models.py``, the adding problem of ``tasks.py``, the loop and monitors of ``training.py``).

On speed. Training dominates this module's cost, so we measured the alternatives on the 2-core machines
that build the site (H = 64, batch 32, T = 100). Stacking several seeds into one wide module with
block-diagonal weights made an LSTM step cost more than running the seeds one after the other (the
fused LSTM kernel is fast at H = 64 and the wide matrices do S times the arithmetic for nothing), and
``torch.func.vmap`` over ``nn.LSTM`` falls back to a slow loop (there is no batching rule for the fused
kernel). A wide model also lets one diverging seed poison the others (0 * NaN = NaN). So each seed is
trained on its own, with the fused ``nn`` modules, and every run stops as soon as it has solved the task.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

from lessons_code import plotting, validation
from lessons_code.activations import sigmoid
from lessons_code.models import CORES, LastStepRegressor, lstm, tanh_rnn
from lessons_code.tasks import ADDING_BASELINE_MSE, adding_problem
from lessons_code.training import gradient_ratio_by_lag, train
from lessons_code.registry import Claim, FigureSpec, Result

# --8<-- [start:imports]
import math

import numpy as np
import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:lstm_step]
def lstm_gates(lstm: nn.LSTM, x_t: torch.Tensor, h: torch.Tensor):
    """One step's gates from nn.LSTM's own weights: (i_t, f_t, g_t, o_t)."""
    gates = x_t @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    i, f, g, o = gates.chunk(4, dim=-1)  # PyTorch's order: input, forget, candidate, output
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def lstm_step(lstm: nn.LSTM, x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
    """One LSTM step written out with nn.LSTM's own weights; returns (h_t, c_t, f_t)."""
    i, f, g, o = lstm_gates(lstm, x_t, h)
    c = f * c + i * g  # the cell state: old content scaled by f, new content added
    h = o * torch.tanh(c)  # what the rest of the network sees
    return h, c, f
    # --8<-- [end:lstm_step]


# --8<-- [start:cell_gradient]
def cell_gradient_by_lag(lstm: nn.LSTM, x: torch.Tensor, readout: torch.Tensor):
    """For L = sum over the batch of readout . c_T, two curves against lag k = 0..T-1 (medians over the batch):

    - measured: ||dL/dc_{T-k}|| / ||dL/dc_T||, by autograd through every path;
    - forget-only: ||(f_T * f_{T-1} * ... * f_{T-k+1}) * readout|| / ||readout||, the additive path alone.
    """
    batch, steps, _ = x.shape
    h = torch.zeros(batch, lstm.hidden_size, dtype=x.dtype)
    c = torch.zeros_like(h)
    cells, forgets = [], []
    for t in range(steps):
        h, c, f = lstm_step(lstm, x[:, t], h, c)
        cells.append(c)
        forgets.append(f.detach())
    grads = torch.autograd.grad((cells[-1] @ readout).sum(), cells)
    measured = torch.stack([g.norm(dim=-1) for g in grads]).flip(0) / readout.norm()  # row k: lag k
    products = torch.cumprod(torch.stack(forgets).flip(0), dim=0)  # row k: f_T * ... * f_{T-k}
    products = torch.cat([torch.ones_like(products[:1]), products[:-1]])  # row k: k factors
    forget_only = (products * readout).norm(dim=-1) / readout.norm()
    return measured.median(dim=1).values.numpy(), forget_only.median(dim=1).values.numpy()
    # --8<-- [end:cell_gradient]


# --8<-- [start:models]
def adding_model(kind: str, hidden: int, forget_bias: float = 1.0) -> LastStepRegressor:
    """One of the four contestants (a core from CORES) with a linear readout at the last step."""
    core = lstm(2, hidden, forget_bias) if kind == "lstm" else CORES[kind](2, hidden)
    return LastStepRegressor(core)
    # --8<-- [end:models]


# --8<-- [start:train]
def train_on_adding(
    model, lr, max_steps, batch, seq_len, max_norm, eval_every, stop_mse, test, rng
):
    """Adam with gradient-norm clipping on fresh adding problems. The MSE on the fixed test set is logged
    every `eval_every` steps; training stops once it is at most stop_mse, or at the first step whose loss
    or gradient is not finite."""
    x_test, y_test = test
    return train(
        model,
        lambda: adding_problem(batch, seq_len, rng),
        lambda m, x, y: ((m(x) - y) ** 2).mean(),
        torch.optim.Adam(model.parameters(), lr=lr),
        max_steps,
        max_norm=max_norm,
        evaluate=lambda m: ((m(x_test) - y_test) ** 2).mean().item(),
        eval_every=eval_every,
        stop=lambda mse: mse <= stop_mse,
    )
    # --8<-- [end:train]


# --8<-- [start:gate_trace]
def gate_trace(lstm: nn.LSTM, x: torch.Tensor):
    """Input gate, forget gate and cell state of every unit at every step, for
    inputs x of shape (batch, T, inputs): three tensors (batch, T, hidden)."""
    h = torch.zeros(x.shape[0], lstm.hidden_size, dtype=x.dtype)
    c = torch.zeros_like(h)
    inputs, forgets, cells = [], [], []
    with torch.no_grad():
        for t in range(x.shape[1]):
            # lstm_step returns f_t but not i_t, so i_t is read from the gates
            i, _, _, _ = lstm_gates(lstm, x[:, t], h)
            h, c, f = lstm_step(lstm, x[:, t], h, c)
            inputs.append(i)
            forgets.append(f)
            cells.append(c)
    return torch.stack(inputs, 1), torch.stack(forgets, 1), torch.stack(cells, 1)


def unit_contributions(model: LastStepRegressor, x: torch.Tensor):
    """For each unit j, how much its share w_j h_T,j of the prediction varies
    over the sequences x (its standard deviation)."""
    with torch.no_grad():
        outputs, _ = model.core(x)
        return (outputs[:, -1] * model.head.weight[0]).std(dim=0)
    # --8<-- [end:gate_trace]


# ---------------------------------------------------------------- figure l07_lstm_cell
@dataclass(frozen=True)
class LstmCellConfig:
    inputs: int = 2  # size of x_t of the random nn.LSTM the drawing is checked against
    hidden: int = 5  # its number of units
    batch: int = 3  # random (x_t, h_{t-1}, c_{t-1}) triples it is checked on

    def __post_init__(self) -> None:
        validation.positive_ints(self, "inputs", "hidden", "batch")


#: PyTorch stores an LSTM's four weight blocks in this order (input, forget, candidate, output).
BLOCK = {"i": 0, "f": 1, "g": 2, "o": 3}
# rows of the drawing (data coordinates)
CELL_Y, WRITE_Y, GATE_Y, BUS_Y, OUT_Y = (
    4.2,
    3.15,
    2.0,
    0.75,
    0.0,
)


def lstm_cell_diagram() -> tuple[list[dict], list[dict]]:
    """The LSTM step as a graph to draw: nodes in the order they are computed, and wires (edges) between
    them, each with the corners it is drawn through. Edges on the cell state's additive path are marked."""
    gate_x = {"f": 2.4, "i": 3.9, "g": 5.3, "o": 7.0}
    side = 8.5  # the column where the cell state turns down to make h_t
    names = {"f": "forget", "i": "input", "g": "candidate", "o": "output"}
    nodes = [
        {"name": "c_prev", "kind": "input", "x": 0.2, "y": CELL_Y, "label": "$c_{t-1}$"},
        {"name": "h_prev", "kind": "input", "x": 0.2, "y": BUS_Y, "label": "$h_{t-1}$"},
        {"name": "x", "kind": "input", "x": 1.3, "y": -0.55, "label": "$x_t$"},
        {"name": "concat", "kind": "junction", "x": 1.3, "y": BUS_Y, "label": ""},
        *(
            {
                "name": g,
                "kind": "gate",
                "x": gate_x[g],
                "y": GATE_Y,
                "block": BLOCK[g],
                "op": "tanh" if g == "g" else "sigmoid",
                "label": "tanh" if g == "g" else r"$\sigma$",
                "role": names[g],
                "symbol": f"${g}_t$",
            }
            for g in ("f", "i", "g", "o")
        ),
        {
            "name": "forget_mul",
            "kind": "op",
            "op": "mul",
            "x": gate_x["f"],
            "y": CELL_Y,
            "label": "×",
        },
        {
            "name": "write_mul",
            "kind": "op",
            "op": "mul",
            "x": gate_x["g"],
            "y": WRITE_Y,
            "label": "×",
        },
        {"name": "add", "kind": "op", "op": "add", "x": gate_x["g"], "y": CELL_Y, "label": "+"},
        {"name": "tanh_c", "kind": "op", "op": "tanh", "x": side, "y": WRITE_Y, "label": "tanh"},
        {"name": "out_mul", "kind": "op", "op": "mul", "x": side, "y": GATE_Y, "label": "×"},
        {"name": "c", "kind": "output", "x": 10.0, "y": CELL_Y, "label": "$c_t$"},
        {"name": "h", "kind": "output", "x": 10.0, "y": OUT_Y, "label": "$h_t$"},
    ]
    at = {n["name"]: (n["x"], n["y"]) for n in nodes}

    def wire(source, target, *corners, cell=False, branch=False):
        """branch: the wire leaves another wire at its first corner (it is drawn from there, with a dot)."""
        return {
            "source": source,
            "target": target,
            "points": [at[source], *corners, at[target]],
            "cell": cell,
            "branch": branch,
        }

    edges = [
        wire("c_prev", "forget_mul", cell=True),
        wire("forget_mul", "add", cell=True),
        wire("add", "c", cell=True),
        wire("h_prev", "concat"),
        wire("x", "concat"),
        # One wire runs from the junction to the output gate; the other gates tap it.
        *(wire("concat", g, (gate_x[g], BUS_Y), branch=g != "o") for g in ("f", "i", "g", "o")),
        wire("f", "forget_mul"),
        wire("i", "write_mul", (gate_x["i"], WRITE_Y)),
        wire("g", "write_mul"),
        wire("write_mul", "add"),
        wire("add", "tanh_c", (side, CELL_Y), branch=True),
        wire("o", "out_mul"),
        wire("tanh_c", "out_mul"),
        wire("out_mul", "h", (side, OUT_Y)),
    ]
    return nodes, edges


def run_diagram(nodes, edges, lstm: nn.LSTM, x_t, h, c):
    """Compute one LSTM step by following the drawing: every node applies its operation to the wires that
    enter it, and each gate reads its own block of nn.LSTM's weights. Returns every node's value."""
    values = {"c_prev": c, "h_prev": h, "x": x_t}
    H = lstm.hidden_size
    for node in nodes:
        name, kind = node["name"], node["kind"]
        sources = [e["source"] for e in edges if e["target"] == name]
        if kind == "input":
            continue
        if kind == "junction":  # the wires it joins, by name: the gates need to know which is which
            values[name] = {source: values[source] for source in sources}
        elif kind == "gate":
            (joined,) = (values[source] for source in sources)
            rows = slice(node["block"] * H, (node["block"] + 1) * H)
            pre = (
                joined["x"] @ lstm.weight_ih_l0[rows].T
                + lstm.bias_ih_l0[rows]
                + joined["h_prev"] @ lstm.weight_hh_l0[rows].T
                + lstm.bias_hh_l0[rows]
            )
            values[name] = torch.tanh(pre) if node["op"] == "tanh" else torch.sigmoid(pre)
        elif kind == "op":
            operands = [values[source] for source in sources]
            if node["op"] == "tanh":
                (operand,) = operands
                values[name] = torch.tanh(operand)
            else:
                values[name] = math.prod(operands) if node["op"] == "mul" else sum(operands)
        else:  # an output shows the value of the one wire that enters it
            (source,) = sources
            values[name] = values[source]
    return values


def compute_lstm_cell(config: LstmCellConfig, rng: np.random.Generator) -> Result:
    nodes, edges = lstm_cell_diagram()
    # The drawing is checked against the code every time it is built: a random LSTM, stepped once by
    # following the wires and once by lstm_step, must agree, so a miswired diagram fails the build.
    cell = nn.LSTM(config.inputs, config.hidden, batch_first=True).double()
    x_t, h, c = (
        torch.from_numpy(rng.standard_normal((config.batch, n)))
        for n in (config.inputs, config.hidden, config.hidden)
    )
    with torch.no_grad():
        drawn = run_diagram(nodes, edges, cell, x_t, h, c)
        h_t, c_t, f_t = lstm_step(cell, x_t, h, c)
    difference = max(
        (drawn["h"] - h_t).abs().max().item(),
        (drawn["c"] - c_t).abs().max().item(),
        (drawn["f"] - f_t).abs().max().item(),
    )
    if difference > 1e-12:
        raise ValueError(
            f"the drawn LSTM cell computes something else than lstm_step (difference {difference:.3g})"
        )
    path = [e for e in edges if e["cell"]]
    facts = {
        "n_gates": sum(n["kind"] == "gate" and n["op"] == "sigmoid" for n in nodes),
        "n_weight_blocks": sum(n["kind"] == "gate" for n in nodes),
        "cell_path_ops": len(path) - 1,
        "wiring_max_abs_diff": difference,
    }
    return Result(data={"nodes": nodes, "edges": edges}, facts=facts)


def plot_lstm_cell(result: Result, ax) -> None:
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    nodes = {n["name"]: n for n in result.data["nodes"]}
    ink, orange, blue, green = (
        plotting.INK,
        plotting.COLORS["orange"],
        plotting.COLORS["blue"],
        plotting.COLORS["green"],
    )
    tint = lambda color: matplotlib.colors.to_hex(  # noqa: E731 - a light fill of a palette colour, on the card
        0.85 * np.array(matplotlib.colors.to_rgb(plotting.CARD))
        + 0.15 * np.array(matplotlib.colors.to_rgb(color))
    )
    radius, box_w, box_h = 0.27, 1.05, 0.72

    def clearance(node, direction) -> float:
        """How far from a node's centre a wire arriving along `direction` (a unit vector) has to stop."""
        if node["kind"] == "gate":
            return box_h / 2 if abs(direction[1]) > abs(direction[0]) else box_w / 2
        return {"op": radius, "junction": 0.07}.get(node["kind"], 0.32)

    for e in result.data["edges"]:
        points = np.array(e["points"], dtype=float)
        color, lw = (orange, 4.0) if e["cell"] else (ink, 1.3)
        if e["branch"]:  # drawn from where it leaves the other wire, marked with a dot
            points = points[1:]
            ax.add_patch(
                Circle(
                    tuple(points[0]),
                    0.07,
                    color=ink if e["source"] == "concat" else orange,
                    zorder=2,
                )
            )
        start_dir = (points[1] - points[0]) / np.linalg.norm(points[1] - points[0])
        end_dir = (points[-1] - points[-2]) / np.linalg.norm(points[-1] - points[-2])
        if not e["branch"]:
            points[0] += clearance(nodes[e["source"]], start_dir) * start_dir
        points[-1] -= (clearance(nodes[e["target"]], end_dir) + 0.02) * end_dir
        ax.plot(
            points[:-1, 0].tolist() + [points[-1, 0] - 0.15 * end_dir[0]],
            points[:-1, 1].tolist() + [points[-1, 1] - 0.15 * end_dir[1]],
            color=color,
            lw=lw,
            solid_capstyle="butt",
            zorder=1,
        )
        ax.add_patch(
            FancyArrowPatch(
                tuple(points[-1] - 0.3 * end_dir),
                tuple(points[-1]),
                arrowstyle="-|>",
                mutation_scale=14 if e["cell"] else 10,
                color=color,
                lw=lw * 0.5,
                shrinkA=0,
                shrinkB=0,
                zorder=2,
            )
        )

    for n in nodes.values():
        if n["kind"] == "gate":
            color = green if n["op"] == "tanh" else blue
            ax.add_patch(
                FancyBboxPatch(
                    (n["x"] - box_w / 2, n["y"] - box_h / 2),
                    box_w,
                    box_h,
                    boxstyle="round,pad=0,rounding_size=0.08",
                    facecolor=tint(color),
                    edgecolor=color,
                    lw=1.4,
                    zorder=3,
                )
            )
            ax.text(
                n["x"],
                n["y"] + 0.12,
                n["label"],
                ha="center",
                va="center",
                fontsize=11,
                color=ink,
                zorder=4,
            )
            ax.text(
                n["x"],
                n["y"] - 0.17,
                n["role"],
                ha="center",
                va="center",
                fontsize=8,
                color=ink,
                zorder=4,
            )
            # The gate's name beside the wire that leaves it: upwards, or (the output gate) to the right.
            (out,) = [e for e in result.data["edges"] if e["source"] == n["name"]]
            if out["points"][1][1] > n["y"]:
                ax.text(
                    n["x"] + 0.1,
                    n["y"] + box_h / 2 + 0.12,
                    n["symbol"],
                    ha="left",
                    va="bottom",
                    fontsize=11,
                    color=color,
                    zorder=4,
                )
            else:
                ax.text(
                    n["x"] + box_w / 2 + 0.15,
                    n["y"] + 0.1,
                    n["symbol"],
                    ha="left",
                    va="bottom",
                    fontsize=11,
                    color=color,
                    zorder=4,
                )
        elif n["kind"] == "op":
            on_path = n["name"] in ("forget_mul", "add")
            ax.add_patch(
                Circle(
                    (n["x"], n["y"]),
                    radius,
                    facecolor=tint(orange) if on_path else plotting.CARD,
                    edgecolor=orange if on_path else ink,
                    lw=1.6 if on_path else 1.2,
                    zorder=3,
                )
            )
            ax.text(
                n["x"],
                n["y"],
                n["label"],
                ha="center",
                va="center",
                zorder=4,
                color=ink,
                fontsize=8 if n["label"] == "tanh" else 13,
            )
        elif n["kind"] == "junction":
            ax.add_patch(Circle((n["x"], n["y"]), 0.07, color=ink, zorder=3))
        elif n["kind"] in ("input", "output"):
            ax.text(
                n["x"],
                n["y"],
                n["label"],
                ha="center",
                va="center",
                fontsize=13,
                color=ink,
                zorder=4,
            )

    ax.text(
        (nodes["c_prev"]["x"] + nodes["c"]["x"]) / 2,
        CELL_Y + 0.42,
        r"the cell path: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, so $\partial c_t / \partial c_{t-1} = "
        r"\mathrm{diag}(f_t)$",
        ha="center",
        va="bottom",
        fontsize=10,
        color=orange,
    )
    ax.text(
        nodes["concat"]["x"] + 0.15,
        BUS_Y - 0.12,
        "$[h_{t-1}, x_t]$ to every gate",
        ha="left",
        va="top",
        fontsize=9,
        color=ink,
    )
    ax.set_xlim(-0.3, 10.45)
    ax.set_ylim(-0.95, CELL_Y + 0.95)
    ax.set_aspect("equal")
    ax.axis("off")


# ---------------------------------------------------------------- figure l07_cell_gradient
@dataclass(frozen=True)
class CellGradientConfig:
    seq_len: int = 100  # T: lags 0..T-1
    hidden: int = 64
    batch: int = 16  # adding-problem input sequences; curves are medians over them
    # forget-gate bias of the freshly initialised LSTMs
    forget_biases: tuple[float, ...] = (
        1.0,
        3.0,
    )

    def __post_init__(self) -> None:
        validation.positive_ints(self, "seq_len", "hidden", "batch")
        validation.non_empty(self, "forget_biases")
        if self.seq_len < 4:
            raise ValueError(f"CellGradientConfig.seq_len must be at least 4, got {self.seq_len!r}")


def compute_cell_gradient(config: CellGradientConfig, rng: np.random.Generator) -> Result:
    x, _ = adding_problem(config.batch, config.seq_len, rng)
    x = x.double()  # float64: the tanh RNN's gradient underflows float32 long before lag 100
    readout = torch.from_numpy(rng.standard_normal(config.hidden))
    last = config.seq_len - 1
    tanh_curve = gradient_ratio_by_lag(tanh_rnn(2, config.hidden).double(), x, readout)
    curves = {"tanh_rnn": tanh_curve}
    facts = {"tanh_ratio": float(tanh_curve[-1]), "max_lag": last, "hidden": config.hidden}
    for bias in config.forget_biases:
        cell = lstm(2, config.hidden, bias).double()
        measured, forget_only = cell_gradient_by_lag(cell, x, readout)
        curves[f"lstm_bias{bias:g}"] = measured
        curves[f"forget_only_bias{bias:g}"] = forget_only
        facts[f"cell_ratio_bias{bias:g}"] = float(measured[-1])
        facts[f"forget_product_bias{bias:g}"] = float(forget_only[-1])
        facts[f"sigmoid_of_bias{bias:g}"] = float(sigmoid(bias))
        facts[f"sigmoid_of_bias{bias:g}_pow"] = float(sigmoid(bias)) ** last
    return Result(data={"lag": np.arange(config.seq_len), "curves": curves}, facts=facts)


def plot_cell_gradient(result: Result, ax) -> None:
    lag, curves = result.data["lag"], result.data["curves"]
    ax.plot(
        lag,
        curves["tanh_rnn"],
        color=plotting.COLORS["grey"],
        label=r"tanh RNN: $\|\partial L/\partial h_{T-k}\|$",
    )
    biases = [name.removeprefix("lstm_bias") for name in curves if name.startswith("lstm_bias")]
    for bias, color in zip(
        biases, (plotting.COLORS["blue"], plotting.COLORS["green"], plotting.COLORS["orange"])
    ):
        ax.plot(
            lag,
            curves[f"lstm_bias{bias}"],
            color=color,
            label=rf"LSTM, forget bias {bias}: $\|\partial L/\partial c_{{T-k}}\|$",
        )
        ax.plot(
            lag,
            curves[f"forget_only_bias{bias}"],
            color=color,
            ls=(0, (2, 2)),
            lw=1.4,
            label=r"  product of forget gates alone",
        )
    plotting.log_axis(ax)
    ax.set(
        xlabel="lag $k$ (steps back from the last step $T$)",
        ylabel="gradient norm, relative to lag 0 (log scale)",
    )
    ax.legend(loc="lower left", fontsize=8.5)


# ---------------------------------------------------------------- figure l07_adding_problem
KINDS = ("tanh_rnn", "irnn", "lstm", "gru")
KIND_LABELS = {"tanh_rnn": "tanh RNN", "irnn": "IRNN", "lstm": "LSTM", "gru": "GRU"}
KIND_COLORS = {"tanh_rnn": "grey", "irnn": "purple", "lstm": "blue", "gru": "green"}
NOT_REACHED = "not reached"  # the "steps to solve" fact of a model none of whose runs got there
LEFT_BASELINE = 0.5  # a run has left the baseline once its test MSE is below this fraction of it


@dataclass(frozen=True)
class AddingConfig:
    seq_len: int = (
        100  # T: the first marker lies in the first half, so the gap is up to T - 1 steps
    )
    hidden: int = 64  # units in every model
    batch: int = 32  # training sequences per step, fresh every step
    max_steps: int = 2000  # the same budget of optimiser steps for every model
    clip: float = 1.0  # gradient-norm clipping threshold, the same for every model
    # Adam's learning rate per model, each the best of 1e-4, 1e-3, 3e-3 and 1e-2 in our trial runs.
    learning_rates: tuple[tuple[str, float], ...] = (
        ("tanh_rnn", 1e-3),
        ("irnn", 1e-3),
        ("lstm", 1e-2),
        ("gru", 1e-2),
    )
    forget_bias: float = 1.0  # the LSTM's initial forget-gate bias
    seeds: int = 2  # independent runs per model (different initial weights and training data)
    eval_every: int = 50  # steps between evaluations on the fixed test set
    n_test: int = 500  # test sequences
    stop_mse: float = 0.002  # a run stops once its test MSE is this low: the task is solved
    solved_mse: float = 0.01  # "steps to solve" counts steps until the test MSE first reaches this

    def __post_init__(self) -> None:
        validation.positive_ints(
            self, "seq_len", "hidden", "batch", "max_steps", "seeds", "eval_every", "n_test"
        )
        validation.positive_floats(self, "clip", "stop_mse", "solved_mse")
        validation.non_empty(self, "learning_rates")
        if self.seq_len < 4:
            raise ValueError(f"AddingConfig.seq_len must be at least 4, got {self.seq_len!r}")
        if self.eval_every > self.max_steps:
            raise ValueError(
                f"AddingConfig.eval_every must not exceed max_steps, got {self.eval_every!r}"
            )
        if (
            isinstance(self.forget_bias, bool)
            or not isinstance(self.forget_bias, (int, float))
            or not math.isfinite(self.forget_bias)
        ):
            raise ValueError(
                f"AddingConfig.forget_bias must be a finite number, got {self.forget_bias!r}"
            )
        for entry in self.learning_rates:
            if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] in KINDS):
                raise ValueError(
                    f"AddingConfig.learning_rates entries must be (kind, lr) with kind in {KINDS}, "
                    f"got {entry!r}"
                )
            if (
                isinstance(entry[1], bool)
                or not isinstance(entry[1], (int, float))
                or not 0 < entry[1] < 1
            ):
                raise ValueError(
                    f"AddingConfig.learning_rates: the rate for {entry[0]!r} must lie in (0, 1), "
                    f"got {entry[1]!r}"
                )
        kinds = [kind for kind, _ in self.learning_rates]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"AddingConfig.learning_rates names a model twice: {kinds!r}")


def first_step_below(steps: list[int], mse: list[float], threshold: float) -> float:
    """The first logged step whose test MSE is at most `threshold`; NaN if there is none."""
    return next((float(s) for s, m in zip(steps, mse) if m <= threshold), float("nan"))


def nan_median(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else float("nan")


def compute_adding_problem(config: AddingConfig, rng: np.random.Generator) -> Result:
    test = adding_problem(config.n_test, config.seq_len, rng)
    x_ratio = test[0][:32].double()  # sequences for the gradient ratio of the trained models
    runs, facts = {}, {}
    for kind, lr in config.learning_rates:
        runs[kind] = []
        for seed in range(config.seeds):
            # initial weights: torch's seed
            model = adding_model(kind, config.hidden, config.forget_bias)
            log = train_on_adding(
                model,
                lr,
                config.max_steps,
                config.batch,
                config.seq_len,
                config.clip,
                config.eval_every,
                config.stop_mse,
                test,
                np.random.default_rng(rng.integers(2**32)),
            )
            norms = np.array(log.grad_norm)
            steps, mse = [int(s) for s, _ in log.evals], [m for _, m in log.evals]
            run = {
                "seed": seed,
                "step": steps,
                "test_mse": mse,
                "diverged_at": log.diverged_at,
                "steps_run": len(norms),
                "clipped_fraction": float(np.mean(norms > config.clip)),
                "steps_to_solve": first_step_below(steps, mse, config.solved_mse),
                "final_mse": mse[-1],
            }
            if log.diverged_at is None:
                core = model.core.double()
                readout = model.head.weight[0].detach().double()
                run["ratio_after"] = float(gradient_ratio_by_lag(core, x_ratio, readout)[-1])
                if kind == "irnn":
                    W = model.core.weight_hh_l0.detach().numpy()
                    run["whh_distance_from_identity"] = float(np.linalg.norm(W - np.eye(len(W)), 2))
                    run["whh_spectral_radius"] = float(np.max(np.abs(np.linalg.eigvals(W))))
            runs[kind].append(run)
        done = runs[kind]
        baseline_test = float(((test[1] - 1.0) ** 2).mean())
        leaves = nan_median(
            [
                first_step_below(r["step"], r["test_mse"], LEFT_BASELINE * baseline_test)
                for r in done
            ]
        )
        facts[f"adding_leaves_baseline_{kind}"] = leaves if math.isfinite(leaves) else NOT_REACHED
        facts[f"adding_final_mse_{kind}"] = nan_median([r["final_mse"] for r in done])
        steps_to_solve = nan_median([r["steps_to_solve"] for r in done])
        facts[f"adding_steps_to_solve_{kind}"] = (
            steps_to_solve if math.isfinite(steps_to_solve) else NOT_REACHED
        )
        facts[f"adding_solved_runs_{kind}"] = sum(math.isfinite(r["steps_to_solve"]) for r in done)
        facts[f"adding_diverged_runs_{kind}"] = sum(r["diverged_at"] is not None for r in done)
        facts[f"adding_clipped_fraction_{kind}"] = float(
            np.mean([r["clipped_fraction"] for r in done])
        )
        facts[f"adding_ratio_after_{kind}"] = nan_median(
            [r.get("ratio_after", float("nan")) for r in done]
        )
        facts[f"adding_lr_{kind}"] = lr
    solved = {
        k: facts[f"adding_steps_to_solve_{k}"]
        for k in runs
        if facts[f"adding_steps_to_solve_{k}"] != NOT_REACHED
    }
    facts["adding_fastest_model"] = KIND_LABELS[min(solved, key=solved.get)] if solved else "none"
    irnn_runs = [r for r in runs.get("irnn", []) if "whh_distance_from_identity" in r]
    facts["adding_irnn_whh_distance"] = nan_median(
        [r["whh_distance_from_identity"] for r in irnn_runs]
    )
    facts["adding_irnn_whh_radius"] = nan_median([r["whh_spectral_radius"] for r in irnn_runs])
    facts.update(
        adding_baseline_mse=ADDING_BASELINE_MSE,
        adding_baseline_mse_test=float(((test[1] - 1.0) ** 2).mean()),
        adding_seq_len=config.seq_len,
        adding_hidden=config.hidden,
        adding_batch=config.batch,
        adding_max_steps=config.max_steps,
        adding_clip=config.clip,
        adding_seeds=config.seeds,
        adding_eval_every=config.eval_every,
        adding_n_test=config.n_test,
        adding_stop_mse=config.stop_mse,
        adding_solved_mse=config.solved_mse,
        adding_forget_bias=config.forget_bias,
    )
    return Result(
        data={"runs": runs, "baseline_mse": ADDING_BASELINE_MSE, "max_steps": config.max_steps},
        facts=facts,
    )


def plot_adding_problem(result: Result, ax) -> None:
    for kind, runs in result.data["runs"].items():
        color = plotting.COLORS[KIND_COLORS[kind]]
        final = result.facts[f"adding_final_mse_{kind}"]
        label = (
            f"{KIND_LABELS[kind]} (final MSE {final:.2g})"
            if math.isfinite(final)
            else f"{KIND_LABELS[kind]} (every run diverged)"
        )
        for run in runs:
            steps, mse = np.array(run["step"], dtype=float), np.array(run["test_mse"], dtype=float)
            ok = np.isfinite(mse)
            ax.plot(steps[ok], mse[ok], color=color, lw=1.3, alpha=0.9, label=label)
            label = None  # one legend entry per model, however many seeds
            if run["diverged_at"] is not None:
                ax.plot(
                    steps[ok][-1:], mse[ok][-1:], marker="x", ms=8, mew=2, color=color, ls="none"
                )
            elif steps[-1] < result.data["max_steps"]:
                ax.plot(steps[-1:], mse[-1:], marker="o", ms=4, color=color, ls="none")
    baseline = result.data["baseline_mse"]
    ax.axhline(
        baseline,
        color=plotting.COLORS["black"],
        lw=1.0,
        ls="--",
        label="always predict 1 (MSE 1/6)",
    )
    plotting.log_axis(ax)
    ax.set(
        xlabel="training step",
        ylabel="test MSE (log scale)",
        xlim=(0, result.data["max_steps"] * 1.02),
    )
    ax.legend(
        loc="upper right",
        title="one line per seed; dot: solved, stopped; x: diverged",
        title_fontsize=8.5,
    )


def _on_baseline(facts, kind: str) -> bool:
    return (
        facts[f"adding_final_mse_{kind}"] >= (1 - LEFT_BASELINE) * facts["adding_baseline_mse_test"]
    )


#: What docs/07-gates.md says in words about the comparison (checked on the published results).
ADDING_CLAIMS = (
    Claim(
        "the tanh RNN learns nothing: its final MSE sits on the baseline",
        lambda f: _on_baseline(f, "tanh_rnn"),
    ),
    Claim(
        "the IRNN, started as Le et al. start it, does not get off the baseline in this budget",
        lambda f: _on_baseline(f, "irnn") and f["adding_solved_runs_irnn"] == 0,
    ),
    Claim(
        "the gated models solve it: every LSTM and GRU run reaches the threshold",
        lambda f: f["adding_solved_runs_lstm"] == f["adding_solved_runs_gru"] == f["adding_seeds"],
    ),
    Claim(
        "the LSTM sits on the baseline for a while before it drops",
        lambda f: (
            f["adding_leaves_baseline_lstm"] != NOT_REACHED and f["adding_leaves_baseline_lstm"] > 0
        ),
    ),
)


# ---------------------------------------------------------------- figure l07_gate_activity
@dataclass(frozen=True)
class GateActivityConfig:
    seq_len: int = 100  # T of the adding problem, as in the comparison above
    hidden: int = 32  # half the comparison's width: it solves T = 100 as reliably, in less time
    batch: int = 32  # training sequences per step, fresh every step
    lr: float = 1e-2  # Adam's learning rate, the LSTM's in the comparison
    clip: float = 1.0  # gradient-norm clipping threshold
    forget_bias: float = 1.0  # the forget gates' initial bias
    max_steps: int = 3000  # the most optimiser steps; in our runs it stopped after about 1000-1300
    eval_every: int = 50  # steps between evaluations on the fixed test set
    n_test: int = 500  # test sequences: every gate statistic is measured on all of them
    stop_mse: float = 0.002  # training stops once the test MSE is this low: the task is solved

    def __post_init__(self) -> None:
        validation.positive_ints(
            self, "seq_len", "hidden", "batch", "max_steps", "eval_every", "n_test"
        )
        validation.positive_floats(self, "lr", "clip", "stop_mse")
        if self.seq_len < 4:
            raise ValueError(f"GateActivityConfig.seq_len must be at least 4, got {self.seq_len!r}")
        if self.hidden < 2:  # the figure compares the unit that matters most with the next one
            raise ValueError(f"GateActivityConfig.hidden must be at least 2, got {self.hidden!r}")
        if (
            isinstance(self.forget_bias, bool)
            or not isinstance(self.forget_bias, (int, float))
            or not math.isfinite(self.forget_bias)
        ):
            raise ValueError(
                f"GateActivityConfig.forget_bias must be a finite number, got {self.forget_bias!r}"
            )


def marker_positions(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The (0-based) steps of the first and of the second marker of every adding-problem sequence."""
    marked = x[..., 1].numpy() > 0
    return marked.argmax(axis=1), marked.shape[1] - 1 - marked[:, ::-1].argmax(axis=1)


def compute_gate_activity(config: GateActivityConfig, rng: np.random.Generator) -> Result:
    test = adding_problem(config.n_test, config.seq_len, rng)
    model = adding_model("lstm", config.hidden, config.forget_bias)
    log = train_on_adding(
        model,
        config.lr,
        config.max_steps,
        config.batch,
        config.seq_len,
        config.clip,
        config.eval_every,
        config.stop_mse,
        test,
        np.random.default_rng(rng.integers(2**32)),
    )
    if log.diverged_at is not None:
        raise ValueError(
            f"the LSTM's loss or gradient stopped being finite at step {log.diverged_at}; "
            "there are no trained gates to read"
        )
    steps_trained, test_mse = log.evals[-1]
    x, y = test
    target = y.numpy()
    inputs, forgets, cells = (t.numpy() for t in gate_trace(model.core, x))

    # The unit to follow: the one whose share of the prediction varies most over the test set.
    contributions = unit_contributions(model, x).numpy()
    order = np.argsort(-contributions)
    unit = int(order[0])
    with torch.no_grad():
        outputs, _ = model.core(x)
        # w_j h_T,j for every sequence and unit
        shares = (outputs[:, -1] * model.head.weight[0]).numpy()
    bias = model.head.bias.item()
    prediction = shares.sum(axis=1) + bias
    # That unit read alone: every other unit's share is replaced by its average over the test set.
    one_unit = shares[:, unit] + np.delete(shares, unit, axis=1).mean(axis=0).sum() + bias
    baseline = float(((target - 1.0) ** 2).mean())

    # Marked steps, and the steps strictly between the two markers: the gap over which the first marked
    # value has to be held while unmarked values stream past.
    first, second = marker_positions(x)
    steps, rows = np.arange(config.seq_len), np.arange(config.n_test)
    marked = x[..., 1].numpy() > 0
    between = (steps > first[:, None]) & (steps < second[:, None])

    # How the unit's cell changes in one step (c_0 = 0), and at a marker, against the value written there.
    change = np.diff(cells[..., unit], axis=1, prepend=0.0)
    jumps = np.concatenate([change[rows, first], change[rows, second]])
    written = np.concatenate([x[rows, first, 0].numpy(), x[rows, second, 0].numpy()])
    jump_slope, jump_offset = np.polyfit(written, jumps, 1)

    k = 0  # the sequence the figure shows: simply the first of the test set
    facts = {
        "gate_seq_len": config.seq_len,
        "gate_hidden": config.hidden,
        "gate_lr": config.lr,
        "gate_clip": config.clip,
        "gate_forget_bias": config.forget_bias,
        "gate_n_test": config.n_test,
        "gate_stop_mse": config.stop_mse,
        "gate_max_steps": config.max_steps,
        "gate_steps_trained": int(steps_trained),
        "gate_test_mse": float(test_mse),
        "gate_baseline_mse_test": baseline,
        # the unit that matters most
        "gate_contribution_ratio": float(contributions[unit] / contributions[order[1]]),
        "gate_one_unit_mse": float(((one_unit - target) ** 2).mean()),
        "gate_one_unit_error_removed": float(1 - ((one_unit - target) ** 2).mean() / baseline),
        "gate_unit_readout_weight": model.head.weight[0, unit].item(),
        # its gates, and every unit's, over the whole test set
        "gate_input_marked_unit": float(inputs[..., unit][marked].mean()),
        "gate_input_unmarked_unit": float(inputs[..., unit][~marked].mean()),
        "gate_forget_between_unit": float(forgets[..., unit][between].mean()),
        "gate_forget_between_min_unit": float(forgets[..., unit][between].min()),
        "gate_input_marked_all": float(inputs[marked].mean()),
        "gate_input_unmarked_all": float(inputs[~marked].mean()),
        "gate_forget_between_all": float(forgets[between].mean()),
        # its cell state
        "gate_cell_change_marked_unit": float(np.abs(change[marked]).mean()),
        "gate_cell_change_unmarked_unit": float(np.abs(change[~marked]).mean()),
        # jump at a marker vs its value
        "gate_cell_jump_corr": float(np.corrcoef(written, jumps)[0, 1]),
        "gate_cell_jump_slope": float(jump_slope),
        "gate_cell_jump_offset": float(jump_offset),
        # c_T vs the target
        "gate_cell_final_corr": float(np.corrcoef(cells[:, -1, unit], target)[0, 1]),
        # the sequence in the figure
        "gate_example_first_marker": int(first[k]) + 1,
        "gate_example_second_marker": int(second[k]) + 1,
        "gate_example_target": float(target[k]),
        "gate_example_prediction": float(prediction[k]),
    }
    data = {
        "t": steps + 1,
        "values": x[k, :, 0].numpy(),
        "markers": [int(first[k]) + 1, int(second[k]) + 1],
        "input_unit": inputs[k, :, unit],
        "forget_unit": forgets[k, :, unit],
        "cell_unit": cells[k, :, unit],
        "input_mean": inputs[k].mean(axis=1),
        "forget_mean": forgets[k].mean(axis=1),
        "unit": unit,
        "contributions": contributions,
        "evals": [list(e) for e in log.evals],
    }
    return Result(data=data, facts=facts)


def plot_gate_activity(result: Result, axes) -> None:
    d = result.data
    t, markers = np.asarray(d["t"]), d["markers"]
    blue, grey, orange = plotting.COLORS["blue"], plotting.COLORS["grey"], plotting.COLORS["orange"]
    rows = [
        ("input_unit", "input_mean", "input gate $i_t$"),
        ("forget_unit", "forget_mean", "forget gate $f_t$"),
        ("cell_unit", None, "cell state $c_t$"),
    ]
    for ax, (unit_key, mean_key, label) in zip(axes, rows):
        for n, m in enumerate(markers):
            ax.axvline(
                m,
                color=orange,
                lw=1.2,
                ls=(0, (4, 2)),
                zorder=1,
                label="a marked step" if n == 0 else None,
            )
        ax.plot(
            t,
            d[unit_key],
            color=blue,
            lw=1.8,
            zorder=3,
            label="the unit the prediction depends on most",
        )
        if mean_key:
            ax.plot(
                t,
                d[mean_key],
                color=grey,
                lw=1.2,
                zorder=2,
                label=f"mean over all {len(d['contributions'])} units",
            )
            ax.set_ylim(-0.03, 1.05)
        ax.set_ylabel(label)
        ax.set_xlim(0.5, t[-1] + 0.5)
    cell = np.asarray(d["cell_unit"])
    for m in markers:  # the value the marker asks the network to remember, beside the cell's step
        axes[2].annotate(
            f"value {d['values'][m - 1]:.2f}",
            (m, cell[m - 1]),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8.5,
            color=plotting.INK,
        )
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("time step $t$ of the first test sequence")
    # drawn marker, unit, mean; listed unit, mean, marker
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].legend(
        [handles[1], handles[2], handles[0]],
        [labels[1], labels[2], labels[0]],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        fontsize=8.5,
    )


def _gate_claims_hold(f) -> dict[str, bool]:
    return {
        "solved": f["gate_test_mse"] <= f["gate_stop_mse"],
        "input": f["gate_input_unmarked_unit"] < 0.1
        and f["gate_input_marked_unit"] > 5 * f["gate_input_unmarked_unit"],
        "forget": f["gate_forget_between_unit"] >= 0.95,
        "blurred": (f["gate_input_marked_all"] - f["gate_input_unmarked_all"])
        < 0.5 * (f["gate_input_marked_unit"] - f["gate_input_unmarked_unit"])
        and f["gate_forget_between_all"] < f["gate_forget_between_unit"],
        "cell": f["gate_cell_change_marked_unit"] > 10 * f["gate_cell_change_unmarked_unit"],
        "linear": abs(f["gate_cell_jump_corr"]) >= 0.9 and abs(f["gate_cell_final_corr"]) >= 0.9,
        # the unit stores the sum with some sign; its readout weight has the same sign, so it counts upwards
        "sign": f["gate_cell_final_corr"] * f["gate_unit_readout_weight"] > 0,
    }


#: What docs/07-gates.md says in words about the trained gates (checked on the published results).
GATE_CLAIMS = tuple(
    Claim(text, lambda f, key=key: _gate_claims_hold(f)[key])
    for key, text in {
        "solved": "the LSTM solves the adding problem in this run: its test MSE reaches the stopping "
        "threshold",
        "input": "the input gate of the unit that matters most opens at the marked steps and stays nearly "
        "shut elsewhere",
        "forget": "its forget gate stays near 1 between the markers",
        "blurred": "averaged over all units the picture is blurred: the input gate's contrast is less than "
        "half as large, and the forget gate lower",
        "cell": "the unit's cell changes at the marked steps, by more than ten times as much as at the other "
        "steps",
        "linear": "what the cell adds at a marker is nearly a straight-line function of the marked value, "
        "and its final content tracks the target (both correlations at least 0.9 in size)",
        "sign": "the unit's readout weight has the same sign as the correlation of its cell with the target",
    }.items()
)


FIGURES = [
    FigureSpec(
        name="l07_lstm_cell",
        compute=compute_lstm_cell,
        plot=plot_lstm_cell,
        config=LstmCellConfig(),
        fast=LstmCellConfig(),  # already instant
        expected_s=0.5,
        expected_fast_s=0.5,
        size=(7.2, 3.7),
        alt="Diagram of one LSTM step. A thick orange line, the cell path, runs straight across the top from the "
        "previous cell state on the left to the new cell state c_t on the right, through only two operations: a "
        "multiplication by the forget gate f_t, then the addition of new content, the input gate i_t times the "
        "candidate g_t. Below it, the previous hidden state and the input x_t join on one wire that feeds four "
        "boxes: the forget, input and output gates, which are sigmoids, and the candidate, a tanh. On the right "
        "the new cell state branches down through a tanh and is multiplied by the output gate o_t to give the "
        "new hidden state h_t.",
    ),
    FigureSpec(
        name="l07_cell_gradient",
        compute=compute_cell_gradient,
        plot=plot_cell_gradient,
        config=CellGradientConfig(),
        fast=CellGradientConfig(seq_len=40, hidden=16, batch=4),
        expected_s=2.0,
        expected_fast_s=1.0,
        size=(6.8, 4.2),
        alt="Gradient norm against lag on a logarithmic axis at initialisation, over {max_lag} steps. The tanh RNN's "
        "gradient falls in a straight line to {tanh_ratio:.0e} of its value at the last step. Through the LSTM's "
        "cell state it falls far less: to {cell_ratio_bias1:.0e} with forget bias one, and to "
        "{cell_ratio_bias3:.2g} with forget bias three. Dashed curves show the product of the forget gates alone,"
        " the additive path ({forget_product_bias1:.0e} and {forget_product_bias3:.2g} at the longest lag); each "
        "lies below its measured curve, which also includes the paths through the hidden state.",
    ),
    FigureSpec(
        name="l07_gate_activity",
        compute=compute_gate_activity,
        plot=plot_gate_activity,
        config=GateActivityConfig(),
        fast=GateActivityConfig(seq_len=20, hidden=12, n_test=200),
        expected_s=6.0,  # measured 3.7 to 6.9 s: about a thousand training steps of a 32-unit LSTM
        expected_fast_s=1.0,
        size=(6.8, 5.6),
        panels=(3, 1),
        claims=GATE_CLAIMS,
        alt="Three panels against time for the first test sequence of the adding problem with {gate_seq_len} steps, "
        "read from an LSTM trained until its test error was {gate_test_mse:.4f}; dashed lines mark the two marked "
        "steps, {gate_example_first_marker} and {gate_example_second_marker}. Blue lines follow the unit the "
        "prediction depends on most, grey lines the mean over all units. Top: the unit's input gate is nearly "
        "shut and opens at the marked steps; over all test sequences it averages {gate_input_marked_unit:.2f} at "
        "marked steps and {gate_input_unmarked_unit:.3f} elsewhere, while the mean over all units barely "
        "changes. Middle: the unit's forget gate stays close to one, on average {gate_forget_between_unit:.3f} "
        "between the markers, against {gate_forget_between_all:.2f} for the mean over all units. Bottom: the "
        "unit's cell state steps at the marked steps (by {gate_cell_change_marked_unit:.2f} on average) and "
        "changes little in between ({gate_cell_change_unmarked_unit:.4f} per step).",
    ),
    FigureSpec(
        name="l07_adding_problem",
        compute=compute_adding_problem,
        plot=plot_adding_problem,
        config=AddingConfig(),
        fast=AddingConfig(seq_len=20, hidden=32, max_steps=400, seeds=1, n_test=200),
        expected_s=95.0,
        expected_fast_s=5.0,
        size=(6.8, 4.4),
        claims=ADDING_CLAIMS,
        nonfinite_ok=frozenset(
            {
                "runs",
                "adding_final_mse_tanh_rnn",
                "adding_final_mse_irnn",
                "adding_final_mse_lstm",
                "adding_final_mse_gru",
                "adding_ratio_after_tanh_rnn",
                "adding_ratio_after_irnn",
                "adding_ratio_after_lstm",
                "adding_ratio_after_gru",
                "adding_irnn_whh_distance",
                "adding_irnn_whh_radius",
            }
        ),
        alt="Test mean squared error against training step on a logarithmic axis for the adding problem with "
        "sequences of {adding_seq_len} steps, {adding_seeds} runs per model, up to {adding_max_steps} steps, and "
        "a dashed line at the trivial baseline of {adding_baseline_mse:.3f}. Final test errors, the median over "
        "runs: tanh RNN {adding_final_mse_tanh_rnn:.3f}, IRNN {adding_final_mse_irnn:.3f}, LSTM "
        "{adding_final_mse_lstm:.4f}, GRU {adding_final_mse_gru:.4f}. The runs that reach {adding_solved_mse:g} "
        "stop early: the GRU's after {adding_steps_to_solve_gru} steps, the LSTM's after "
        "{adding_steps_to_solve_lstm} (median).",
    ),
]
