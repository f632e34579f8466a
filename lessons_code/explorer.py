"""The gradient-flow explorer, in numpy: the reference that the page's JavaScript must agree with.

The explorer page (``docs/explorer.md``, embedded in lessons 2 and 3) computes in the browser, in
``docs/javascripts/explorer.js``. Both sides build the same network from the same seeded random
numbers and return the same quantities; ``tests/test_explorer.py`` checks that they agree. The
linear algebra is deliberately *not* shared: numpy's LAPACK routines here (eigenvalues, QR, SVD,
spectral norm) check the hand-written routines in the JavaScript.

The network: ``N_UNITS`` units, ``h_t = phi(W h_{t-1} + x_t)`` for t = 1..T from ``h_0 = 0``, with inputs
``x_t ~ N(0, 1)`` per unit. The matrix is ``W = rho * W0 / rho(W0)``, so its spectral radius is exactly the
chosen ``rho``; ``W0`` is Gaussian (entries N(0, 1/n)), orthogonal (Q of the QR factorisation of a Gaussian
matrix, signs fixed so that R has a positive diagonal) or the identity.

Random numbers: mulberry32, a 32-bit generator that JavaScript and numpy compute bit for bit alike,
turned into standard normals by the Box-Muller transform. Stream ``WEIGHT_SEED`` gives W0 (row by row),
stream ``INPUT_SEED`` the inputs (x_1 first), so a longer sequence extends a shorter one.

No figure is registered here: the explorer draws its own plots, live, in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons_code.activations import ACTIVATIONS, Activation

# --8<-- [start:imports]
import numpy as np
# --8<-- [end:imports]

N_UNITS = 24  # hidden units: two dozen give a realistic spectrum and redraw in milliseconds
WEIGHT_SEED = 1
INPUT_SEED = 2
RHO_RANGE = (0.1, 5.0)  # the spectral-radius slider's range
LENGTH_RANGE = (5, 200)  # the sequence-length slider's range
#: Singular values below this fraction of the largest are rounding noise in a float64 product.
RESOLVABLE = 1e-12
INITS = ("gaussian", "orthogonal", "identity")


# --8<-- [start:random]
def mulberry32(seed, count):
    """`count` 32-bit outputs of the mulberry32 generator; JavaScript computes the same integers."""
    # a Weyl sequence
    state = (seed + np.arange(1, count + 1, dtype=np.uint64) * 0x6D2B79F5) % 2**32
    t = state.astype(np.uint32)
    t = (t ^ (t >> 15)) * (t | 1)  # uint32 arithmetic wraps modulo 2**32, like Math.imul
    t ^= t + (t ^ (t >> 7)) * (t | 61)
    return t ^ (t >> 14)


def standard_normals(seed, count):
    """`count` N(0, 1) numbers: Box-Muller on pairs of uniforms in (0, 1)."""
    pairs = (count + 1) // 2
    u = (mulberry32(seed, 2 * pairs).astype(np.float64) + 0.5) / 2**32
    radius, angle = np.sqrt(-2.0 * np.log(u[0::2])), 2.0 * np.pi * u[1::2]
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).ravel()[:count]
    # --8<-- [end:random]


# --8<-- [start:weights]
# The chapter's activations (lessons_code/activations.py), plus "linear" for the explorer's baseline.
EXPLORER_ACTIVATIONS = {"linear": Activation(lambda a: a, np.ones_like, 1.0), **ACTIVATIONS}


def initial_matrix(init, n=24, seed=1):
    """W0 before scaling: 'gaussian' (entries N(0, 1/n)), 'orthogonal' or 'identity'."""
    if init == "identity":
        return np.eye(n)
    g = standard_normals(seed, n * n).reshape(n, n)
    if init == "gaussian":
        return g / np.sqrt(n)
    q, r = np.linalg.qr(g)
    return q * np.sign(np.diag(r))  # the unique Q whose R has a positive diagonal


def recurrent_matrix(init, rho, n=24, seed=1):
    """W scaled so that its spectral radius (largest |eigenvalue|) is exactly rho."""
    w0 = initial_matrix(init, n, seed)
    return w0 * (rho / np.max(np.abs(np.linalg.eigvals(w0))))
    # --8<-- [end:weights]


# --8<-- [start:gradients]
def jacobian_products(W, activation, inputs):
    """Run h_t = phi(W h_{t-1} + x_t) from h_0 = 0, then multiply the Jacobians from the last step back.

    Returns (unit, log_scale): product k (k = 0..T) is J_T J_{T-1} ... J_{T-k+1} = exp(log_scale[k]) * unit[k],
    with J_t = diag(phi'(a_t)) W. Each unit[k] has Frobenius norm 1 (or is 0), so no product under- or
    overflows, however long the sequence.
    """
    phi, phi_prime, _ = EXPLORER_ACTIVATIONS[activation]
    n, T = W.shape[0], len(inputs)
    h, slopes = np.zeros(n), []
    for x in inputs:
        a = W @ h + x
        h = phi(a)
        slopes.append(phi_prime(a))
    unit, log_scale = np.empty((T + 1, n, n)), np.zeros(T + 1)
    product, log_s = np.eye(n) / np.sqrt(n), 0.5 * np.log(n)
    unit[0], log_scale[0] = product, log_s
    for k in range(1, T + 1):
        product = product @ (slopes[T - k][:, None] * W)  # times J_{T-k+1}, on the right
        size = np.linalg.norm(product)
        if size > 0:
            product, log_s = product / size, log_s + np.log(size)
        else:
            log_s = -np.inf  # an exactly zero gradient (every ReLU unit off at some step)
        unit[k], log_scale[k] = product, log_s
    return unit, log_scale


def log10_gradient_norms(unit, log_scale):
    """log10 ||dh_T / dh_{T-k}||_2 for k = 0..T (the spectral norm of each product)."""
    norms = np.array([np.linalg.norm(p, ord=2) for p in unit])
    with np.errstate(divide="ignore"):
        return (log_scale + np.log(norms)) / np.log(10)
    # --8<-- [end:gradients]


@dataclass(frozen=True)
class ExplorerSettings:
    """One position of the explorer's controls."""

    activation: str = "tanh"  # one of EXPLORER_ACTIVATIONS
    init: str = "gaussian"  # one of INITS
    rho: float = 1.0  # spectral radius of W
    length: int = 100  # T, the sequence length
    lag: int = 20  # k for the singular-value panel: the product of the last k Jacobians

    def __post_init__(self) -> None:
        if self.activation not in EXPLORER_ACTIVATIONS:
            raise ValueError(
                f"ExplorerSettings.activation must be one of {', '.join(EXPLORER_ACTIVATIONS)}, "
                f"got {self.activation!r}"
            )
        if self.init not in INITS:
            raise ValueError(
                f"ExplorerSettings.init must be one of {', '.join(INITS)}, got {self.init!r}"
            )
        low, high = RHO_RANGE
        if (
            isinstance(self.rho, bool)
            or not isinstance(self.rho, (int, float))
            or not low <= self.rho <= high
        ):
            raise ValueError(
                f"ExplorerSettings.rho must be a number in [{low}, {high}], got {self.rho!r}"
            )
        low, high = LENGTH_RANGE
        if (
            isinstance(self.length, bool)
            or not isinstance(self.length, int)
            or not low <= self.length <= high
        ):
            raise ValueError(
                f"ExplorerSettings.length must be an integer in [{low}, {high}], got {self.length!r}"
            )
        if (
            isinstance(self.lag, bool)
            or not isinstance(self.lag, int)
            or not 1 <= self.lag <= self.length
        ):
            raise ValueError(
                f"ExplorerSettings.lag must be an integer in [1, length], got {self.lag!r}"
            )


def fit_from(length: int) -> int:
    """The slope is fitted from this lag on: the first fifth of the lags is the transient."""
    return max(1, length // 5)


def explore(settings: ExplorerSettings) -> dict:
    """Everything the explorer shows for one setting (the numbers the browser must reproduce)."""
    _, _, gamma = EXPLORER_ACTIVATIONS[settings.activation]
    W = recurrent_matrix(settings.init, settings.rho, N_UNITS, WEIGHT_SEED)
    inputs = standard_normals(INPUT_SEED, settings.length * N_UNITS).reshape(
        settings.length, N_UNITS
    )
    unit, log_scale = jacobian_products(W, settings.activation, inputs)
    log10_norms = log10_gradient_norms(unit, log_scale)
    lags = np.arange(settings.length + 1)
    start = fit_from(settings.length)
    tail = log10_norms[start:] * np.log(10)
    slope = float(np.polyfit(lags[start:], tail, 1)[0]) if np.all(np.isfinite(tail)) else None
    singular = np.linalg.svd(unit[settings.lag], compute_uv=False)
    with np.errstate(divide="ignore"):
        log10_singular = (log_scale[settings.lag] + np.log(singular)) / np.log(10)
    sigma_max = float(np.linalg.norm(W, ord=2))
    resolvable = int(np.sum(singular >= RESOLVABLE * singular[0])) if singular[0] > 0 else 0
    return {
        "rho": float(np.max(np.abs(np.linalg.eigvals(W)))),
        "sigma_max": sigma_max,
        "gamma": gamma,
        "log10_norms": log10_norms,
        "slope": slope,
        "fit_from": start,
        "log10_singular_values": log10_singular,
        "resolvable": resolvable,
    }
