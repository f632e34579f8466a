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
def lstm_step(lstm: nn.LSTM, x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
    """One LSTM step written out with nn.LSTM's own weights; returns (h_t, c_t, f_t)."""
    gates = x_t @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    i, f, g, o = gates.chunk(4, dim=-1)  # PyTorch's order: input, forget, candidate, output
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
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
def train_on_adding(model, lr, max_steps, batch, seq_len, max_norm, eval_every, stop_mse, test, rng):
    """Adam with gradient-norm clipping on fresh adding problems. The MSE on the fixed test set is logged
    every `eval_every` steps; training stops once it is at most stop_mse, or at the first step whose loss
    or gradient is not finite."""
    x_test, y_test = test
    return train(model, lambda: adding_problem(batch, seq_len, rng), lambda m, x, y: ((m(x) - y) ** 2).mean(),
                 torch.optim.Adam(model.parameters(), lr=lr), max_steps, max_norm=max_norm,
                 evaluate=lambda m: ((m(x_test) - y_test) ** 2).mean().item(), eval_every=eval_every,
                 stop=lambda mse: mse <= stop_mse)
# --8<-- [end:train]


# ---------------------------------------------------------------- figure l07_cell_gradient
@dataclass(frozen=True)
class CellGradientConfig:
    seq_len: int = 100  # T: lags 0..T-1
    hidden: int = 64
    batch: int = 16  # adding-problem input sequences; curves are medians over them
    forget_biases: tuple[float, ...] = (1.0, 3.0)  # forget-gate bias of the freshly initialised LSTMs

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
    ax.plot(lag, curves["tanh_rnn"], color=plotting.COLORS["grey"], label=r"tanh RNN: $\|\partial L/\partial h_{T-k}\|$")
    biases = [name.removeprefix("lstm_bias") for name in curves if name.startswith("lstm_bias")]
    for bias, color in zip(biases, (plotting.COLORS["blue"], plotting.COLORS["green"], plotting.COLORS["orange"])):
        ax.plot(lag, curves[f"lstm_bias{bias}"], color=color,
                label=rf"LSTM, forget bias {bias}: $\|\partial L/\partial c_{{T-k}}\|$")
        ax.plot(lag, curves[f"forget_only_bias{bias}"], color=color, ls=(0, (2, 2)), lw=1.4,
                label=rf"  product of forget gates alone")
    plotting.log_axis(ax)
    ax.set(xlabel="lag $k$ (steps back from the last step $T$)", ylabel="gradient norm, relative to lag 0 (log scale)")
    ax.legend(loc="lower left", fontsize=8.5)


# ---------------------------------------------------------------- figure l07_adding_problem
KINDS = ("tanh_rnn", "irnn", "lstm", "gru")
KIND_LABELS = {"tanh_rnn": "tanh RNN", "irnn": "IRNN", "lstm": "LSTM", "gru": "GRU"}
KIND_COLORS = {"tanh_rnn": "grey", "irnn": "purple", "lstm": "blue", "gru": "green"}
NOT_REACHED = "not reached"  # the "steps to solve" fact of a model none of whose runs got there
LEFT_BASELINE = 0.5  # a run has left the baseline once its test MSE is below this fraction of it


@dataclass(frozen=True)
class AddingConfig:
    seq_len: int = 100  # T: the first marker lies in the first half, so the gap is up to T - 1 steps
    hidden: int = 64  # units in every model
    batch: int = 32  # training sequences per step, fresh every step
    max_steps: int = 2000  # the same budget of optimiser steps for every model
    clip: float = 1.0  # gradient-norm clipping threshold, the same for every model
    # Adam's learning rate per model, each the best of 1e-4, 1e-3, 3e-3 and 1e-2 in our trial runs.
    learning_rates: tuple[tuple[str, float], ...] = (("tanh_rnn", 1e-3), ("irnn", 1e-3), ("lstm", 1e-2),
                                                     ("gru", 1e-2))
    forget_bias: float = 1.0  # the LSTM's initial forget-gate bias
    seeds: int = 2  # independent runs per model (different initial weights and training data)
    eval_every: int = 50  # steps between evaluations on the fixed test set
    n_test: int = 500  # test sequences
    stop_mse: float = 0.002  # a run stops once its test MSE is this low: the task is solved
    solved_mse: float = 0.01  # "steps to solve" counts steps until the test MSE first reaches this

    def __post_init__(self) -> None:
        validation.positive_ints(self, "seq_len", "hidden", "batch", "max_steps", "seeds", "eval_every", "n_test")
        validation.positive_floats(self, "clip", "stop_mse", "solved_mse")
        validation.non_empty(self, "learning_rates")
        if self.seq_len < 4:
            raise ValueError(f"AddingConfig.seq_len must be at least 4, got {self.seq_len!r}")
        if self.eval_every > self.max_steps:
            raise ValueError(f"AddingConfig.eval_every must not exceed max_steps, got {self.eval_every!r}")
        if isinstance(self.forget_bias, bool) or not isinstance(self.forget_bias, (int, float)) \
                or not math.isfinite(self.forget_bias):
            raise ValueError(f"AddingConfig.forget_bias must be a finite number, got {self.forget_bias!r}")
        for entry in self.learning_rates:
            if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] in KINDS):
                raise ValueError(f"AddingConfig.learning_rates entries must be (kind, lr) with kind in {KINDS}, "
                                 f"got {entry!r}")
            if isinstance(entry[1], bool) or not isinstance(entry[1], (int, float)) or not 0 < entry[1] < 1:
                raise ValueError(f"AddingConfig.learning_rates: the rate for {entry[0]!r} must lie in (0, 1), "
                                 f"got {entry[1]!r}")
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
            model = adding_model(kind, config.hidden, config.forget_bias)  # initial weights: torch's seed
            log = train_on_adding(model, lr, config.max_steps, config.batch, config.seq_len, config.clip,
                                  config.eval_every, config.stop_mse, test, np.random.default_rng(rng.integers(2**32)))
            norms = np.array(log.grad_norm)
            steps, mse = [int(s) for s, _ in log.evals], [m for _, m in log.evals]
            run = {"seed": seed, "step": steps, "test_mse": mse, "diverged_at": log.diverged_at,
                   "steps_run": len(norms), "clipped_fraction": float(np.mean(norms > config.clip)),
                   "steps_to_solve": first_step_below(steps, mse, config.solved_mse), "final_mse": mse[-1]}
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
        leaves = nan_median([first_step_below(r["step"], r["test_mse"], LEFT_BASELINE * baseline_test) for r in done])
        facts[f"adding_leaves_baseline_{kind}"] = leaves if math.isfinite(leaves) else NOT_REACHED
        facts[f"adding_final_mse_{kind}"] = nan_median([r["final_mse"] for r in done])
        steps_to_solve = nan_median([r["steps_to_solve"] for r in done])
        facts[f"adding_steps_to_solve_{kind}"] = steps_to_solve if math.isfinite(steps_to_solve) else NOT_REACHED
        facts[f"adding_solved_runs_{kind}"] = sum(math.isfinite(r["steps_to_solve"]) for r in done)
        facts[f"adding_diverged_runs_{kind}"] = sum(r["diverged_at"] is not None for r in done)
        facts[f"adding_clipped_fraction_{kind}"] = float(np.mean([r["clipped_fraction"] for r in done]))
        facts[f"adding_ratio_after_{kind}"] = nan_median([r.get("ratio_after", float("nan")) for r in done])
        facts[f"adding_lr_{kind}"] = lr
    solved = {k: facts[f"adding_steps_to_solve_{k}"] for k in runs if facts[f"adding_steps_to_solve_{k}"] != NOT_REACHED}
    facts["adding_fastest_model"] = KIND_LABELS[min(solved, key=solved.get)] if solved else "none"
    irnn_runs = [r for r in runs.get("irnn", []) if "whh_distance_from_identity" in r]
    facts["adding_irnn_whh_distance"] = nan_median([r["whh_distance_from_identity"] for r in irnn_runs])
    facts["adding_irnn_whh_radius"] = nan_median([r["whh_spectral_radius"] for r in irnn_runs])
    facts.update(
        adding_baseline_mse=ADDING_BASELINE_MSE,
        adding_baseline_mse_test=float(((test[1] - 1.0) ** 2).mean()),
        adding_seq_len=config.seq_len, adding_hidden=config.hidden, adding_batch=config.batch,
        adding_max_steps=config.max_steps, adding_clip=config.clip, adding_seeds=config.seeds,
        adding_eval_every=config.eval_every, adding_n_test=config.n_test, adding_stop_mse=config.stop_mse,
        adding_solved_mse=config.solved_mse, adding_forget_bias=config.forget_bias,
    )
    return Result(data={"runs": runs, "baseline_mse": ADDING_BASELINE_MSE, "max_steps": config.max_steps}, facts=facts)


def plot_adding_problem(result: Result, ax) -> None:
    for kind, runs in result.data["runs"].items():
        color = plotting.COLORS[KIND_COLORS[kind]]
        final = result.facts[f"adding_final_mse_{kind}"]
        label = f"{KIND_LABELS[kind]} (final MSE {final:.2g})" if math.isfinite(final) else \
            f"{KIND_LABELS[kind]} (every run diverged)"
        for run in runs:
            steps, mse = np.array(run["step"], dtype=float), np.array(run["test_mse"], dtype=float)
            ok = np.isfinite(mse)
            ax.plot(steps[ok], mse[ok], color=color, lw=1.3, alpha=0.9, label=label)
            label = None  # one legend entry per model, however many seeds
            if run["diverged_at"] is not None:
                ax.plot(steps[ok][-1:], mse[ok][-1:], marker="x", ms=8, mew=2, color=color, ls="none")
            elif steps[-1] < result.data["max_steps"]:
                ax.plot(steps[-1:], mse[-1:], marker="o", ms=4, color=color, ls="none")
    baseline = result.data["baseline_mse"]
    ax.axhline(baseline, color=plotting.COLORS["black"], lw=1.0, ls="--", label="always predict 1 (MSE 1/6)")
    plotting.log_axis(ax)
    ax.set(xlabel="training step", ylabel="test MSE (log scale)", xlim=(0, result.data["max_steps"] * 1.02))
    ax.legend(loc="upper right", title="one line per seed; dot: solved, stopped; x: diverged", title_fontsize=8.5)


def _on_baseline(facts, kind: str) -> bool:
    return facts[f"adding_final_mse_{kind}"] >= (1 - LEFT_BASELINE) * facts["adding_baseline_mse_test"]


#: What docs/07-gates.md says in words about the comparison (checked on the published results).
ADDING_CLAIMS = (
    Claim("the tanh RNN learns nothing: its final MSE sits on the baseline", lambda f: _on_baseline(f, "tanh_rnn")),
    Claim("the IRNN, started as Le et al. start it, does not get off the baseline in this budget",
          lambda f: _on_baseline(f, "irnn") and f["adding_solved_runs_irnn"] == 0),
    Claim("the gated models solve it: every LSTM and GRU run reaches the threshold",
          lambda f: f["adding_solved_runs_lstm"] == f["adding_solved_runs_gru"] == f["adding_seeds"]),
    Claim("the LSTM sits on the baseline for a while before it drops",
          lambda f: f["adding_leaves_baseline_lstm"] != NOT_REACHED and f["adding_leaves_baseline_lstm"] > 0),
)


FIGURES = [
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
        name="l07_adding_problem",
        compute=compute_adding_problem,
        plot=plot_adding_problem,
        config=AddingConfig(),
        fast=AddingConfig(seq_len=20, hidden=32, max_steps=400, seeds=1, n_test=200),
        expected_s=95.0,
        expected_fast_s=5.0,
        size=(6.8, 4.4),
        claims=ADDING_CLAIMS,
        nonfinite_ok=frozenset({"runs", "adding_final_mse_tanh_rnn", "adding_final_mse_irnn",
                                "adding_final_mse_lstm", "adding_final_mse_gru", "adding_ratio_after_tanh_rnn",
                                "adding_ratio_after_irnn", "adding_ratio_after_lstm", "adding_ratio_after_gru",
                                "adding_irnn_whh_distance", "adding_irnn_whh_radius"}),
        alt="Test mean squared error against training step on a logarithmic axis for the adding problem with "
        "sequences of {adding_seq_len} steps, {adding_seeds} runs per model, up to {adding_max_steps} steps, and "
        "a dashed line at the trivial baseline of {adding_baseline_mse:.3f}. Final test errors, the median over "
        "runs: tanh RNN {adding_final_mse_tanh_rnn:.3f}, IRNN {adding_final_mse_irnn:.3f}, LSTM "
        "{adding_final_mse_lstm:.4f}, GRU {adding_final_mse_gru:.4f}. The runs that reach {adding_solved_mse:g} "
        "stop early: the GRU's after {adding_steps_to_solve_gru} steps, the LSTM's after "
        "{adding_steps_to_solve_lstm} (median).",
    ),
]
