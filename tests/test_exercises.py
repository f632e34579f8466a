"""The exercises at the end of every lesson: complete, their code real, their answers right.

Each lesson ends with a section "## Exercises" of 2 to 4 exercises: a question, a hint and a collapsible
solution. Solution code is embedded from ``lessons_code/exercises/exNN_slug.py``; every number a solution
states sits in a ``gtt-answer`` span and must be what the solution's code computes (for a figure fact, what
the figure computes in the publishing preset, which is what the published page shows). The code blocks of the
pages, solutions included, are also run as a reader pastes them by tests/test_copy_paste.py.
"""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from lessons_code import registry
from lessons_code.exercises import ex01_backprop_through_time as ex01
from lessons_code.exercises import ex02_repeated_multiplication as ex02
from lessons_code.exercises import ex03_activation_functions as ex03
from lessons_code.exercises import ex04_consequences as ex04
from lessons_code.exercises import ex05_taming_explosions as ex05
from lessons_code.exercises import ex06_initialisation as ex06
from lessons_code.exercises import ex07_gates as ex07
from lessons_code.exercises import ex08_cheat_sheet as ex08
from lessons_code.activations import ACTIVATIONS
from lessons_code.l01_backprop_through_time import bptt, init_params
from lessons_code.l03_activation_functions import (
    gradient_norm_at_lag,
    pascanu_bound,
    with_sigma_max,
)

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
EXERCISES = REPO / "lessons_code" / "exercises"
LESSON_PAGES = sorted(p.name for p in DOCS.glob("[0-9][0-9]-*.md"))


def exercise_module(page: str):
    """lessons_code/exercises/exNN_slug.py for docs/NN-slug.md."""
    return importlib.import_module(
        f"lessons_code.exercises.ex{page[:2]}_{page[3:-3].replace('-', '_')}"
    )


PAGES = {page: exercise_module(page) for page in LESSON_PAGES}
SNIPPET = re.compile(r'^\s*--8<-- "([^":]+):([^"]+)"\s*$', re.M)
SECTION = re.compile(r"^# --8<-- \[start:(\w+)\]$", re.M)
ANSWER = re.compile(r'<span class="gtt-answer" data-answer="([^"]+)">(.*?)</span>', re.S)
FACT = re.compile(r'^\{\{ fact\("(\w+)", "([^"]+)"(?:, "[^"]*")?\) \}\}$')


def exercises_of(page: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    assert "\n## Exercises\n" in text, f"{page} has no '## Exercises' section"
    section = text.split("\n## Exercises\n", 1)[1]
    assert "\n## " not in section, f"{page}: '## Exercises' must be the last section"
    return section


@pytest.mark.parametrize("page", PAGES)
def test_each_lesson_ends_with_two_to_four_complete_exercises(page: str) -> None:
    blocks = re.split(r'^!!! question "', exercises_of(page), flags=re.M)[1:]
    assert 2 <= len(blocks) <= 4, f"{page}: {len(blocks)} exercises"
    for number, block in enumerate(blocks, 1):
        title, body = block.split("\n", 1)
        assert title.startswith(f"Exercise {number}: "), (page, title)
        hint, solution = body.find('    ??? tip "Hint"'), body.find('    ??? success "Solution"')
        assert 0 < hint < solution, (
            f"{page}, exercise {number}: the question, then a hint, then the solution"
        )
        assert len(body[:hint].split()) >= 12, f"{page}, exercise {number}: the question is missing"
        assert len(body[solution:].split()) >= 30, (
            f"{page}, exercise {number}: the solution is too thin"
        )


@pytest.mark.parametrize("page", PAGES)
def test_solution_code_is_embedded_from_the_exercise_module(page: str) -> None:
    module = PAGES[page]
    source = Path(module.__file__)
    assert source.parent == EXERCISES and source.stem == "ex" + page[:2] + "_" + page[3:-3].replace(
        "-", "_"
    )
    used = [(path, name) for path, name in SNIPPET.findall(exercises_of(page))]
    assert used, f"{page}: no solution embeds code"
    assert all(path == f"lessons_code/exercises/{source.name}" for path, _ in used), used
    sections = SECTION.findall(source.read_text(encoding="utf-8"))
    assert sorted(name for _, name in used) == sorted(sections), (
        "every section is shown once, and only those"
    )


def test_exercise_snippets_import_nothing_from_the_repository() -> None:
    """A reader pastes the solutions after the lesson's code: they may use its names, never lessons_code."""
    for path in EXERCISES.glob("ex*.py"):
        text = path.read_text(encoding="utf-8")
        for body in re.findall(r"# --8<-- \[start:\w+\]\n(.*?)# --8<-- \[end:\w+\]", text, re.S):
            assert "lessons_code" not in body and "import" not in body, path.name


def stated_value(text: str) -> tuple[float, float]:
    """The number in an answer span and half a unit of its last stated digit: "5.7 \\times 10^{-7}", "1.85", "44"."""
    text = text.strip().strip("$").strip()
    match = re.fullmatch(r"([\d.]+)\s*\\times\s*10\^\{(-?\d+)\}", text)
    mantissa, exponent = (match.group(1), int(match.group(2))) if match else (text, 0)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return float(mantissa) * 10.0**exponent, 0.5 * 10.0 ** (exponent - decimals)


def publish_fact(figure: str, name: str) -> float:
    """A fact as the published page shows it: the figure computed with its publishing configuration."""
    (lesson,) = (REPO / "lessons_code").glob(f"{figure.split('_')[0]}_*.py")
    _, spec = registry.all_figures([importlib.import_module(f"lessons_code.{lesson.stem}")])[figure]
    return spec.compute(spec.config, np.random.default_rng(spec.seed)).facts[name]


@pytest.mark.parametrize("page", PAGES)
def test_every_stated_answer_is_what_the_solution_computes(page: str) -> None:
    spans = ANSWER.findall(exercises_of(page))
    answers = {a.key: a for a in PAGES[page].ANSWERS}
    keys = [key for key, _ in spans]
    assert sorted(keys) == sorted(answers), (
        f"{page}: answers on the page {keys}, in the module {sorted(answers)}"
    )
    for key, shown in spans:
        answer = answers[key]
        fact = FACT.match(shown.strip())
        if fact:
            assert answer.fact == fact.groups(), (
                f"{key}: the page quotes {fact.groups()}, the module {answer.fact}"
            )
            assert answer.compute() == pytest.approx(publish_fact(*fact.groups()), rel=1e-12), key
        else:
            assert answer.fact is None, (
                f"{key}: a figure fact must be quoted with fact(), not typed"
            )
            value, tolerance = stated_value(shown)
            assert abs(answer.compute() - value) <= tolerance, (
                f"{key}: the page says {shown!r}, the code gives {answer.compute()!r}"
            )


def test_lesson_1_solutions_agree_with_bptt_and_autograd() -> None:
    rng = np.random.default_rng(0)
    params = init_params(n_in=3, n_hidden=5, n_out=2, rng=rng)
    xs, h0, y = rng.normal(size=(20, 3)), rng.normal(size=5), rng.normal(size=2)
    # smooth activations: the finite difference is exact to O(eps^2)
    for activation in (
        "tanh",
        "sigmoid",
    ):
        _, grads, _ = bptt(params, xs, h0, y, activation)
        for name in ("W_hh", "W_xh"):
            for index in np.ndindex(params[name].shape):
                numeric = ex01.finite_difference(
                    params, xs, h0, y, name, index, activation=activation
                )
                # "better than one part in a million", for entries large enough to have digits to compare
                assert abs(numeric - grads[name][index]) <= 1e-6 * max(
                    abs(grads[name][index]), 1e-4
                ), (activation, name, index)
    ys = rng.normal(size=(len(xs), 2))
    for activation in ACTIVATIONS:
        L_hand, by_hand = ex01.bptt_every_step(params, xs, h0, ys, activation)
        L_auto, by_autograd = ex01.autograd_every_step(params, xs, h0, ys, activation)
        assert L_hand == pytest.approx(L_auto, rel=1e-13)
        assert by_hand.keys() == by_autograd.keys()
        assert max(np.max(np.abs(by_hand[k] - by_autograd[k])) for k in by_autograd) < 1e-12, (
            activation
        )
    # For a sequence of one step the two losses are the same, and so are their gradients.
    _, one_step, _ = bptt(params, xs[:1], h0, y)
    _, every_step = ex01.bptt_every_step(params, xs[:1], h0, y[None])
    for name in one_step:
        np.testing.assert_allclose(every_step[name], one_step[name], rtol=1e-13, atol=1e-15)


def test_lesson_2_symmetric_matrices_have_no_transient() -> None:
    symmetric, general = ex02.symmetric_and_general()
    assert symmetric < 1e-12  # "at the level of rounding error"
    assert general > 0.1  # "of order one"
    assert ex02.steps_until_below(0.5, 0.25) == 3  # 0.5**2 = 0.25 is not below 0.25; 0.5**3 is


def test_lesson_3_solutions_say_what_their_code_shows() -> None:
    rng = np.random.default_rng(0)  # as on the page: the lesson's first code block draws these
    direction, inputs = rng.standard_normal((64, 64)), rng.standard_normal((100, 64))
    bound = pascanu_bound(3.0, 0.25, 50)
    measured = gradient_norm_at_lag(with_sigma_max(direction, 3.0), "sigmoid", inputs, lag=50)
    assert measured < 1e-6 * bound  # "many orders of magnitude below even that bound"
    grid = np.linspace(-6, 6, 240_001)
    assert set(np.unique(ex03.leaky_relu_prime(grid))) == {0.01, 1.0}  # never exactly zero
    np.testing.assert_array_equal(ex03.leaky_relu(grid[grid > 0]), grid[grid > 0])


def test_lesson_4_solutions_say_what_their_code_shows() -> None:
    import math

    import torch

    from lessons_code.l04_consequences import CliffConfig, MemoryConfig, train_memory
    from lessons_code.tasks import cliff_loss_and_grad, memory_batch

    # The solutions hard-code the figures' settings: the test size, and the start, step size and length of the path.
    assert MemoryConfig().test_size == 4000
    cliff = CliffConfig()
    assert (cliff.start, cliff.lr, cliff.descent_steps, cliff.steps, cliff.x0, cliff.target) == (
        (8.0, -3.0),
        1.0,
        300,
        50,
        0.0,
        0.7,
    )

    # Exercise 1: the best guess without the key is q = 1/2, at a loss of ln 2.
    q, best = ex04.best_guess()
    assert q == pytest.approx(0.5, abs=1e-12) and best == pytest.approx(math.log(2), rel=1e-12)
    # The page's networks (its training block, then the solution's batch): gap 40 "sits close to" ln 2, gap 2 "near 0".
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model, _ = train_memory(
        [2, 40], seeds=1, hidden=16, n_distractors=4, steps=100, batch=32, lr=1e-2, rng=rng
    )
    memory_batch([2, 40], 1000, 42, 4, rng)  # the page's own test batch comes first
    x, y = memory_batch([2, 40], 1000, 42, 4, rng)
    gap_2, gap_40 = ex04.cross_entropy_per_model(model, x, y).tolist()
    assert gap_2 < 0.05 and abs(gap_40 - math.log(2)) < 0.01
    # "The simulated guessers agree to within 1 %."
    simulated = ex04.guessing_accuracies(100_000, 4000, np.random.default_rng(1))
    assert (
        abs(simulated.std() / math.sqrt(0.25 / 4000) - 1) < 0.01
        and abs(simulated.mean() - 0.5) < 1e-3
    )

    # Exercise 2: "a simulation agrees to two decimals".
    baselines = ex04.adding_baselines(20_000, 100, np.random.default_rng(0))
    assert (
        abs(baselines["always 1"] - 1 / 6) < 0.005
        and abs(baselines["second + 1/2"] - 1 / 12) < 0.005
    )

    # Exercise 3: the closed form is what backpropagation gives, for any w.
    for w in (3.0, 4.0, 5.0, 8.0, 10.0):
        _, g_w, g_b = cliff_loss_and_grad(w, -w / 2)
        closed = ex04.wall_gradient(w)
        assert closed[0] == pytest.approx(float(g_w), rel=1e-12) and closed[1] == pytest.approx(
            float(g_b), rel=1e-12
        )
    # With the step size that keeps the wall step to 0.1, the path's steps before the jump would be ~1e-17 long.
    path, grad_norms = ex04.figure_path()
    jump = int(np.argmax(grad_norms))
    assert np.median(grad_norms[:jump]) * (0.1 / ex04.wall_norm(8.0)) < 1e-16
    # The path met the same order of magnitude as the formula, close to the line but not on it.
    assert 0.5 < grad_norms[jump] / ex04.wall_norm_at_jump() < 2
    assert 0 < abs(path[jump, 1] + path[jump, 0] / 2) < 1e-4


def test_lesson_5_solutions_say_what_their_code_shows() -> None:
    import math

    import torch

    from lessons_code.l05_taming_explosions import (
        ClipCliffConfig,
        clip_by_norm,
        clip_by_value,
        cosine,
    )

    # The solution hard-codes the cliff figure's threshold and headline learning rate.
    assert (ClipCliffConfig().max_norm, ClipCliffConfig().headline_lr) == (0.1, 30.0)

    # Exercise 1: norm c, the same direction -c (1, 2) / sqrt(5), cosine 1, and lesson 4's tiny step size.
    g, clipped = ex05.wall_gradient_clipped()
    assert np.linalg.norm(clipped) == pytest.approx(0.1, rel=1e-12)
    np.testing.assert_allclose(clipped, -0.1 * np.array([1.0, 2.0]) / math.sqrt(5), rtol=1e-12)
    assert cosine(g, clipped) == pytest.approx(1.0, abs=1e-12)
    assert 0.1 / np.linalg.norm(g) == pytest.approx(0.1 / ex04.wall_norm(8.0), rel=1e-12)
    short = np.array([0.03, -0.04])
    # "a gradient shorter than c passes unchanged"
    np.testing.assert_array_equal(clip_by_norm(short, 0.1), short)

    # Exercise 2: value clipping returns c sign(g); the cosine formula and its bounds.
    g = ex05.exploding_gradient()
    np.testing.assert_array_equal(clip_by_value(g, 1.0), np.sign(g))
    measured = cosine(g, clip_by_value(g, 1.0))
    # "matches it to rounding"
    assert measured == pytest.approx(ex05.predicted_cosine(g), rel=1e-12)
    # "just above the lower bound"
    assert 1 / math.sqrt(g.size) < measured < 1.01 / math.sqrt(g.size)
    assert cosine(g, clip_by_norm(g, 1.0)) == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(100):
        c = float(rng.uniform(0.1, 2.0))
        v = rng.choice([-1.0, 1.0], 50) * (c + rng.lognormal(0.0, 3.0, 50))  # every |v_i| above c
        cos = cosine(v, clip_by_value(v, c))
        assert (
            cos == pytest.approx(ex05.predicted_cosine(v), rel=1e-12)
            and 1 / math.sqrt(50) <= cos <= 1 + 1e-12
        )
    equal = np.array([3.0, -3.0, 3.0])
    assert cosine(equal, clip_by_value(equal, 1.0)) == pytest.approx(1.0, abs=1e-12)

    # Exercise 3: autograd finds exactly the predicted pattern, and the missing gradients are exactly zero.
    rnn = torch.nn.RNN(1, 4, batch_first=True, dtype=torch.float64)
    t = np.arange(16)
    for k in (1, 2, 5, 6, 8, 16):
        predicted = (t[None, :] <= t[:, None]) & (t[None, :] // k == t[:, None] // k)
        np.testing.assert_array_equal(ex05.gradient_reach(rnn, 16, k), predicted)
        assert ex05.reach_summary(k)[0] == k - 1
    assert [ex05.reach_summary(k)[1] for k in (5, 6, 8, 16)] == [0, 2, 6, 11]


def test_lesson_6_solutions_say_what_their_code_shows() -> None:
    run = ex06.orthogonal_run()
    # "stays at 1 up to rounding" (a float32 orthogonal matrix)
    assert np.abs(run["linear"] - 1).max() < 1e-5
    np.testing.assert_allclose(run["with_tanh"], run["autograd"], rtol=1e-10)  # "agree to rounding"
    # Each step back multiplies the length by a number between the smallest and the largest tanh' of that step.
    factors = run["with_tanh"][1:] / run["with_tanh"][:-1]
    # rows: steps T, T-1, ..., 2, in the order the error passes them
    d = 1 - run["states"][:0:-1] ** 2
    assert np.all(factors <= d.max(axis=1) * (1 + 1e-6)) and np.all(
        factors >= d.min(axis=1) * (1 - 1e-6)
    )
    assert abs(run["per_step"] - run["mean_tanh_prime"]) < 0.005  # "close to the average tanh'"
    irnn = ex06.irnn_run()
    # every lag k >= 1
    np.testing.assert_allclose(irnn["positive"][1:], irnn["predicted"], rtol=1e-12)
    assert irnn["signed"][99] == 0.0  # "exactly 0 at lag 99"
    assert np.all(np.diff(irnn["signed"]) <= 1e-15)  # "can only fall as the lag grows"
    rates = ex06.forgetting_run()
    for rho, rate in rates.items():
        assert abs(rate["late"] - rho) < 0.02  # the long-run factor is rho, "as predicted"
        assert rate["early"] < rate["late"] - 0.03  # the first ten steps shrink faster
        assert abs(rate["early"] - rate["linear_early"]) < 0.02  # "tanh is not the reason"
    assert rates[0.9]["sigma_max"] > 1.5  # "well above 1"


def test_lesson_7_solutions_say_what_their_code_shows() -> None:
    for f in (0.5, 0.7, ex07.sigmoid(1.0), ex07.sigmoid(3.0), 0.99):
        k, left = 0, 1.0
        while left >= 0.01:  # count the multiplications
            left, k = left * f, k + 1
        assert ex07.steps_to_one_percent(f) == k, f
    for steps in (100, 1000):
        assert ex07.sigmoid(ex07.forget_bias_for(steps)) ** steps == pytest.approx(0.01, rel=1e-9)
    b = ex07.forget_bias_for(1000)
    # "the span grows like e^b ln 100"
    assert math.exp(b) * math.log(100) == pytest.approx(1000, rel=0.01)
    runs = ex07.cut_paths_run()
    for bias, run in runs.items():
        # autograd = the forget gates' product, to rounding
        assert run["gap"] <= 1e-14 * run["scale"], bias
        # most of the gradient takes the paths through h
        assert run["cut"] < run["every_path"], bias
    assert runs[3.0]["every_path"] > 1  # "with bias 3 they even make it grow"
    coupled = ex07.coupled_run()
    assert coupled["gru"] <= 1.0  # "never leaves [-1, 1]"
    assert coupled["count_100"] == pytest.approx(100, abs=1e-3) and coupled[
        "count_1000"
    ] == pytest.approx(1000, abs=1e-2)
    # Exercise 4: the hand-written GRU Jacobian is autograd's, for any weights, state and update-gate bias.
    for seed, bias in ((1, None), (2, -3.0), (3, 4.0)):
        torch.manual_seed(seed)
        gru = torch.nn.GRU(3, 7, dtype=torch.float64)
        if bias is not None:
            with torch.no_grad():
                gru.bias_ih_l0[7:14] = bias
        x_t, h = torch.randn(3, dtype=torch.float64), torch.randn(7, dtype=torch.float64).tanh()
        J, z = ex07.gru_jacobian(gru, x_t, h)
        auto = torch.autograd.functional.jacobian(
            lambda h_prev, gru=gru, x_t=x_t: gru(x_t[None, None], h_prev[None, None])[1][0, 0], h
        )
        torch.testing.assert_close(J, auto, rtol=0, atol=1e-13)
        assert torch.all((0 < z) & (z < 1))
    runs = ex07.gru_jacobian_run()
    assert all(run["gap"] < 1e-14 for run in runs.values())  # "agree to rounding"
    # "Most of the weights' paths vanish" as the gate opens, and "within about 1 % of the identity".
    assert runs[5.0]["rest"] < 0.05 * runs[0.0]["rest"] and runs[5.0]["from_identity"] < 0.02
    # "about one half": halves the signal, like forget bias 0
    assert runs[0.0]["z"] == pytest.approx(0.5, abs=0.05)


def test_lesson_8_solutions_say_what_their_code_shows() -> None:
    run = ex08.threshold_run()
    stats = run["twice_median"]
    assert stats["mean"] > 1.5 * stats["median"]  # "the mean sits far above the median"
    # "both act on a minority of steps"
    assert stats["clipped"] < 0.5 and run["recipe"]["clipped"] < 0.5
    big = torch.tensor(run["norms"]) > 2 * stats["median"]
    half = len(big) // 2
    # "a few in the very first steps, most in the second half"
    assert 0 < big[:25].sum() and big[half:].sum() > big.sum() / 2
    losses = torch.tensor(run["losses"])
    assert losses[-50:].mean() < 0.7 * losses[25:125].mean()  # "as the loss starts to fall"
    run = ex08.underflow_run()
    zeros = run["zeros32"]
    # the first steps
    assert zeros > 0 and torch.all(run["profile32"][:zeros] == 0) and run["profile32"][zeros] > 0
    assert torch.all(run["profile64"] > 0) and run["decades64"] > 30  # "in float64 none does"
    assert run["decades_orthogonal"] < 10
    # The float32 gradient at the first step is not 0; its entries are too small to square.
    x, _ = ex08.adding_problem(16, 200, np.random.default_rng(1))
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 32, batch_first=True)
    state, hidden = None, []
    for t in range(x.shape[1]):
        _, state = rnn(x[:, t : t + 1], state)
        hidden.append(state)
    first = torch.autograd.grad(hidden[-1][-1].sum(), hidden)[0]
    assert torch.any(first != 0) and first.abs().max() < run["smallest_square_root"]
