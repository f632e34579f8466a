"""Lesson 6: initialisation, the IRNN and echo state networks.

Three ways to keep a signal alive across many steps without changing the architecture's update rule:
start the recurrent weights orthogonal, start them at the identity with ReLU units (the IRNN), or
never train them at all and read a fixed random reservoir with a linear readout (an echo state network).

The sections between ``--8<--`` markers are embedded verbatim in ``docs/06-initialisation.md`` and run,
in order, as a reader would paste them. ``docs/07-gates.md`` embeds ``inits`` and ``ratio`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.models import IRNN_INPUT_STD, init_orthogonal, irnn, lstm, tanh_rnn
from lessons_code.registry import FigureSpec, Result
from lessons_code.training import gradient_ratio_by_lag

# --8<-- [start:imports]
import numpy as np
import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:esn]
class EchoStateNetwork:
    """A fixed random reservoir x_t = tanh(W x_{t-1} + w_in u_t); only a linear readout is ever trained."""

    def __init__(
        self, size: int, spectral_radius: float, input_scale: float, rng: np.random.Generator
    ):
        W = rng.standard_normal((size, size))
        self.W = W * (spectral_radius / np.max(np.abs(np.linalg.eigvals(W))))
        self.w_in = input_scale * rng.uniform(-1.0, 1.0, size)

    def run(self, u: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """Reservoir states for the input sequence u, one row per step, starting from x0 (default 0)."""
        x = np.zeros(len(self.w_in)) if x0 is None else np.array(x0, dtype=float)
        states = np.empty((len(u), len(x)))
        for t, u_t in enumerate(u):
            x = np.tanh(self.W @ x + self.w_in * u_t)
            states[t] = x
        return states


def ridge_readout(states: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """Least-squares readout weights with an L2 penalty: solve (X^T X + ridge I) W_out = X^T Y."""
    gram = states.T @ states + ridge * np.eye(states.shape[1])
    return np.linalg.solve(gram, states.T @ targets)
    # --8<-- [end:esn]


# --8<-- [start:esp]
def state_distance(
    esn: EchoStateNetwork, u: np.ndarray, x0: np.ndarray, x0_other: np.ndarray
) -> np.ndarray:
    """||x_t - x′_t||: the same reservoir, the same inputs, two different starting states."""
    return np.linalg.norm(esn.run(u, x0) - esn.run(u, x0_other), axis=1)
    # --8<-- [end:esp]


# --8<-- [start:memory]
def recall_r2(
    esn: EchoStateNetwork, u: np.ndarray, max_delay: int, washout: int, n_train: int, ridge: float
) -> np.ndarray:
    """r^2 of a ridge readout trained to output u_{t-d}, on held-out steps, for d = 1..max_delay."""
    states = esn.run(u)
    steps = np.arange(washout + max_delay, len(u))  # steps whose whole input history is known
    delays = np.arange(1, max_delay + 1)
    targets = u[steps[:, None] - delays[None, :]]  # column d-1 holds u_{t-d}
    train, test = slice(0, n_train), slice(n_train, None)
    W_out = ridge_readout(states[steps][train], targets[train], ridge)
    predicted = states[steps][test] @ W_out
    return np.array(
        [np.corrcoef(predicted[:, j], targets[test][:, j])[0, 1] ** 2 for j in range(max_delay)]
    )
    # --8<-- [end:memory]


# ---------------------------------------------------------------- figure l06_ratio_at_init
#: The models compared at initialisation: label -> constructor(input_size, hidden).
# --8<-- [start:orthogonal]
def orthogonal_tanh_rnn(inputs: int, hidden: int) -> nn.RNN:
    """PyTorch's tanh RNN with one change: the recurrent matrix starts orthogonal."""
    rnn = tanh_rnn(inputs, hidden)
    init_orthogonal(rnn)
    return rnn
    # --8<-- [end:orthogonal]


RATIO_MODELS = {
    "default_tanh": tanh_rnn,
    "orthogonal_tanh": orthogonal_tanh_rnn,
    "irnn": irnn,
    "lstm_bias0": lambda n_in, h: lstm(n_in, h, forget_bias=0.0),
    "lstm_bias1": lambda n_in, h: lstm(n_in, h, forget_bias=1.0),
    "lstm_bias3": lambda n_in, h: lstm(n_in, h, forget_bias=3.0),
}
RATIO_LABELS = {
    "default_tanh": "tanh, PyTorch default init",
    "orthogonal_tanh": "tanh, orthogonal $W_{hh}$",
    "irnn": "IRNN (ReLU, $W_{hh}=I$)",
    "lstm_bias0": "LSTM, forget bias 0",
    "lstm_bias1": "LSTM, forget bias 1",
    "lstm_bias3": "LSTM, forget bias 3",
}


@dataclass(frozen=True)
class RatioConfig:
    seq_len: int = 100  # T: the gradient travels from step T back to step 1
    hidden: int = 64  # units in every model
    batch: int = 32  # input sequences; the curve is the median over them
    models: tuple[str, ...] = tuple(RATIO_MODELS)  # which of RATIO_MODELS to measure

    def __post_init__(self) -> None:
        validation.positive_ints(self, "seq_len", "hidden", "batch")
        validation.non_empty(self, "models")
        if self.seq_len < 2:
            raise ValueError(f"RatioConfig.seq_len must be at least 2, got {self.seq_len!r}")
        unknown = sorted(set(self.models) - set(RATIO_MODELS))
        if unknown:
            raise ValueError(
                f"RatioConfig.models has unknown names {unknown}; choose from {list(RATIO_MODELS)}"
            )


def irnn_active_fraction(rnn: nn.RNN, x: torch.Tensor) -> float:
    """Fraction of (sequence, unit) pairs whose ReLU is open at every step: the 1s on the Jacobian's diagonal."""
    with torch.no_grad():
        out, _ = rnn(x)
    return float((out > 0).all(dim=1).double().mean())


def compute_ratio_at_init(config: RatioConfig, rng: np.random.Generator) -> Result:
    x = torch.from_numpy(rng.uniform(0.0, 1.0, (config.batch, config.seq_len, 1)))
    readout = torch.from_numpy(rng.standard_normal(config.hidden))
    curves, facts = {}, {}
    for name in config.models:
        # float64: the small ratios underflow float32
        core = RATIO_MODELS[name](1, config.hidden).double()
        curves[name] = gradient_ratio_by_lag(core, x, readout)
        facts[f"ratio_{name}"] = float(curves[name][-1])
        if name == "irnn":
            facts["irnn_active_fraction"] = irnn_active_fraction(core, x)
            facts["irnn_input_std"] = IRNN_INPUT_STD
        if name == "default_tanh":
            W = core.weight_hh_l0.detach().numpy()
            facts["default_whh_spectral_radius"] = float(np.max(np.abs(np.linalg.eigvals(W))))
            facts["default_whh_sigma_max"] = float(np.linalg.norm(W, 2))
            facts["default_whh_sigma_min"] = float(np.linalg.svd(W, compute_uv=False)[-1])
    if "default_tanh" in curves and "orthogonal_tanh" in curves:
        facts["orthogonal_gain_decades"] = float(
            np.log10(curves["orthogonal_tanh"][-1] / curves["default_tanh"][-1])
        )
    facts.update(seq_len=config.seq_len, hidden=config.hidden, batch=config.batch)
    return Result(data={"lag": np.arange(config.seq_len), "curves": curves}, facts=facts)


def plot_ratio_at_init(result: Result, ax) -> None:
    lag, curves = result.data["lag"], result.data["curves"]
    lstm_colors = iter(plotting.sequential(3, "viridis"))
    plain = iter([plotting.COLORS["grey"], plotting.COLORS["orange"], plotting.COLORS["purple"]])
    for name, curve in curves.items():
        color = next(lstm_colors) if name.startswith("lstm") else next(plain)
        style = "--" if name.startswith("lstm") else "-"
        ax.plot(lag, curve, color=color, ls=style, label=f"{RATIO_LABELS[name]}: {curve[-1]:.2g}")
    plotting.log_axis(ax)
    ax.set(
        xlabel="lag $k$ (steps back from the last step $T$)",
        ylabel=r"$\|\partial L/\partial h_{T-k}\| \,/\, \|\partial L/\partial h_T\|$ (log scale)",
    )
    ax.legend(
        loc="lower left", title=f"at initialisation; value at $k={lag[-1]}$", title_fontsize=9
    )


# ---------------------------------------------------------------- figure l06_echo_state
@dataclass(frozen=True)
class EchoStateConfig:
    size: int = 100  # reservoir units
    radii: tuple[float, ...] = (0.5, 0.9, 3.0)  # spectral radii of the reservoir matrix W
    input_scale: float = 0.1  # input weights are uniform in (-input_scale, input_scale)
    steps: int = 200  # how long both copies are driven by the same input

    def __post_init__(self) -> None:
        validation.positive_ints(self, "size", "steps")
        validation.positive_floats(self, "input_scale")
        validation.non_empty(self, "radii")
        if any(not (isinstance(r, (int, float)) and r > 0) for r in self.radii):
            raise ValueError(f"EchoStateConfig.radii must all be numbers > 0, got {self.radii!r}")


#: Distances below this are float64 round-off: two states that agree to ~16 digits are the same state.
ROUNDOFF_FLOOR = 1e-16


def compute_echo_state(config: EchoStateConfig, rng: np.random.Generator) -> Result:
    u = rng.uniform(-1.0, 1.0, config.steps)
    x0, x0_other = rng.uniform(-1.0, 1.0, (2, config.size))
    reservoir_seed = int(rng.integers(2**32))  # one random reservoir, rescaled to each radius
    distances, facts = {}, {}
    for rho in config.radii:
        esn = EchoStateNetwork(
            config.size, rho, config.input_scale, np.random.default_rng(reservoir_seed)
        )
        d = state_distance(esn, u, x0, x0_other)
        distances[f"{rho:g}"] = d
        facts[f"esp_final_distance_rho_{rho:g}"] = float(d[-1])
        facts[f"esp_sigma_max_rho_{rho:g}"] = float(np.linalg.norm(esn.W, 2))
    facts["esp_initial_distance"] = float(np.linalg.norm(x0 - x0_other))
    facts.update(esp_steps=config.steps, reservoir_size=config.size, input_scale=config.input_scale)
    return Result(
        data={
            "step": np.arange(1, config.steps + 1),
            "distance": distances,
            "initial_distance": facts["esp_initial_distance"],
        },
        facts=facts,
    )


def plot_echo_state(result: Result, ax) -> None:
    step, distances = result.data["step"], result.data["distance"]
    for (rho, d), color in zip(distances.items(), plotting.sequential(len(distances), "plasma")):
        ax.plot(step, np.maximum(d, ROUNDOFF_FLOOR), color=color, label=rf"$\rho={rho}$")
    ax.axhline(ROUNDOFF_FLOOR, color=plotting.COLORS["grey"], lw=0.8, ls=":")
    ax.annotate(
        "float64 round-off",
        (step[-1], ROUNDOFF_FLOOR),
        textcoords="offset points",
        xytext=(0, 4),
        ha="right",
        fontsize=8,
        color=plotting.COLORS["grey"],
    )
    plotting.log_axis(ax)
    ax.set(
        xlabel="step $t$ (same input sequence for both copies)",
        ylabel=r"$\|x_t - x′_t\|$ (log scale)",
    )
    ax.legend(loc="center right", title="spectral radius", title_fontsize=9)


# ---------------------------------------------------------------- figure l06_esn_memory
@dataclass(frozen=True)
class MemoryConfig:
    size: int = 100  # reservoir units
    radii: tuple[float, ...] = (0.5, 0.8, 0.95, 1.1, 1.5)  # spectral radii to compare
    input_scale: float = (
        0.1  # small inputs keep tanh near its linear range, where memory is longest
    )
    max_delay: int = 60  # recall u_{t-d} for d = 1..max_delay
    washout: int = 100  # first steps dropped: they still remember the arbitrary starting state
    n_train: int = 2000  # steps used to fit the readout; the rest are held out for r^2
    n_test: int = 1000
    ridge: float = 1e-6  # L2 penalty of the readout

    def __post_init__(self) -> None:
        validation.positive_ints(self, "size", "max_delay", "washout", "n_train", "n_test")
        validation.positive_floats(self, "input_scale", "ridge")
        validation.non_empty(self, "radii")
        if any(not (isinstance(r, (int, float)) and r > 0) for r in self.radii):
            raise ValueError(f"MemoryConfig.radii must all be numbers > 0, got {self.radii!r}")
        if self.n_train <= self.size:
            raise ValueError(
                f"MemoryConfig.n_train must exceed size (more equations than unknowns), "
                f"got {self.n_train!r}"
            )


def compute_esn_memory(config: MemoryConfig, rng: np.random.Generator) -> Result:
    u = rng.uniform(-1.0, 1.0, config.washout + config.max_delay + config.n_train + config.n_test)
    reservoir_seed = int(rng.integers(2**32))  # one random reservoir, rescaled to each radius
    r2, facts = {}, {}
    for rho in config.radii:
        esn = EchoStateNetwork(
            config.size, rho, config.input_scale, np.random.default_rng(reservoir_seed)
        )
        curve = recall_r2(esn, u, config.max_delay, config.washout, config.n_train, config.ridge)
        r2[f"{rho:g}"] = curve
        facts[f"memory_capacity_rho_{rho:g}"] = float(curve.sum())
        facts[f"recall_r2_d20_rho_{rho:g}"] = (
            float(curve[19]) if config.max_delay >= 20 else float("nan")
        )
    best = max(config.radii, key=lambda rho: facts[f"memory_capacity_rho_{rho:g}"])
    facts.update(
        best_radius=float(best),
        best_capacity=facts[f"memory_capacity_rho_{best:g}"],
        reservoir_size=config.size,
        max_delay=config.max_delay,
        input_scale=config.input_scale,
        recall_delay=20,
    )
    return Result(data={"delay": np.arange(1, config.max_delay + 1), "r2": r2}, facts=facts)


def plot_esn_memory(result: Result, ax) -> None:
    delay, r2 = result.data["delay"], result.data["r2"]
    for (rho, curve), color in zip(r2.items(), plotting.sequential(len(r2), "plasma")):
        capacity = result.facts[f"memory_capacity_rho_{rho}"]
        ax.plot(delay, curve, color=color, label=rf"$\rho={rho}$: capacity {capacity:.1f}")
    ax.set(
        xlabel="delay $d$ (steps back)",
        ylabel="recall $r^2$ of $u_{t-d}$ (held-out data)",
        ylim=(-0.02, 1.05),
        xlim=(0, delay[-1]),
    )
    ax.legend(loc="upper right", title="spectral radius", title_fontsize=9)


FIGURES = [
    FigureSpec(
        name="l06_ratio_at_init",
        compute=compute_ratio_at_init,
        plot=plot_ratio_at_init,
        config=RatioConfig(),
        fast=RatioConfig(seq_len=40, hidden=16, batch=8),
        expected_s=3.0,
        expected_fast_s=1.0,
        size=(6.8, 4.4),
        alt="Gradient ratio against lag on a logarithmic axis for six freshly initialised networks of {hidden} units,"
        " over {seq_len} steps. At the longest lag the default tanh RNN keeps {ratio_default_tanh:.0e} of the "
        "signal and the LSTM with forget bias zero keeps {ratio_lstm_bias0:.0e}, both falling in straight lines; "
        "the LSTM with bias one keeps {ratio_lstm_bias1:.0e}, the orthogonal tanh RNN {ratio_orthogonal_tanh:.1e}"
        " and the LSTM with bias three {ratio_lstm_bias3:.2g}; the IRNN stays flat at {ratio_irnn:.2f} after a "
        "one-step drop.",
    ),
    FigureSpec(
        name="l06_echo_state",
        compute=compute_echo_state,
        plot=plot_echo_state,
        config=EchoStateConfig(),
        fast=EchoStateConfig(size=30, steps=80),
        expected_s=1.0,
        expected_fast_s=0.5,
        size=(6.4, 3.6),
        alt="Distance between two copies of a reservoir started from different states and fed the same inputs for "
        "{esp_steps} steps, on a logarithmic axis, for spectral radii {config.radii}. Starting from "
        "{esp_initial_distance:.2g}, it falls in a straight line to the float64 round-off floor "
        "({esp_final_distance_rho_0.5:.0e} at the end) for the smallest radius, more slowly for the middle one "
        "({esp_final_distance_rho_0.9:.0e} at the end), and stays large, at {esp_final_distance_rho_3:.3g}, for "
        "the largest.",
    ),
    FigureSpec(
        name="l06_esn_memory",
        compute=compute_esn_memory,
        plot=plot_esn_memory,
        config=MemoryConfig(),
        fast=MemoryConfig(size=40, max_delay=30, n_train=400, n_test=200),
        expected_s=2.0,
        expected_fast_s=0.5,
        size=(6.4, 3.8),
        alt="Recall r squared of the input d steps ago against d, up to {max_delay}, for spectral radii "
        "{config.radii}. Each curve starts near one and drops to zero. The memory capacity, the sum of a curve, "
        "is {memory_capacity_rho_0.5:.1f} for the smallest radius, rises to its largest value, "
        "{best_capacity:.1f}, at radius {best_radius:g}, and falls to {memory_capacity_rho_1.5:.1f} for the "
        "largest radius.",
    ),
]
