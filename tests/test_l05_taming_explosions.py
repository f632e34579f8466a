"""Lesson 5: clipping geometry, clipping on the cliff, the monitoring step, truncated BPTT and the penalty."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lessons_code import l05_taming_explosions as l05
from lessons_code.models import LastStepRegressor, tanh_rnn
from lessons_code.training import hidden_gradient_norms
from lessons_code.seeding import seed_everything

SPECS = {spec.name: spec for spec in l05.FIGURES}
BAD_THRESHOLDS = [0, 0.0, -1.0, float("nan"), float("inf"), True, "1"]


def run_fast(name: str):
    spec = SPECS[name]
    return spec.compute(spec.fast, seed_everything(spec.seed))


# ------------------------------------------------------------------ clipping


def test_norm_clipping_never_exceeds_the_threshold_and_keeps_the_direction():
    rng = np.random.default_rng(0)
    # lengths over many decades
    g = rng.standard_normal((2000, 7)) * rng.lognormal(0, 3, size=(2000, 1))
    for max_norm in (1e-3, 0.5, 1.0, 30.0):
        clipped = l05.clip_by_norm(g, max_norm)
        norms = np.linalg.norm(clipped, axis=-1)
        assert np.all(norms <= max_norm * (1 + 1e-12))
        cos = np.sum(g * clipped, -1) / (np.linalg.norm(g, axis=-1) * norms)
        np.testing.assert_allclose(cos, 1.0, atol=1e-12)
        short = np.linalg.norm(g, axis=-1) <= max_norm
        np.testing.assert_array_equal(clipped[short], g[short])  # short gradients are left alone


def test_norm_clipping_agrees_with_torch_clip_grad_norm():
    g = np.array([3.0, -4.0, 12.0])
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_([p], 2.0)
    assert total.item() == pytest.approx(13.0)  # it returns the norm *before* clipping
    np.testing.assert_allclose(p.grad.numpy(), l05.clip_by_norm(g, 2.0), rtol=1e-6)


def test_value_clipping_can_change_the_direction():
    g = np.array([4.0, 1.0])
    by_value = l05.clip_by_value(g, 1.0)
    np.testing.assert_array_equal(by_value, [1.0, 1.0])
    assert l05.cosine(g, by_value) == pytest.approx(5 / math.sqrt(17 * 2))  # closed form, < 1
    assert l05.cosine(g, l05.clip_by_norm(g, 1.0)) == pytest.approx(1.0, abs=1e-15)


def test_geometry_facts():
    facts = run_fast("l05_clip_geometry").facts
    assert facts["norm_clip_cosine"] == pytest.approx(1.0, abs=1e-15)
    assert facts["norm_clip_min_cosine_sweep"] == pytest.approx(1.0, abs=1e-12)
    assert facts["norm_clip_length"] == pytest.approx(facts["clip_threshold"])
    assert (
        facts["value_clip_cosine"] < 0.9
        and facts["value_clip_min_cosine"] <= facts["value_clip_cosine"]
    )
    assert facts["value_clip_angle_deg"] == pytest.approx(45.0)


@pytest.mark.parametrize("bad", BAD_THRESHOLDS)
def test_invalid_thresholds_raise_a_clear_error(bad):
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0"):
        l05.clip_by_norm([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="clip_value must be a finite number > 0"):
        l05.clip_by_value([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="GeometryConfig.threshold"):
        l05.GeometryConfig(threshold=bad)
    with pytest.raises(ValueError, match="ClipCliffConfig.max_norm"):
        l05.ClipCliffConfig(max_norm=bad)


# ------------------------------------------------------------------ clipping on the cliff


def test_clipping_succeeds_far_more_often_on_the_cliff():
    for spec_config in (SPECS["l05_clip_cliff"].config, SPECS["l05_clip_cliff"].fast):
        assert spec_config.n_starts >= 100
    facts = run_fast("l05_clip_cliff").facts
    assert facts["cliff_success_clipped"] >= facts["cliff_success_unclipped"] + 0.25
    assert facts["cliff_success_clipped"] >= 0.8
    assert facts["cliff_only_unclipped_succeeds"] <= facts["cliff_only_clipped_succeeds"]


# ------------------------------------------------------------------ truncated BPTT


def test_truncation_shorter_than_the_delay_fails_and_a_long_one_succeeds():
    result = run_fast("l05_truncation")
    (d,), ks = result.data["delays"], result.data["ks"]
    error = np.asarray(result.data["error"])[0]  # (ks, seeds)
    for j, k in enumerate(ks):
        if 2 <= k < d:
            assert error[j].min() > 0.3, (k, error[j])  # near chance (0.5): nothing learned
        if k >= d + 2:
            assert error[j].max() < 0.05, (k, error[j])  # solved


# ------------------------------------------------------------------ the penalty


def test_penalty_is_zero_for_norm_preserving_steps_and_matches_its_closed_form():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    W = torch.tensor(q)
    states = [torch.zeros(3, 6, dtype=torch.float64) for _ in range(5)]  # tanh' = 1 at h = 0
    grads = [torch.tensor(rng.standard_normal((3, 6))) for _ in range(5)]
    assert l05.pascanu_penalty(W, states, grads).item() == pytest.approx(0.0, abs=1e-24)
    assert l05.pascanu_penalty(0.5 * W, states, grads).item() == pytest.approx(0.25, rel=1e-12)


def test_penalty_gradient_reaches_the_recurrent_weights_and_its_ratios_match_autograd():
    torch.manual_seed(0)
    model = LastStepRegressor(tanh_rnn(1, 5)).double()
    x = torch.randn(4, 10, 1, dtype=torch.float64)
    loss, penalty = l05.loss_and_penalty(model, x, x.mean((1, 2)))
    (g,) = torch.autograd.grad(penalty, model.core.weight_hh_l0, retain_graph=True)
    assert penalty.item() > 0 and g.abs().max() > 0
    # The penalty's one-step ratio ||v_t dh_t/dh_{t-1}|| / ||v_t|| is exactly ||dE/dh_{t-1}|| / ||dE/dh_t||
    # here, since the loss reads only the last state: check it against the monitor's autograd norms.
    norms = hidden_gradient_norms(
        model.core, x, lambda h: ((model.head(h).squeeze(-1) - x.mean((1, 2))) ** 2).mean()
    )
    expected = ((norms[:-1] / norms[1:] - 1) ** 2).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-10)


def test_training_with_the_penalty_keeps_the_backward_signal_alive_and_both_runs_report_the_baseline():
    result = run_fast("l05_penalty")
    facts = result.facts
    assert facts["penalty_ratio_first_with_penalty"] > facts["penalty_ratio_first_loss_only"]
    assert facts["penalty_ratio_first_with_penalty"] > 1e3 * facts["penalty_ratio_first_initial"]
    assert facts["penalty_after_with_penalty"] < 0.5 * facts["penalty_initial"]
    assert facts["penalty_baseline_mse"] == pytest.approx(
        1 / (3 * SPECS["l05_penalty"].fast.length)
    )
    for tag in ("loss_only", "with_penalty"):
        assert facts[f"penalty_task_loss_{tag}_vs_baseline"] == pytest.approx(
            facts[f"penalty_task_loss_{tag}"] / facts["penalty_baseline_mse"]
        )
        curve = result.data["curves"]["loss only" if tag == "loss_only" else "loss + penalty"]
        assert curve["step"][0] == 0 and curve["step"][-1] == SPECS["l05_penalty"].fast.steps


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    "cls, kwargs, field",
    [
        (l05.ClipCliffConfig, {"n_starts": 0}, "ClipCliffConfig.n_starts"),
        (l05.ClipCliffConfig, {"headline_lr": 5.0}, "ClipCliffConfig.headline_lr"),
        (l05.ClipCliffConfig, {"lrs": ()}, "ClipCliffConfig.lrs"),
        (l05.TruncationConfig, {"ks": (0, 4)}, "TruncationConfig.ks"),
        (l05.TruncationConfig, {"ks": (64,)}, "TruncationConfig.ks"),
        (l05.TruncationConfig, {"n_symbols": 1}, "TruncationConfig.n_symbols"),
        (l05.GeometryConfig, {"example": (0.5, 0.5)}, "GeometryConfig.example"),
        (l05.PenaltyConfig, {"strength": -1.0}, "PenaltyConfig.strength"),
        (l05.PenaltyConfig, {"length": 1}, "PenaltyConfig.length"),
    ],
)
def test_config_validation(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)
