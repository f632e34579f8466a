"""Lesson 3: derivative bounds, the Pascanu et al. conditions on the sweep, saturation, and the ReLU check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_code import l03_activation_functions as l03

SPECS = {spec.name: spec for spec in l03.FIGURES}
TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


@pytest.fixture(scope="module")
def regimes():
    return l03.compute_regimes(SPECS["l03_regimes"].fast, np.random.default_rng(0))


def test_derivative_maxima_are_the_known_constants():
    facts = l03.compute_derivatives(SPECS["l03_derivatives"].fast, np.random.default_rng(0)).facts
    assert facts["sigmoid_prime_max"] == pytest.approx(0.25, abs=1e-15)
    assert facts["tanh_prime_max"] == pytest.approx(1.0, abs=1e-15)
    assert facts["relu_prime_max"] == 1.0
    # gamma, the bound used in the sweep, is the same number.
    for name, (_, _, gamma) in l03.ACTIVATIONS.items():
        assert facts[f"{name}_prime_max"] == pytest.approx(gamma, abs=1e-15)


@pytest.mark.parametrize("name", sorted(l03.ACTIVATIONS))
def test_derivatives_match_autograd(name):
    grid = np.linspace(-30.0, 30.0, 6001) + 1e-3  # shifted off 0, where ReLU has no derivative
    phi, phi_prime, _ = l03.ACTIVATIONS[name]
    a = torch.tensor(grid, dtype=torch.float64, requires_grad=True)
    TORCH[name](a).sum().backward()
    np.testing.assert_allclose(phi(grid), TORCH[name](a).detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(phi_prime(grid), a.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_relu_derivative_is_exactly_zero_or_one_on_a_dense_grid():
    grid = np.concatenate(
        [np.linspace(-1e3, 1e3, 2_000_001), [0.0, -0.0, 5e-324, -5e-324, 1e300, -1e300]]
    )
    values = l03.relu_prime(grid)
    assert set(np.unique(values).tolist()) == {0.0, 1.0}
    assert np.array_equal(values, (grid > 0).astype(float))
    assert values.max() == 1.0  # never above 1, contrary to the claim the lesson corrects


def test_relu_check_shows_the_weights_not_the_derivative_explode():
    facts = l03.compute_derivatives(SPECS["l03_derivatives"].fast, np.random.default_rng(0)).facts
    for scale in (0.9, 1.1):
        assert facts[f"relu_demo_{scale:g}_largest_derivative"] == 1.0
        # Every unit stays active, so the Jacobian product is (scale * I)^50: closed form scale^50.
        assert facts[f"relu_demo_{scale:g}_gradient_norm"] == pytest.approx(scale**50, rel=1e-12)
    # unbounded state
    assert facts["relu_demo_1.1_state_norm"] > 100 * facts["relu_demo_0.9_state_norm"]


def test_gradient_norm_at_lag_matches_autograd_jacobian():
    rng = np.random.default_rng(3)
    n, lag, burn_in = 6, 12, 5
    W = l03.with_sigma_max(rng.standard_normal((n, n)), 1.7)
    inputs = rng.standard_normal((burn_in + lag, n))
    assert np.linalg.norm(W, 2) == pytest.approx(1.7, rel=1e-12)
    for name in l03.ACTIVATIONS:
        phi = TORCH[name]
        h = torch.zeros(n, dtype=torch.float64)
        Wt, xs = torch.tensor(W), torch.tensor(inputs)
        for x in xs[:burn_in]:
            h = phi(Wt @ h + x)

        def run(h_start, phi=phi, Wt=Wt, xs=xs):
            state = h_start
            for x in xs[burn_in:]:
                state = phi(Wt @ state + x)
            return state

        J = torch.autograd.functional.jacobian(run, h).numpy()
        expected = np.linalg.norm(J, 2)
        assert l03.gradient_norm_at_lag(W, name, inputs, lag) == pytest.approx(
            expected, rel=1e-10
        ), name


def test_sweep_vanishes_below_the_sufficient_threshold(regimes):
    config = SPECS["l03_regimes"].fast
    for name in config.activations:
        d = regimes.data[name]
        sigma, largest = np.asarray(d["sigma_max"]), np.asarray(d["max"])
        below = sigma < d["threshold"]
        assert below.sum() >= 2
        assert np.max(largest[below]) < config.vanished, name  # every run, not only the median
        # checked right up to the line
        assert sigma[below].max() >= 0.99 * d["threshold"] * (1 - 1e-12)


def test_sweep_explodes_only_above_the_necessary_threshold(regimes):
    for name, d in regimes.data.items():
        sigma, largest = np.asarray(d["sigma_max"]), np.asarray(d["max"])
        assert np.all(sigma[largest > 1.0] > d["threshold"]), name
        # The Pascanu bound holds at every point of the sweep.
        assert np.all(largest <= np.asarray(d["bound"]) * (1 + 1e-9)), name
    # Explosion is possible above the line, and it happens in these networks (ReLU and tanh at least).
    assert regimes.facts["relu_exploding_runs"] > 0 and regimes.facts["tanh_exploding_runs"] > 0
    # The condition is necessary, not sufficient: just above the line nothing explodes yet.
    for name in ("sigmoid", "tanh", "relu"):
        assert regimes.facts[f"{name}_first_exploding_ratio"] > 1.01


def test_regime_facts_report_the_thresholds(regimes):
    assert regimes.facts["sigmoid_threshold"] == 4.0
    assert regimes.facts["tanh_threshold"] == 1.0
    assert regimes.facts["relu_threshold"] == 1.0


def test_saturation_grows_with_input_scale():
    result = l03.compute_saturation(SPECS["l03_saturation"].fast, np.random.default_rng(0))
    median, saturated = (
        np.asarray(result.data["median"]),
        np.asarray(result.data["saturated_fraction"]),
    )
    assert np.all(np.diff(median) < 0)
    assert np.all(np.diff(saturated) >= 0)
    assert median[0] > 0.95 and median[-1] < 0.05
    for fractions in result.data["histograms"].values():
        assert np.sum(fractions) == pytest.approx(1.0)


def test_log_tanh_prime_is_exact_and_stable():
    a = np.linspace(-15, 15, 3001)
    # tanh'(a) = sech(a)^2 = 1 / cosh(a)^2; 1 - tanh(a)^2 itself loses digits to cancellation at large |a|.
    np.testing.assert_allclose(
        l03.log_tanh_prime(a), -2.0 * np.log(np.cosh(a)), rtol=1e-12, atol=1e-12
    )
    assert np.isfinite(l03.log_tanh_prime(np.array([400.0, -1e4]))).all()


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: l03.RegimesConfig(lag=-5), "RegimesConfig.lag"),
        (lambda: l03.RegimesConfig(activations=("tanh", "softplus")), "RegimesConfig.activations"),
        (lambda: l03.RegimesConfig(activations=()), "RegimesConfig.activations"),
        (lambda: l03.RegimesConfig(burn_in=-1), "RegimesConfig.burn_in"),
        (lambda: l03.RegimesConfig(low=2.0), "RegimesConfig.low"),
        (lambda: l03.RegimesConfig(input_std=float("nan")), "RegimesConfig.input_std"),
        (lambda: l03.DerivativesConfig(n_points=1000), "DerivativesConfig.n_points"),
        (lambda: l03.DerivativesConfig(a_max=-1.0), "DerivativesConfig.a_max"),
        (lambda: l03.SaturationConfig(steps=-10), "SaturationConfig.steps"),
        (lambda: l03.SaturationConfig(saturated_below=1.5), "SaturationConfig.saturated_below"),
    ],
)
def test_configs_reject_bad_values_naming_the_field(factory, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        factory()
