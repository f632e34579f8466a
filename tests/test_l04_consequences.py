"""Lesson 4: the memory task, the stacked RNNs against nn.RNN, the Jacobian and cliff gradients against
autograd, unstable training without clipping, and the cliff's jump."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from lessons_code import l04_consequences as l04
from lessons_code.activations import sigmoid
from lessons_code.models import StackedRNN, tanh_rnn
from lessons_code.seeding import seed_everything

SPECS = {spec.name: spec for spec in l04.FIGURES}


def run_fast(name: str):
    """A figure's compute in its fast preset, seeded exactly as the runner seeds it."""
    spec = SPECS[name]
    return spec.compute(spec.fast, seed_everything(spec.seed))


@pytest.fixture(scope="module")
def memory():
    return run_fast("l04_memory_vs_gap")


@pytest.fixture(scope="module")
def unstable():
    return run_fast("l04_unstable_loss")


# ------------------------------------------------------------------ l04_memory_vs_gap


def test_jacobian_norm_back_matches_autograd():
    torch.manual_seed(2)
    H, T, start = 5, 9, 3
    model = StackedRNN([tanh_rnn(3, H)], outputs=2).double()
    x = torch.randn(1, 2, T, 3, dtype=torch.float64)
    states = model.states(x).detach()
    ours = l04.jacobian_norm_back(model.W_hh.detach(), states, [start])
    drive = (torch.einsum("bti,hi->bth", x[0], model.W_ih[0]) + model.b[0]).detach()  # W_ih x_t + b
    W = model.W_hh[0].detach()
    for n in range(2):

        def from_start(h, n=n):  # h_T as a function of h_start, steps start+1..T
            for t in range(start, T):
                h = torch.tanh(drive[n, t] + W @ h)
            return h

        J = torch.autograd.functional.jacobian(from_start, states[0, n, start - 1])
        assert ours[0, n] == pytest.approx(torch.linalg.matrix_norm(J, ord=2).item(), rel=1e-10)


def test_short_gaps_are_learned_and_the_longest_gap_is_at_chance(memory):
    gaps = memory.data["gaps"]
    accuracy = np.asarray(memory.data["accuracy"])
    assert accuracy[0].min() >= 0.95  # every network solves the shortest gap
    assert memory.facts["accuracy_longest_gap"] == pytest.approx(
        memory.facts["chance_accuracy"], abs=0.1
    )
    assert memory.facts[f"accuracy_gap_{gaps[-1]}"] == memory.facts["accuracy_longest_gap"]


def test_gradient_path_to_the_key_shrinks_with_the_gap(memory):
    trained, at_init = (np.asarray(memory.data[k]) for k in ("jacobian_trained", "jacobian_init"))
    assert np.all(at_init[-1] < 1e-4 * at_init[0])
    assert np.exp(np.log(trained[-1]).mean()) < 1e-2 * np.exp(np.log(trained[0]).mean())


# ------------------------------------------------------------------ l04_unstable_loss


def test_unclipped_runs_spike_or_fail_while_clipped_runs_stay_bounded(unstable):
    facts, data = unstable.facts, unstable.data
    free, clipped = np.asarray(data["unclipped_loss"]), np.asarray(data["clipped_loss"])
    start = free[:, 0]
    np.testing.assert_array_equal(start, clipped[:, 0])  # same initialisations, same data
    # Some unclipped run's loss jumps by >= 1000x or becomes NaN/inf ...
    finite_peak = np.where(np.isfinite(free), free, -np.inf).max(1) / start
    assert np.any((finite_peak >= 1000) | ~np.all(np.isfinite(free), axis=1))
    assert facts["unstable_seeds_spiked"] >= 1
    # ... while every clipped run stays finite and within a small factor of where it started.
    assert np.all(np.isfinite(clipped))
    assert np.all(clipped.max(1) <= 10 * clipped[:, 0])
    assert facts["unstable_clipped_nonfinite"] == 0 and facts["unstable_clipped_peak_ratio"] <= 10


def test_nan_is_recorded_as_the_step_where_it_happened(unstable):
    free = np.asarray(unstable.data["unclipped_loss"])
    for row, step in zip(free, unstable.data["unclipped_nonfinite_step"]):
        if step >= 0:
            assert np.all(np.isfinite(row[:step])) and not np.isfinite(row[step])
        else:
            assert np.all(np.isfinite(row))
    assert unstable.facts["unstable_seeds_nonfinite"] == int(
        np.sum(np.asarray(unstable.data["unclipped_nonfinite_step"]) >= 0)
    )
    assert SPECS["l04_unstable_loss"].nonfinite_ok == {"unclipped_loss"}


def test_first_nonfinite():
    losses = np.array([[1.0, 2.0, 3.0], [1.0, np.inf, np.nan], [np.nan, 1.0, 1.0]])
    np.testing.assert_array_equal(l04.first_nonfinite(losses), [-1, 1, 0])


# ------------------------------------------------------------------ l04_cliff


def test_descent_path_jumps_off_the_wall_and_is_stranded():
    result = run_fast("l04_cliff")
    facts = result.facts
    assert facts["cliff_max_grad_norm"] > 1e4 * facts["cliff_median_grad_norm_before_jump"]
    assert facts["cliff_jump_length"] > 100  # one step leaves the pictured region by far
    assert facts["cliff_zero_grad_steps"] == facts["cliff_steps_after_jump"] > 0
    assert facts["cliff_final_loss"] == pytest.approx(facts["cliff_loss_high_state"], abs=1e-6)
    # on the wall
    assert facts["cliff_jump_from_b"] == pytest.approx(-facts["cliff_jump_from_w"] / 2, abs=0.05)


def stable_fixed_points(w: float, b: float) -> int:
    """Stable fixed points of x -> w sigmoid(x) + b, counted by brute force: sign changes of the map minus x
    on a fine grid, kept where the slope w sigmoid'(x) is below 1."""
    x = np.linspace(-40.0, 40.0, 400_001)
    f = w * sigmoid(x) + b - x
    roots = x[np.nonzero(np.sign(f[:-1]) != np.sign(f[1:]))[0]]
    return int(sum(w * sigmoid(r) * (1 - sigmoid(r)) < 1 for r in roots))


def test_two_stable_fixed_points_only_in_the_band_around_minus_w_over_2():
    facts = run_fast("l04_cliff").facts
    w, low, high = (
        facts["cliff_bistable_w"],
        facts["cliff_bistable_b_low"],
        facts["cliff_bistable_b_high"],
    )
    assert low < -w / 2 < high and low + high == pytest.approx(-w)  # symmetric about the wall
    if w == 8.0:  # the published start: the interval the referee computed independently
        assert (low, high) == pytest.approx((-5.0657, -2.9343), abs=1e-4)
    for b, expected in [
        (low - 0.01, 1),
        (low + 0.01, 2),
        (-w / 2, 2),
        (high - 0.01, 2),
        (high + 0.01, 1),
    ]:
        assert stable_fixed_points(w, b) == expected, (b, expected)


def test_the_stranded_gradient_is_float64_underflow_not_a_mathematical_zero():
    facts = run_fast("l04_cliff").facts
    # sigma'(x) < exp(-|x|): every state of the stranded run is so far out that exp(-|x|) is below the smallest
    # positive float64, so the zero gradient is rounding; a few hundred in |x| would already do.
    assert facts["cliff_stranded_min_abs_state"] > -facts["float64_smallest_log"]
    assert facts["float64_smallest_log"] == pytest.approx(np.log(5e-324), abs=0.01)
    assert facts["cliff_zero_grad_steps"] > 0
    x = facts["cliff_stranded_min_abs_state"]
    assert sigmoid(x) * (1 - sigmoid(x)) == 0.0  # what float64 makes of a positive number


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"gaps": ()}, "MemoryConfig.gaps"),
        ({"gaps": (5, 2)}, "MemoryConfig.gaps"),
        ({"gaps": (0, 3)}, "MemoryConfig.gaps"),
        ({"seeds": 0}, "MemoryConfig.seeds"),
        ({"lr": float("nan")}, "MemoryConfig.lr"),
    ],
)
def test_memory_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        l04.MemoryConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"target": 1.5}, "CliffConfig.target"),
        ({"w_range": (3.0, 1.0)}, "CliffConfig.w_range"),
        ({"grid": 1}, "CliffConfig.grid"),
        ({"lr": 0.0}, "CliffConfig.lr"),
    ],
)
def test_cliff_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        l04.CliffConfig(**kwargs)


def test_unstable_config_validation():
    with pytest.raises(ValueError, match="UnstableConfig.length"):
        l04.UnstableConfig(length=1)
    with pytest.raises(ValueError, match="UnstableConfig.seeds"):
        l04.UnstableConfig(seeds=0)
