"""Lesson 7: the LSTM written out, the cell state's additive path, and the adding problem."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lessons_code import l07_gates as l07
from lessons_code import runner, seeding
from lessons_code.models import lstm
from lessons_code.tasks import ADDING_BASELINE_MSE, adding_problem

SPEC = {spec.name: spec for spec in l07.FIGURES}


def test_hand_written_lstm_step_is_nn_lstm() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 6, batch_first=True).double()
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    with torch.no_grad():
        expected, (h_n, c_n) = lstm(x)
        h = c = torch.zeros(4, 6, dtype=torch.float64)
        for t in range(9):
            h, c, _ = l07.lstm_step(lstm, x[:, t], h, c)
            torch.testing.assert_close(h, expected[:, t], rtol=0, atol=1e-12)
    torch.testing.assert_close(c, c_n[0], rtol=0, atol=1e-12)


def test_direct_derivative_of_the_cell_state_is_the_forget_gate() -> None:
    """Holding h_{t-1} fixed, dc_t/dc_{t-1} = diag(f_t): no weight matrix, no activation derivative."""
    torch.manual_seed(1)
    cell = lstm(2, 5, forget_bias=1.0).double()
    x_t, h = torch.rand(1, 2, dtype=torch.float64), torch.randn(1, 5, dtype=torch.float64)
    c = torch.randn(1, 5, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda c_prev: l07.lstm_step(cell, x_t, h, c_prev)[1], c)
    _, _, f = l07.lstm_step(cell, x_t, h, c)
    torch.testing.assert_close(J.reshape(5, 5), torch.diag(f[0]), rtol=0, atol=1e-15)


def test_forget_only_curve_is_the_gradient_along_the_cell_path_alone() -> None:
    """Cut every path through h (detach it between steps): autograd then gives exactly the forget product."""
    torch.manual_seed(2)
    cell = lstm(2, 8, forget_bias=1.0).double()
    x, _ = adding_problem(1, 12, np.random.default_rng(0))
    x = x.double()
    readout = torch.randn(8, dtype=torch.float64)
    _, forget_only = l07.cell_gradient_by_lag(cell, x, readout)

    h, c = torch.zeros(1, 8, dtype=torch.float64), torch.zeros(1, 8, dtype=torch.float64)
    cells = []
    for t in range(12):
        h, c, _ = l07.lstm_step(cell, x[:, t], h.detach(), c)
        cells.append(c)
    grads = torch.autograd.grad((cells[-1] @ readout).sum(), cells)
    cut = np.array([float(g.norm() / readout.norm()) for g in grads])[::-1]
    np.testing.assert_allclose(forget_only, cut, rtol=1e-12)


def test_cell_gradient_outlasts_the_tanh_rnn() -> None:
    facts = l07.compute_cell_gradient(l07.CellGradientConfig(), np.random.default_rng(0)).facts
    assert facts["max_lag"] == 99
    assert facts["cell_ratio_bias1"] > 1e6 * facts["tanh_ratio"]
    assert facts["cell_ratio_bias3"] > facts["cell_ratio_bias1"]
    assert facts["forget_product_bias3"] > facts["forget_product_bias1"]


@pytest.fixture(scope="module")
def fast_adding():
    spec = SPEC["l07_adding_problem"]
    rng = seeding.seed_everything(spec.seed)
    return spec.fast, l07.compute_adding_problem(spec.fast, rng)


def test_gated_models_beat_the_tanh_rnn_and_the_baseline_in_the_fast_preset(fast_adding) -> None:
    config, result = fast_adding
    facts = result.facts
    for gated in ("lstm", "gru"):
        assert facts[f"adding_final_mse_{gated}"] < 0.25 * facts["adding_final_mse_tanh_rnn"]
        assert facts[f"adding_final_mse_{gated}"] < 0.1 * facts["adding_baseline_mse"]
        assert facts[f"adding_solved_runs_{gated}"] == config.seeds
    runner.check_result(SPEC["l07_adding_problem"], result)


def test_runs_log_the_same_test_schedule_and_stop_when_solved(fast_adding) -> None:
    config, result = fast_adding
    for kind, runs in result.data["runs"].items():
        assert len(runs) == config.seeds
        for run in runs:
            assert run["step"][0] == 0 and all(s % config.eval_every == 0 for s in run["step"][:-1])
            assert run["steps_run"] == run["step"][-1]
            solved_early = run["step"][-1] < config.max_steps
            assert solved_early == (run["test_mse"][-1] <= config.stop_mse)


def test_a_diverging_run_is_recorded_not_raised() -> None:
    torch.manual_seed(5)
    model = l07.adding_model("irnn", 8)
    with torch.no_grad():
        model.core.weight_hh_l0.fill_(float("inf"))
    rng = np.random.default_rng(6)
    test = adding_problem(16, 10, rng)
    log = l07.train_on_adding(model, 1e-3, 20, 8, 10, 1.0, 5, 0.002, test, rng)
    assert log.diverged_at == 0 and math.isnan(log.evals[-1][1]) and len(log.loss) == 1

    run = {"seed": 0, "step": [0, 7], "test_mse": [0.5, float("nan")], "diverged_at": 7, "steps_run": 7,
           "clipped_fraction": 1.0, "steps_to_solve": float("nan"), "final_mse": float("nan")}
    facts = {f"adding_final_mse_{k}": float("nan") for k in l07.KINDS}
    result = runner.Result(data={"runs": {"irnn": [run]}, "baseline_mse": ADDING_BASELINE_MSE, "max_steps": 20},
                           facts=facts)
    runner.check_result(SPEC["l07_adding_problem"], result)  # NaN is allowed where a run may diverge
    from lessons_code import plotting

    fig, ax = plotting.new_figure((4, 3))
    l07.plot_adding_problem(result, ax)
    plotting.plt.close(fig)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: l07.AddingConfig(learning_rates=(("transformer", 1e-3),)), "AddingConfig.learning_rates"),
        (lambda: l07.AddingConfig(learning_rates=(("lstm", 2.0),)), "AddingConfig.learning_rates"),
        (lambda: l07.AddingConfig(learning_rates=(("lstm", 1e-3), ("lstm", 1e-2))), "AddingConfig.learning_rates"),
        (lambda: l07.AddingConfig(seeds=0), "AddingConfig.seeds"),
        (lambda: l07.AddingConfig(clip=-1.0), "AddingConfig.clip"),
        (lambda: l07.AddingConfig(seq_len=3), "AddingConfig.seq_len"),
        (lambda: l07.AddingConfig(eval_every=500, max_steps=100), "AddingConfig.eval_every"),
        (lambda: l07.AddingConfig(forget_bias=float("inf")), "AddingConfig.forget_bias"),
        (lambda: l07.CellGradientConfig(seq_len=2), "CellGradientConfig.seq_len"),
        (lambda: l07.CellGradientConfig(forget_biases=()), "CellGradientConfig.forget_biases"),
    ],
)
def test_configs_reject_bad_fields_by_name(make, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make()
