"""Lesson 2: the claims of the page, checked against closed forms and theory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessons_code import l02_repeated_multiplication as l02

SPEC = {spec.name: spec for spec in l02.FIGURES}


def test_the_four_quoted_powers() -> None:
    facts = l02.compute_powers(l02.PowersConfig(), np.random.default_rng(0)).facts
    assert facts["power_0.9_10"] == pytest.approx(0.3486784401, rel=1e-12)
    assert facts["power_0.9_50"] == pytest.approx(0.9**50, rel=1e-12)
    assert facts["power_1.1_10"] == pytest.approx(2.5937424601, rel=1e-12)
    assert facts["power_1.1_50"] == pytest.approx(1.1**50, rel=1e-12)
    # the values the page rounds: 0.349, 0.00515, 2.59, 117.4
    assert (round(facts["power_0.9_10"], 3), round(facts["power_1.1_50"], 1)) == (0.349, 117.4)


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.1, 1.5])
def test_log_gradient_slope_equals_log_spectral_radius(rho: float) -> None:
    rng = np.random.default_rng(1)
    W = l02.scaled_to_spectral_radius(rng.standard_normal((32, 32)) / np.sqrt(32), rho)
    norms = l02.jacobian_power_norms(W, 120)
    assert l02.fitted_log_slope(norms, skip=30) == pytest.approx(math.log(rho), abs=5e-3)


def test_jacobian_power_norms_are_norms_of_matrix_powers() -> None:
    W = np.random.default_rng(2).standard_normal((5, 5))
    norms = l02.jacobian_power_norms(W, 4)
    expected = [np.linalg.norm(np.linalg.matrix_power(W, k), 2) for k in range(5)]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)


def test_published_slopes_match_theory() -> None:
    facts = l02.compute_gradient_vs_lag(l02.LagConfig(), np.random.default_rng(0)).facts
    for rho in l02.LagConfig().radii:
        assert facts[f"slope_rho_{rho:g}"] == pytest.approx(math.log(rho), abs=2e-3)


def test_non_normal_matrix_amplifies_before_it_decays() -> None:
    lag, peak = l02.transient_peak(l02.NONNORMAL_EXAMPLE, 200)
    assert np.max(np.abs(np.linalg.eigvals(l02.NONNORMAL_EXAMPLE))) < 1
    assert peak > 10 and 1 < lag < 50
    assert l02.jacobian_power_norms(l02.NONNORMAL_EXAMPLE, 200)[-1] < 1e-3


def test_orthogonal_products_keep_every_singular_value_at_one() -> None:
    rng = np.random.default_rng(3)
    Q = l02.random_orthogonal(48, rng)
    np.testing.assert_allclose(Q.T @ Q, np.eye(48), atol=1e-12)
    for spectrum in l02.product_singular_values(Q, [1, 10, 100]).values():
        np.testing.assert_allclose(spectrum, 1.0, atol=1e-10)


def test_gaussian_products_spread_over_many_decades() -> None:
    facts = l02.compute_singular_values(l02.SingularConfig(), np.random.default_rng(0)).facts
    assert facts["gaussian_decades_kmax"] > 8
    assert facts["orthogonal_max_deviation"] < 1e-12
    assert 0.8 < facts["gaussian_spectral_radius"] < 1.2  # close to 1, yet the spectrum spreads


def test_too_long_products_are_refused_rather_than_plotted_wrong() -> None:
    with pytest.raises(ValueError, match="SingularConfig.steps too long"):
        l02.compute_singular_values(l02.SingularConfig(steps=(1, 40)), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: l02.PowersConfig(n_max=-1), "PowersConfig.n_max"),
        (lambda: l02.PowersConfig(marks=(60,)), "PowersConfig.marks"),
        (lambda: l02.LagConfig(hidden=0), "LagConfig.hidden"),
        (lambda: l02.LagConfig(radii=(0.5, -1.0)), "LagConfig.radii"),
        (lambda: l02.LagConfig(max_lag=10, fit_from=20), "LagConfig.fit_from"),
        (lambda: l02.SingularConfig(steps=(0, 2)), "SingularConfig.steps"),
        (lambda: l02.SingularConfig(hidden=2.5), "SingularConfig.hidden"),
    ],
)
def test_configs_reject_bad_fields_by_name(make, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        make()


def test_published_facts_are_the_computed_ones(fast_figures) -> None:
    import json

    doc = json.loads((fast_figures / "l02_powers.json").read_text())
    fresh = l02.compute_powers(SPEC["l02_powers"].fast, np.random.default_rng(0))
    assert doc["facts"]["power_0.9_10"] == pytest.approx(fresh.facts["power_0.9_10"], rel=1e-6)
    assert doc["source"] == "lessons_code.l02_repeated_multiplication:compute_powers"
