"""Lesson 2: the repeated-multiplication effect.

A gradient that travels k steps back through a recurrent net is multiplied by k Jacobians.
This module shows what repeated multiplication does: to a number, to a fixed matrix (where the
spectral radius sets the rate) and to the spectrum of a matrix product (where singular values,
not eigenvalues, decide how much any direction can grow or shrink).

The sections between ``--8<--`` markers are embedded verbatim in ``docs/02-repeated-multiplication.md``
and run, in order, as a reader would paste them: they need nothing but numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code import plotting, validation
from lessons_code.registry import FigureSpec, Result

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]


# --8<-- [start:powers]
def repeated_products(base: float, n_max: int) -> np.ndarray:
    """base**n for n = 0..n_max, built by multiplying step by step, as backpropagation does."""
    values = np.empty(n_max + 1)
    values[0] = 1.0
    for n in range(1, n_max + 1):
        values[n] = values[n - 1] * base
    return values
    # --8<-- [end:powers]


# --8<-- [start:lag]
def scaled_to_spectral_radius(matrix: np.ndarray, rho: float) -> np.ndarray:
    """Rescale a square matrix so that its largest |eigenvalue| is exactly rho."""
    return matrix * (rho / np.max(np.abs(np.linalg.eigvals(matrix))))


def jacobian_power_norms(W: np.ndarray, max_lag: int) -> np.ndarray:
    """||dh_T/dh_{T-k}|| = ||W^k|| (spectral norm) for k = 0..max_lag, for h_t = W h_{t-1}."""
    norms = np.empty(max_lag + 1)
    product = np.eye(W.shape[0])
    for k in range(max_lag + 1):
        norms[k] = np.linalg.norm(product, ord=2)
        product = W @ product
    return norms


def fitted_log_slope(norms: np.ndarray, skip: int) -> float:
    """Least-squares slope of log(norm) against lag, ignoring the first `skip` lags (the transient)."""
    lags = np.arange(len(norms))
    return float(np.polyfit(lags[skip:], np.log(norms[skip:]), deg=1)[0])
    # --8<-- [end:lag]


# --8<-- [start:singular]
def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def product_singular_values(W: np.ndarray, steps: list[int]) -> dict[int, np.ndarray]:
    """Singular values (largest first) of W^k for each k in `steps`."""
    spectra, product = {}, np.eye(W.shape[0])
    for k in range(1, max(steps) + 1):
        product = W @ product
        if k in steps:
            spectra[k] = np.linalg.svd(product, compute_uv=False)
    return spectra
    # --8<-- [end:singular]


# --8<-- [start:nonnormal]
def transient_peak(W: np.ndarray, max_lag: int) -> tuple[int, float]:
    """The lag at which ||W^k|| is largest, and that largest value."""
    norms = jacobian_power_norms(W, max_lag)
    return int(np.argmax(norms)), float(norms.max())
    # --8<-- [end:nonnormal]


# ---------------------------------------------------------------- figure l02_powers
@dataclass(frozen=True)
class PowersConfig:
    bases: tuple[float, ...] = (0.9, 1.1)  # one just below and one just above 1
    n_max: int = 50  # how many multiplications
    marks: tuple[int, ...] = (10, 50)  # the exponents quoted in the text

    def __post_init__(self) -> None:
        validation.positive_ints(self, "n_max")
        validation.non_empty(self, "bases")
        if any(not 0 <= m <= self.n_max for m in self.marks):
            raise ValueError(f"PowersConfig.marks must lie in 0..n_max, got {self.marks!r}")


def compute_powers(config: PowersConfig, rng: np.random.Generator) -> Result:
    n = np.arange(config.n_max + 1)
    curves = {f"{b:g}": repeated_products(b, config.n_max) for b in config.bases}
    facts = {
        f"power_{b:g}_{m}": float(curves[f"{b:g}"][m]) for b in config.bases for m in config.marks
    }
    return Result(data={"n": n, "curves": curves, "marks": list(config.marks)}, facts=facts)


def plot_powers(result: Result, ax) -> None:
    n, marks = result.data["n"], result.data["marks"]
    for (base, values), color in zip(result.data["curves"].items(), plotting.CYCLE):
        ax.plot(n, values, color=color, label=f"${base}^n$")
        plotting.annotate_points(
            ax, marks, values[marks], [f"{values[m]:.3g}" for m in marks], color=color
        )
    ax.axhline(1.0, color=plotting.COLORS["grey"], lw=0.8, ls="--")
    plotting.log_axis(ax)
    ax.set(xlabel="number of multiplications $n$", ylabel="value (log scale)")
    ax.legend(loc="upper left")


# ---------------------------------------------------------------- figure l02_gradient_vs_lag
@dataclass(frozen=True)
class LagConfig:
    hidden: int = 64  # units in the linear recurrence h_t = W h_{t-1}
    max_lag: int = 100  # how far back the gradient travels
    radii: tuple[float, ...] = (0.5, 0.9, 1.0, 1.1, 1.5)  # spectral radii of W
    fit_from: int = 20  # lags before this are the transient, left out of the slope fit

    def __post_init__(self) -> None:
        validation.positive_ints(self, "hidden", "max_lag", "fit_from")
        validation.non_empty(self, "radii")
        if self.fit_from >= self.max_lag - 1:
            raise ValueError(f"LagConfig.fit_from must be below max_lag - 1, got {self.fit_from!r}")
        if any(r <= 0 for r in self.radii):
            raise ValueError(f"LagConfig.radii must all be > 0, got {self.radii!r}")


# both eigenvalues 0.9, yet it amplifies at first
NONNORMAL_EXAMPLE = np.array([[0.9, 4.0], [0.0, 0.9]])


def compute_gradient_vs_lag(config: LagConfig, rng: np.random.Generator) -> Result:
    gaussian = rng.standard_normal((config.hidden, config.hidden)) / np.sqrt(config.hidden)
    norms, facts = {}, {}
    for rho in config.radii:
        curve = jacobian_power_norms(scaled_to_spectral_radius(gaussian, rho), config.max_lag)
        norms[f"{rho:g}"] = curve
        facts[f"slope_rho_{rho:g}"] = fitted_log_slope(curve, config.fit_from)
        facts[f"log_rho_{rho:g}"] = float(np.log(rho))
    peak_lag, peak = transient_peak(NONNORMAL_EXAMPLE, config.max_lag)
    facts.update(
        nonnormal_peak_lag=peak_lag,
        nonnormal_peak_norm=peak,
        nonnormal_spectral_radius=float(np.max(np.abs(np.linalg.eigvals(NONNORMAL_EXAMPLE)))),
    )
    data = {
        "lag": np.arange(config.max_lag + 1),
        "norms": norms,
        "fit_from": config.fit_from,
        "nonnormal_norms": jacobian_power_norms(NONNORMAL_EXAMPLE, config.max_lag),
    }
    return Result(data=data, facts=facts)


def plot_gradient_vs_lag(result: Result, ax) -> None:
    lag = result.data["lag"]
    curves = result.data["norms"]
    for (rho, norms), color in zip(curves.items(), plotting.sequential(len(curves), "plasma")):
        slope = result.facts[f"slope_rho_{rho}"]
        ax.plot(lag, norms, color=color, label=rf"$\rho={rho}$: {slope:+.3f}")
    plotting.log_axis(ax)
    ax.set(
        xlabel="lag $k$ (steps back in time)",
        ylabel=r"$\|\partial h_T/\partial h_{T-k}\|_2$ (log scale)",
    )
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        title="spectral radius:\nfitted slope",
        title_fontsize=9,
    )


# ---------------------------------------------------------------- figure l02_singular_values
@dataclass(frozen=True)
class SingularConfig:
    hidden: int = 64
    steps: tuple[int, ...] = (1, 2, 4, 8)  # k: how many factors in the product W^k

    def __post_init__(self) -> None:
        validation.positive_ints(self, "hidden")
        validation.non_empty(self, "steps")
        if any(isinstance(k, bool) or not isinstance(k, int) or k <= 0 for k in self.steps):
            raise ValueError(f"SingularConfig.steps must be positive integers, got {self.steps!r}")


#: Below this ratio sigma_min/sigma_max, float64 SVD can no longer resolve the small singular values.
RESOLVABLE_RATIO = 1e-12


def compute_singular_values(config: SingularConfig, rng: np.random.Generator) -> Result:
    n = config.hidden
    kinds = {
        "gaussian": rng.standard_normal((n, n))
        / np.sqrt(n),  # the classic N(0, 1/n) initialisation
        "orthogonal": random_orthogonal(n, rng),
    }
    spectra = {kind: product_singular_values(W, list(config.steps)) for kind, W in kinds.items()}
    worst = min(s[-1] / s[0] for s in spectra["gaussian"].values())
    if worst < RESOLVABLE_RATIO:
        raise ValueError(
            f"SingularConfig.steps too long: singular values span {-np.log10(worst):.1f} decades, "
            "beyond what float64 resolves; use fewer steps"
        )
    k_max = max(config.steps)
    gauss = spectra["gaussian"][k_max]
    facts = {
        "gaussian_spectral_radius": float(np.max(np.abs(np.linalg.eigvals(kinds["gaussian"])))),
        "gaussian_sigma_max_1": float(spectra["gaussian"][1][0]),
        "gaussian_decades_kmax": float(np.log10(gauss[0] / gauss[-1])),
        "k_max": k_max,
        "orthogonal_max_deviation": float(
            max(np.max(np.abs(s - 1)) for s in spectra["orthogonal"].values())
        ),
    }
    data = {kind: {str(k): s for k, s in by_k.items()} for kind, by_k in spectra.items()}
    return Result(data={"index": np.arange(1, n + 1), **data}, facts=facts)


def plot_singular_values(result: Result, axes) -> None:
    index = result.data["index"]
    titles = {
        "gaussian": r"Gaussian $W$, entries $\mathcal{N}(0, 1/n)$",
        "orthogonal": "orthogonal $W$",
    }
    for ax, kind in zip(axes, ("gaussian", "orthogonal")):
        spectra = result.data[kind]
        for (k, s), color in zip(spectra.items(), plotting.sequential(len(spectra))):
            ax.plot(index, s, color=color, marker="o", ms=2.5, lw=1.2, label=f"$k={k}$")
        plotting.log_axis(ax)
        ax.set(title=titles[kind], xlabel="singular value index $i$")
    axes[0].set_ylabel(r"$\sigma_i(W^k)$ (log scale)")
    axes[1].set_ylim(axes[0].get_ylim())
    axes[0].legend(loc="lower left", title="factors in product")


FIGURES = [
    FigureSpec(
        name="l02_powers",
        compute=compute_powers,
        plot=plot_powers,
        config=PowersConfig(),
        fast=PowersConfig(),  # already instant; the page quotes n = 10 and n = 50 in both presets
        expected_s=0.5,
        alt="Two curves on a logarithmic axis over up to {config.n_max} multiplications: {config.bases} raised to the"
        " power n. The first falls in a straight line to {power_0.9_50:.3g}, the second rises in a straight line "
        "to {power_1.1_50:.1f}; the values at n = {config.marks} are marked.",
    ),
    FigureSpec(
        name="l02_gradient_vs_lag",
        compute=compute_gradient_vs_lag,
        plot=plot_gradient_vs_lag,
        config=LagConfig(),
        fast=LagConfig(hidden=16, max_lag=40, fit_from=10),
        expected_s=1.0,
        size=(7.2, 4.0),
        alt="Norm of the k-step Jacobian against lag k on a logarithmic axis for spectral radii {config.radii}: "
        "straight lines that fall for the radii below one, stay level at one and rise above it, each with a "
        "fitted slope equal to the logarithm of its radius (for example {slope_rho_0.5:.4f} against "
        "{log_rho_0.5:.4f} for the smallest radius).",
    ),
    FigureSpec(
        name="l02_singular_values",
        compute=compute_singular_values,
        plot=plot_singular_values,
        config=SingularConfig(),
        fast=SingularConfig(hidden=16, steps=(1, 2, 4)),
        expected_s=1.0,
        panels=(1, 2),
        size=(7.2, 3.6),
        alt="Two panels of singular values on a logarithmic axis, for products of {config.steps} factors. Left, "
        "Gaussian W: the spectrum of the product fans out as the number of factors grows, over "
        "{gaussian_decades_kmax:.0f} decades at {k_max} factors. Right, orthogonal W: every singular value of "
        "every product lies on a flat line at one (the largest deviation is {orthogonal_max_deviation:.0e}).",
    ),
]
