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
    for runs in result.data["runs"].values():
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

    run = {
        "seed": 0,
        "step": [0, 7],
        "test_mse": [0.5, float("nan")],
        "diverged_at": 7,
        "steps_run": 7,
        "clipped_fraction": 1.0,
        "steps_to_solve": float("nan"),
        "final_mse": float("nan"),
    }
    facts = {f"adding_final_mse_{k}": float("nan") for k in l07.KINDS}
    result = runner.Result(
        data={"runs": {"irnn": [run]}, "baseline_mse": ADDING_BASELINE_MSE, "max_steps": 20},
        facts=facts,
    )
    # NaN is allowed where a run may diverge
    runner.check_result(SPEC["l07_adding_problem"], result)
    from lessons_code import plotting

    fig, ax = plotting.new_figure((4, 3))
    l07.plot_adding_problem(result, ax)
    plotting.plt.close(fig)


# ---------------------------------------------------------------- the cell diagram


@pytest.mark.parametrize(("inputs", "hidden", "batch"), [(1, 1, 1), (2, 5, 3), (4, 9, 2)])
def test_following_the_drawn_wires_is_an_lstm_step(inputs, hidden, batch) -> None:
    nodes, edges = l07.lstm_cell_diagram()
    torch.manual_seed(hidden)
    cell = torch.nn.LSTM(inputs, hidden, batch_first=True).double()
    x_t, h, c = (torch.randn(batch, n, dtype=torch.float64) for n in (inputs, hidden, hidden))
    with torch.no_grad():
        values = l07.run_diagram(nodes, edges, cell, x_t, h, c)
        _, (h_n, c_n) = cell(x_t[:, None], (h[None], c[None]))  # nn.LSTM's own step
    torch.testing.assert_close(values["h"], h_n[0], rtol=0, atol=1e-12)
    torch.testing.assert_close(values["c"], c_n[0], rtol=0, atol=1e-12)


def test_the_highlighted_path_is_the_cell_state_and_holds_only_a_product_and_a_sum() -> None:
    nodes, edges = l07.lstm_cell_diagram()
    by_name = {n["name"]: n for n in nodes}
    path = [e for e in edges if e["cell"]]
    assert [(e["source"], e["target"]) for e in path] == [
        ("c_prev", "forget_mul"),
        ("forget_mul", "add"),
        ("add", "c"),
    ]
    assert [by_name[e["target"]].get("op") for e in path[:-1]] == ["mul", "add"]
    # What else enters the path: the forget gate at the product, the gated candidate i * g at the sum.
    into = lambda name: sorted(e["source"] for e in edges if e["target"] == name)  # noqa: E731
    assert into("forget_mul") == ["c_prev", "f"] and into("add") == ["forget_mul", "write_mul"]
    assert into("write_mul") == ["g", "i"]
    facts = l07.compute_lstm_cell(l07.LstmCellConfig(), np.random.default_rng(0)).facts
    assert facts == {**facts, "n_gates": 3, "n_weight_blocks": 4, "cell_path_ops": 2}
    assert facts["wiring_max_abs_diff"] <= 1e-12


def test_a_miswired_diagram_stops_the_build(monkeypatch) -> None:
    nodes, edges = l07.lstm_cell_diagram()
    for node in nodes:  # draw the input gate with the forget gate's weights and the other way round
        if node["name"] in ("i", "f"):
            node["block"] = l07.BLOCK["f" if node["name"] == "i" else "i"]
    monkeypatch.setattr(l07, "lstm_cell_diagram", lambda: (nodes, edges))
    with pytest.raises(ValueError, match="computes something else than lstm_step"):
        l07.compute_lstm_cell(l07.LstmCellConfig(), np.random.default_rng(0))


# ---------------------------------------------------------------- the trained gates


def _forced_lstm(seed: int, **blocks: float) -> torch.nn.LSTM:
    """A random float64 nn.LSTM whose named gate blocks ("i", "f", "g") ignore their inputs and sit at the
    given bias, so that nn.LSTM's own cell state reveals the remaining gate."""
    torch.manual_seed(seed)
    cell = torch.nn.LSTM(2, 6, batch_first=True).double()
    with torch.no_grad():
        for gate, bias in blocks.items():
            rows = slice(l07.BLOCK[gate] * 6, (l07.BLOCK[gate] + 1) * 6)
            cell.weight_ih_l0[rows] = 0.0
            cell.weight_hh_l0[rows] = 0.0
            cell.bias_ih_l0[rows] = bias
            cell.bias_hh_l0[rows] = 0.0
    return cell


def _nn_lstm_cells(cell: torch.nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """c_1..c_T as nn.LSTM computes them, one step at a time: shape (batch, T, hidden)."""
    state, cells = None, []
    with torch.no_grad():
        for t in range(x.shape[1]):
            _, state = cell(x[:, t : t + 1], state)
            cells.append(state[1][0])
    return torch.stack(cells, 1)


def test_gate_readout_is_what_nn_lstm_computes() -> None:
    x, _ = adding_problem(5, 12, np.random.default_rng(0))
    x = x.double()
    # With its own random weights, the readout's cell state is nn.LSTM's at every step.
    torch.manual_seed(3)
    cell = torch.nn.LSTM(2, 6, batch_first=True).double()
    _, _, c = l07.gate_trace(cell, x)
    torch.testing.assert_close(c, _nn_lstm_cells(cell, x), rtol=0, atol=1e-12)
    # Input gate: with g = tanh(40) = 1 and f = sigmoid(-40) ~ 0, nn.LSTM's cell state is i_t itself.
    cell = _forced_lstm(4, g=40.0, f=-40.0)
    i, _, _ = l07.gate_trace(cell, x)
    torch.testing.assert_close(i, _nn_lstm_cells(cell, x), rtol=0, atol=1e-12)
    # Forget gate: with i = g = 1, c_t = f_t c_{t-1} + 1, so nn.LSTM's cells give f_t = (c_t - 1) / c_{t-1}.
    cell = _forced_lstm(5, i=40.0, g=40.0)
    _, f, _ = l07.gate_trace(cell, x)
    cells = _nn_lstm_cells(cell, x)
    torch.testing.assert_close(f[:, 1:], (cells[:, 1:] - 1) / cells[:, :-1], rtol=1e-10, atol=1e-12)
    assert torch.all((0 < f) & (f < 1))


@pytest.fixture(scope="module")
def fast_gates():
    spec = SPEC["l07_gate_activity"]
    rng = seeding.seed_everything(spec.seed)
    return spec, l07.compute_gate_activity(spec.fast, rng)


def test_the_trained_gates_show_what_the_page_says_in_the_fast_preset(fast_gates) -> None:
    spec, result = fast_gates
    facts = result.facts
    runner.check_result(spec, result)
    # the publishing build checks these on its own run; here the fast run holds them too
    for claim in spec.claims:
        assert claim.holds(facts), claim.says
    assert (
        facts["gate_steps_trained"] < spec.fast.max_steps
        and facts["gate_test_mse"] < 0.05 * facts["gate_baseline_mse_test"]
    )
    # The followed unit is the one whose share of the prediction varies most; reading it alone beats the baseline.
    contributions = np.asarray(result.data["contributions"])
    assert (
        result.data["unit"] == int(np.argmax(contributions))
        and facts["gate_contribution_ratio"] >= 1
    )
    assert facts["gate_test_mse"] <= facts["gate_one_unit_mse"] < facts["gate_baseline_mse_test"]
    # The plotted sequence is the first test sequence, with its markers where the data puts them.
    first, second = facts["gate_example_first_marker"], facts["gate_example_second_marker"]
    assert (
        result.data["markers"] == [first, second] and 1 <= first <= spec.fast.seq_len // 2 < second
    )


def test_the_claims_can_fail() -> None:
    """Each claim tests its own facts: a run whose gates did not look like the page says is caught."""
    good = dict(
        gate_test_mse=0.001,
        gate_stop_mse=0.002,
        gate_input_marked_unit=0.8,
        gate_input_unmarked_unit=0.01,
        gate_forget_between_unit=0.999,
        gate_input_marked_all=0.45,
        gate_input_unmarked_all=0.4,
        gate_forget_between_all=0.6,
        gate_cell_change_marked_unit=0.2,
        gate_cell_change_unmarked_unit=0.002,
        gate_cell_jump_corr=-0.99,
        gate_cell_final_corr=-0.99,
        gate_unit_readout_weight=-1.0,
    )
    assert all(claim.holds(good) for claim in l07.GATE_CLAIMS)
    for change in (
        {"gate_test_mse": 0.01},
        {"gate_input_unmarked_unit": 0.3},
        {"gate_forget_between_unit": 0.8},
        {"gate_input_marked_all": 0.8},
        {"gate_cell_change_unmarked_unit": 0.05},
        {"gate_cell_jump_corr": 0.5},
        {"gate_unit_readout_weight": 1.0},
    ):
        assert not all(claim.holds({**good, **change}) for claim in l07.GATE_CLAIMS), change


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (
            lambda: l07.AddingConfig(learning_rates=(("transformer", 1e-3),)),
            "AddingConfig.learning_rates",
        ),
        (lambda: l07.AddingConfig(learning_rates=(("lstm", 2.0),)), "AddingConfig.learning_rates"),
        (
            lambda: l07.AddingConfig(learning_rates=(("lstm", 1e-3), ("lstm", 1e-2))),
            "AddingConfig.learning_rates",
        ),
        (lambda: l07.AddingConfig(seeds=0), "AddingConfig.seeds"),
        (lambda: l07.AddingConfig(clip=-1.0), "AddingConfig.clip"),
        (lambda: l07.AddingConfig(seq_len=3), "AddingConfig.seq_len"),
        (lambda: l07.AddingConfig(eval_every=500, max_steps=100), "AddingConfig.eval_every"),
        (lambda: l07.AddingConfig(forget_bias=float("inf")), "AddingConfig.forget_bias"),
        (lambda: l07.CellGradientConfig(seq_len=2), "CellGradientConfig.seq_len"),
        (lambda: l07.CellGradientConfig(forget_biases=()), "CellGradientConfig.forget_biases"),
        (lambda: l07.GateActivityConfig(hidden=1), "GateActivityConfig.hidden"),
        (lambda: l07.GateActivityConfig(seq_len=2), "GateActivityConfig.seq_len"),
        (lambda: l07.GateActivityConfig(lr=0.0), "GateActivityConfig.lr"),
        (
            lambda: l07.GateActivityConfig(forget_bias=float("nan")),
            "GateActivityConfig.forget_bias",
        ),
        (lambda: l07.LstmCellConfig(hidden=0), "LstmCellConfig.hidden"),
    ],
)
def test_configs_reject_bad_fields_by_name(make, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make()
