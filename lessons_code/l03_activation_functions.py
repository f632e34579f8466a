"""Lesson 3: activation functions, and when gradients vanish or explode.

The one-step Jacobian of a recurrent layer is diag(phi'(a_t)) W, so the derivative of the
activation and the singular values of W together set how fast a gradient shrinks or grows.
This module plots the derivatives, sweeps the scale of W for sigmoid, tanh and ReLU networks to
show the two conditions of Pascanu et al. (2013), measures how large inputs saturate tanh, and
checks a common claim about ReLU.

The sections between ``--8<--`` markers are embedded verbatim in ``docs/03-activation-functions.md``
and run, in order, as a reader would paste them: they need nothing but numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.activations import ACTIVATIONS, relu, relu_prime, tanh_prime
from lessons_code.registry import FigureSpec, Result

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]


# --8<-- [start:lag_norm]
def with_sigma_max(matrix, sigma_max):
    """Rescale a matrix so that its largest singular value is exactly sigma_max."""
    return matrix * (sigma_max / np.linalg.norm(matrix, ord=2))


def gradient_norm_at_lag(W, activation, inputs, lag):
    """||dh_T / dh_{T-lag}||_2 along one trajectory of h_t = phi(W h_{t-1} + x_t).

    inputs has shape (T, n); the product of the last `lag` Jacobians diag(phi'(a_t)) W is returned
    as its spectral norm: the most any backward signal can grow (or the least it must shrink).
    """
    phi, phi_prime, _ = ACTIVATIONS[activation]
    h = np.zeros(W.shape[0])
    product = np.eye(W.shape[0])
    for t, x in enumerate(inputs):
        a = W @ h + x
        h = phi(a)
        if t >= len(inputs) - lag:
            # diag(phi'(a_t)) W times the product so far
            product = (phi_prime(a)[:, None] * W) @ product
    return np.linalg.norm(product, ord=2)


def pascanu_bound(sigma_max, gamma, lag):
    """The bound ||prod_t diag(phi'(a_t)) W||_2 <= (gamma * sigma_max(W)) ** lag."""
    return (gamma * sigma_max) ** lag
    # --8<-- [end:lag_norm]


# --8<-- [start:relu_check]
def identity_relu_demo(scale, steps=50, n=4, drive=0.1):
    """A ReLU network with W = scale * I and a small positive input at every step.

    Returns the largest ReLU derivative met, the gradient norm across all steps, and the final state norm.
    """
    W = scale * np.eye(n)
    h = np.ones(n)
    product = np.eye(n)
    largest_derivative = 0.0
    for _ in range(steps):
        a = W @ h + drive
        h = relu(a)
        largest_derivative = max(largest_derivative, relu_prime(a).max())
        product = (relu_prime(a)[:, None] * W) @ product
    return (
        float(largest_derivative),
        float(np.linalg.norm(product, ord=2)),
        float(np.linalg.norm(h)),
    )
    # --8<-- [end:relu_check]


# ---------------------------------------------------------------- figure l03_derivatives
@dataclass(frozen=True)
class DerivativesConfig:
    a_max: float = 6.0  # the plot and the grid span -a_max..a_max
    n_points: int = (
        240_001  # an odd count, so that a = 0 (where sigmoid' and tanh' peak) is on the grid
    )
    plotted_points: int = 481  # points per curve in the drawing (thinned from the grid)
    demo_scales: tuple[float, ...] = (0.9, 1.1)  # W = scale * I in the ReLU check

    def __post_init__(self) -> None:
        validation.positive_floats(self, "a_max")
        validation.positive_ints(self, "n_points", "plotted_points")
        validation.non_empty(self, "demo_scales")
        if self.n_points % 2 == 0:
            raise ValueError(
                f"DerivativesConfig.n_points must be odd so the grid contains 0, got {self.n_points!r}"
            )
        if self.plotted_points > self.n_points:
            raise ValueError(
                f"DerivativesConfig.plotted_points must be at most n_points, got {self.plotted_points!r}"
            )
        if any(s <= 0 for s in self.demo_scales):
            raise ValueError(
                f"DerivativesConfig.demo_scales must all be > 0, got {self.demo_scales!r}"
            )


def compute_derivatives(config: DerivativesConfig, rng: np.random.Generator) -> Result:
    grid = np.linspace(-config.a_max, config.a_max, config.n_points)
    shown = np.linspace(0, config.n_points - 1, config.plotted_points).round().astype(int)
    curves, facts = {}, {}
    for name, (phi, phi_prime, _) in ACTIVATIONS.items():
        values, slopes = phi(grid), phi_prime(grid)
        facts[f"{name}_prime_max"] = float(slopes.max())
        curves[name] = {"phi": values[shown], "phi_prime": slopes[shown]}
    facts["relu_prime_distinct_values"] = len(np.unique(relu_prime(grid)))
    facts["grid_points"] = config.n_points
    for scale in config.demo_scales:
        largest, grad, state = identity_relu_demo(scale)
        facts[f"relu_demo_{scale:g}_largest_derivative"] = float(largest)
        facts[f"relu_demo_{scale:g}_gradient_norm"] = float(grad)
        facts[f"relu_demo_{scale:g}_state_norm"] = float(state)
    return Result(data={"a": grid[shown], "curves": curves}, facts=facts)


def plot_derivatives(result: Result, axes) -> None:
    a, curves = result.data["a"], result.data["curves"]
    colors = {
        "sigmoid": plotting.COLORS["green"],
        "tanh": plotting.COLORS["blue"],
        "relu": plotting.COLORS["orange"],
    }
    labels = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU"}
    left, right = axes
    for name, curve in curves.items():
        left.plot(a, curve["phi"], color=colors[name], label=labels[name])
        slopes = np.array(curve["phi_prime"], dtype=float)
        # draw the jump at 0 as a gap: relu'(0) = 0 (filled dot), the open dot is excluded
        if name == "relu":
            slopes = np.where(np.isclose(a, 0.0), np.nan, slopes)
            right.plot([0], [0], "o", color=colors[name], ms=4, zorder=3)
            right.plot([0], [1], "o", mfc=plotting.CARD, color=colors[name], ms=4, zorder=3)
        right.plot(a, slopes, color=colors[name], label=labels[name])
    for level, text in (
        (result.facts["sigmoid_prime_max"], r"max sigmoid$′$"),
        (result.facts["tanh_prime_max"], r"max tanh$′$ = max ReLU$′$"),
    ):
        right.axhline(level, color=plotting.COLORS["grey"], lw=0.8, ls="--")
        right.text(
            a[0], level + 0.02, f"{text} = {level:g}", fontsize=8, color=plotting.COLORS["grey"]
        )
    left.set(title=r"activation $\phi(a)$", xlabel="pre-activation $a$", ylim=(-1.15, 2.2))
    right.set(title=r"derivative $\phi′(a)$", xlabel="pre-activation $a$", ylim=(-0.05, 1.15))
    left.legend(loc="upper left")


# ---------------------------------------------------------------- figure l03_regimes
@dataclass(frozen=True)
class RegimesConfig:
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu")  # names from ACTIVATIONS
    hidden: int = 64  # units in the recurrent layer
    lag: int = 50  # steps the gradient travels back
    burn_in: int = 50  # steps run before the measured window, so the state is typical of the input
    input_std: float = 1.0  # x_t ~ N(0, input_std^2) per unit, added to W h_{t-1}
    n_scales: int = 33  # points in the sweep of sigma_max(W), per activation
    low: float = 0.3  # the sweep runs from low / gamma ...
    high: float = 8.0  # ... to high / gamma, log-spaced, so the threshold 1 / gamma sits inside it
    edge: float = 0.01  # the sweep also holds (1 - edge) / gamma and (1 + edge) / gamma, either side of the line
    n_trials: int = 5  # random W and inputs per point; the band is their min-max
    vanished: float = 1e-6  # a gradient norm below this counts as vanished

    def __post_init__(self) -> None:
        validation.non_empty(self, "activations")
        for name in self.activations:
            if name not in ACTIVATIONS:
                raise ValueError(
                    f"RegimesConfig.activations: unknown activation {name!r}; "
                    f"choose from {', '.join(map(repr, ACTIVATIONS))}"
                )
        validation.positive_ints(self, "hidden", "lag", "n_scales", "n_trials")
        if isinstance(self.burn_in, bool) or not isinstance(self.burn_in, int) or self.burn_in < 0:
            raise ValueError(f"RegimesConfig.burn_in must be an integer >= 0, got {self.burn_in!r}")
        validation.positive_floats(self, "input_std", "low", "high", "vanished", "edge")
        if not self.low < 1.0 - self.edge and 1.0 + self.edge < self.high:
            raise ValueError(
                f"RegimesConfig.low must be below 1 and RegimesConfig.high above 1 so that the "
                f"threshold lies inside the sweep, got low={self.low!r}, high={self.high!r}"
            )


def compute_regimes(config: RegimesConfig, rng: np.random.Generator) -> Result:
    n, steps = config.hidden, config.burn_in + config.lag
    # sigma_max * gamma, sorted
    factors = np.union1d(
        np.geomspace(config.low, config.high, config.n_scales),
        [1.0 - config.edge, 1.0 + config.edge],
    )
    # The same random directions and inputs for every activation and scale: only phi and the scale change.
    directions = [rng.standard_normal((n, n)) for _ in range(config.n_trials)]
    inputs = [config.input_std * rng.standard_normal((steps, n)) for _ in range(config.n_trials)]
    data, facts = {}, {}
    for name in config.activations:
        gamma = ACTIVATIONS[name].gamma
        sigmas = factors / gamma
        # (n_scales, n_trials)
        norms = np.array(
            [
                [
                    gradient_norm_at_lag(with_sigma_max(D, s), name, x, config.lag)
                    for D, x in zip(directions, inputs)
                ]
                for s in sigmas
            ]
        )
        below, exploding = sigmas < 1.0 / gamma, norms > 1.0
        data[name] = {
            "sigma_max": sigmas,
            "median": np.median(norms, axis=1),
            "min": norms.min(axis=1),
            "max": norms.max(axis=1),
            "bound": pascanu_bound(sigmas, gamma, config.lag),
            "threshold": 1.0 / gamma,
        }
        facts[f"{name}_threshold"] = 1.0 / gamma
        facts[f"{name}_gamma"] = gamma
        facts[f"{name}_max_norm_below_threshold"] = float(norms[below].max())
        facts[f"{name}_points_below_threshold"] = int(below.sum() * config.n_trials)
        facts[f"{name}_vanished_below_threshold"] = int((norms[below] < config.vanished).sum())
        facts[f"{name}_exploding_runs"] = int(exploding.sum())
        facts[f"{name}_max_norm"] = float(norms.max())
        # The smallest scale at which any run explodes; the sweep's top if none does (see exploding_runs).
        facts[f"{name}_first_exploding_sigma"] = float(
            sigmas[exploding.any(axis=1)].min() if exploding.any() else sigmas.max()
        )
        facts[f"{name}_first_exploding_ratio"] = facts[f"{name}_first_exploding_sigma"] * gamma
    facts.update(
        lag=config.lag,
        vanished=config.vanished,
        hidden=n,
        n_trials=config.n_trials,
        runs_per_activation=len(factors) * config.n_trials,
    )
    return Result(data=data, facts=facts)


def plot_regimes(result: Result, axes) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    titles = {
        "sigmoid": r"sigmoid ($\gamma = 1/4$)",
        "tanh": r"tanh ($\gamma = 1$)",
        "relu": r"ReLU ($\gamma = 1$)",
    }
    lag = result.facts["lag"]
    for ax, (name, d) in zip(axes, result.data.items()):
        s, threshold = np.asarray(d["sigma_max"]), d["threshold"]
        ax.axvspan(s.min(), threshold, color=plotting.COLORS["sky"], alpha=0.12, lw=0)
        ax.axvline(threshold, color=plotting.COLORS["black"], lw=1.0)
        ax.fill_between(s, d["min"], d["max"], color=plotting.COLORS["blue"], alpha=0.25, lw=0)
        ax.plot(s, d["median"], color=plotting.COLORS["blue"], label="measured (median, range)")
        ax.plot(
            s,
            d["bound"],
            color=plotting.COLORS["orange"],
            ls="--",
            lw=1.4,
            label=rf"bound $(\gamma\,\sigma_{{\max}})^{{{lag}}}$",
        )
        ax.axhline(1.0, color=plotting.COLORS["grey"], lw=0.8)
        ax.axhline(result.facts["vanished"], color=plotting.COLORS["grey"], lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = [
            v for v in threshold * np.array([0.25, 0.5, 1, 2, 4, 8]) if s.min() <= v <= s.max()
        ]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(FixedLocator(10.0 ** np.arange(-50, 31, 10)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_ylim(1e-52, max(1e32, 10 * np.max(d["max"])))
        ax.set_xlim(s.min(), s.max())
        ax.set(title=titles.get(name, name), xlabel=r"$\sigma_{\max}(W)$ (log scale)")
        ax.text(
            threshold * 0.9,
            1e-49,
            rf"$1/\gamma = {threshold:g}$",
            rotation=90,
            ha="right",
            va="bottom",
            fontsize=8,
        )
    axes[0].set_ylabel(rf"$\|\partial h_T/\partial h_{{T-{lag}}}\|_2$ (log scale)")
    axes[0].text(
        axes[0].get_xlim()[0] * 1.1,
        1.5,
        "1",
        fontsize=8,
        color=plotting.COLORS["grey"],
        va="bottom",
    )
    axes[0].text(
        axes[0].get_xlim()[0] * 1.1,
        result.facts["vanished"] * 1.5,
        "vanished",
        fontsize=8,
        color=plotting.COLORS["grey"],
        va="bottom",
    )
    axes[0].legend(loc="upper left", fontsize=8)


# ---------------------------------------------------------------- figure l03_saturation
@dataclass(frozen=True)
class SaturationConfig:
    hidden: int = 64  # units in the tanh layer
    steps: int = 400  # length of the trajectory whose tanh' values are collected
    sigma_max: float = 1.0  # scale of W (largest singular value)
    shown_scales: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 4.0)  # input std of the histograms
    sweep_low: float = 0.05  # the right panel sweeps the input std from sweep_low ...
    sweep_high: float = 10.0  # ... to sweep_high (log-spaced)
    n_sweep: int = 25
    saturated_below: float = 0.1  # tanh'(a) below this counts as saturated (|a| > about 1.8)
    bins: int = 40

    def __post_init__(self) -> None:
        validation.positive_ints(self, "hidden", "steps", "n_sweep", "bins")
        validation.positive_floats(self, "sigma_max", "sweep_low", "sweep_high", "saturated_below")
        validation.non_empty(self, "shown_scales")
        if any(s <= 0 for s in self.shown_scales):
            raise ValueError(
                f"SaturationConfig.shown_scales must all be > 0, got {self.shown_scales!r}"
            )
        if not self.sweep_low < self.sweep_high:
            raise ValueError(
                f"SaturationConfig.sweep_high must exceed sweep_low, got {self.sweep_high!r}"
            )
        if not 0 < self.saturated_below < 1:
            raise ValueError(
                f"SaturationConfig.saturated_below must lie in (0, 1), got {self.saturated_below!r}"
            )


# --8<-- [start:saturation]
def preactivations_along_trajectory(W, inputs):
    """a_t for every unit and step of h_t = tanh(W h_{t-1} + x_t), flattened."""
    h, values = np.zeros(W.shape[0]), []
    for x in inputs:
        a = W @ h + x
        h = np.tanh(a)
        values.append(a)
    return np.concatenate(values)


def log_tanh_prime(a):
    """log tanh'(a) = log sech^2(a), exact where tanh'(a) itself underflows to 0 (|a| > about 19)."""
    z = np.abs(a)
    return 2.0 * (np.log(2.0) - z - np.log1p(np.exp(-2.0 * z)))
    # --8<-- [end:saturation]


def compute_saturation(config: SaturationConfig, rng: np.random.Generator) -> Result:
    W = with_sigma_max(rng.standard_normal((config.hidden, config.hidden)), config.sigma_max)
    # the same noise, scaled, for every input std
    noise = rng.standard_normal((config.steps, config.hidden))
    edges = np.linspace(0.0, 1.0, config.bins + 1)
    histograms, facts = {}, {}
    for scale in config.shown_scales:
        values = tanh_prime(preactivations_along_trajectory(W, scale * noise))
        counts, _ = np.histogram(values, bins=edges)
        histograms[f"{scale:g}"] = counts / counts.sum()
        facts[f"median_tanh_prime_{scale:g}"] = float(np.median(values))
        facts[f"saturated_fraction_{scale:g}"] = float(np.mean(values < config.saturated_below))
    sweep = np.geomspace(config.sweep_low, config.sweep_high, config.n_sweep)
    medians, saturated, geo_means = [], [], []
    for scale in sweep:
        a = preactivations_along_trajectory(W, scale * noise)
        values = tanh_prime(a)
        medians.append(np.median(values))
        saturated.append(np.mean(values < config.saturated_below))
        # the typical per-step factor of a long product
        geo_means.append(np.exp(np.mean(log_tanh_prime(a))))
    facts.update(saturated_below=config.saturated_below, sigma_max=config.sigma_max)
    data = {
        "edges": edges,
        "histograms": histograms,
        "sweep": sweep,
        "median": np.array(medians),
        "saturated_fraction": np.array(saturated),
        "geometric_mean": np.array(geo_means),
    }
    return Result(data=data, facts=facts)


def plot_saturation(result: Result, axes) -> None:
    left, right = axes
    edges = np.asarray(result.data["edges"])
    hist = result.data["histograms"]
    for (scale, fractions), color in zip(hist.items(), plotting.sequential(len(hist), "plasma")):
        left.stairs(fractions, edges, color=color, lw=1.6, label=f"input std {scale}")
    left.set(
        title=r"distribution of $\tanh′(a_t)$",
        xlabel=r"$\tanh′(a_t)$",
        ylabel="fraction of unit-steps",
        xlim=(0, 1),
    )
    left.legend(loc="upper center")
    sweep = result.data["sweep"]
    right.plot(
        sweep, result.data["median"], color=plotting.COLORS["blue"], label=r"median $\tanh′$"
    )
    right.plot(
        sweep,
        result.data["geometric_mean"],
        color=plotting.COLORS["green"],
        ls="--",
        label=r"geometric mean $\tanh′$",
    )
    cutoff = result.facts["saturated_below"]
    right.plot(
        sweep,
        result.data["saturated_fraction"],
        color=plotting.COLORS["orange"],
        label=rf"fraction with $\tanh' < {cutoff:g}$",
    )
    plotting.log_axis(right, "x")
    right.set(title="as the input grows", xlabel="input std (log scale)", ylim=(0, 1.02))
    right.legend(loc="center left")


FIGURES = [
    FigureSpec(
        name="l03_derivatives",
        compute=compute_derivatives,
        plot=plot_derivatives,
        config=DerivativesConfig(),
        fast=DerivativesConfig(n_points=4001, plotted_points=201),
        expected_s=0.5,
        expected_fast_s=0.5,
        panels=(1, 2),
        size=(7.2, 3.4),
        alt="Two panels over pre-activations from minus {config.a_max:g} to {config.a_max:g}. Left: the sigmoid "
        "rising from zero to one, tanh from minus one to one, and ReLU flat at zero then rising as a straight "
        "line. Right: their derivatives. The sigmoid's is a bump that peaks at {sigmoid_prime_max:g}, tanh's a "
        "bump that peaks at {tanh_prime_max:g}, and ReLU's a step from zero to {relu_prime_max:g} that never goes"
        " higher; dashed lines mark the two maxima.",
    ),
    FigureSpec(
        name="l03_regimes",
        compute=compute_regimes,
        plot=plot_regimes,
        config=RegimesConfig(),
        fast=RegimesConfig(hidden=16, lag=50, burn_in=10, n_scales=9, n_trials=2),
        expected_s=2.0,
        expected_fast_s=1.0,
        panels=(1, 3),
        size=(7.6, 3.6),
        alt="Three panels, for sigmoid, tanh and ReLU networks, of the gradient norm across {lag} steps against the "
        "largest singular value of W, both on logarithmic axes. A vertical line marks one over gamma: "
        "{sigmoid_threshold:g} for the sigmoid, {tanh_threshold:g} for tanh and ReLU; left of it the shaded "
        "region where vanishing is guaranteed. Left of the line every measured norm lies below {vanished:.0e} and"
        " under the dashed bound (the largest is {tanh_max_norm_below_threshold:.0e} for tanh). Right of it the "
        "norms can explode: ReLU reaches {relu_max_norm:.0e} and tanh {tanh_max_norm:.1e}, while the sigmoid "
        "first exceeds one only at {sigmoid_first_exploding_ratio:.2g} times its threshold and reaches "
        "{sigmoid_max_norm:.3g}.",
    ),
    FigureSpec(
        name="l03_saturation",
        compute=compute_saturation,
        plot=plot_saturation,
        config=SaturationConfig(),
        fast=SaturationConfig(hidden=16, steps=100, n_sweep=8, shown_scales=(0.1, 1.0, 4.0)),
        expected_s=1.0,
        expected_fast_s=0.5,
        panels=(1, 2),
        size=(7.6, 3.4),
        alt="Left: histograms of the tanh derivative met along a trajectory of a tanh network, one per input size. "
        "For small inputs almost all values sit near one, at the right edge; as the inputs grow the mass moves to"
        " the left edge, near zero. Right: as the input standard deviation grows from {config.sweep_low:g} to "
        "{config.sweep_high:g}, the median derivative falls (from {median_tanh_prime_0.1:.2f} at the smallest "
        "input size shown on the left to {median_tanh_prime_4:.2f} at the largest) while the fraction of "
        "saturated units rises (to {saturated_fraction_4:.0%} at that largest size).",
    ),
]
