"""The exercises at the end of lessons 1-3: complete, their code real, their answers right.

Each lesson ends with a section "## Exercises" of 2 to 4 exercises: a question, a hint and a collapsible
solution. Solution code is embedded from ``lessons_code/exercises/exNN_slug.py``; every number a solution
states sits in a ``gtt-answer`` span and must be what the solution's code computes (for a figure fact, what
the figure computes in the publishing preset, which is what the published page shows). The code blocks of the
pages, solutions included, are also run as a reader pastes them by tests/test_copy_paste.py.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from lessons_code import registry
from lessons_code.exercises import ex01_backprop_through_time as ex01
from lessons_code.exercises import ex02_repeated_multiplication as ex02
from lessons_code.exercises import ex03_activation_functions as ex03
from lessons_code.l01_backprop_through_time import ACTIVATIONS, bptt, init_params
from lessons_code.l03_activation_functions import gradient_norm_at_lag, pascanu_bound, with_sigma_max

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
EXERCISES = REPO / "lessons_code" / "exercises"
PAGES = {"01-backprop-through-time.md": ex01, "02-repeated-multiplication.md": ex02,
         "03-activation-functions.md": ex03}
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
        assert 0 < hint < solution, f"{page}, exercise {number}: the question, then a hint, then the solution"
        assert len(body[:hint].split()) >= 12, f"{page}, exercise {number}: the question is missing"
        assert len(body[solution:].split()) >= 30, f"{page}, exercise {number}: the solution is too thin"


@pytest.mark.parametrize("page", PAGES)
def test_solution_code_is_embedded_from_the_exercise_module(page: str) -> None:
    module = PAGES[page]
    source = Path(module.__file__)
    assert source.parent == EXERCISES and source.stem == "ex" + page[:2] + "_" + page[3:-3].replace("-", "_")
    used = [(path, name) for path, name in SNIPPET.findall(exercises_of(page))]
    assert used, f"{page}: no solution embeds code"
    assert all(path == f"lessons_code/exercises/{source.name}" for path, _ in used), used
    sections = SECTION.findall(source.read_text(encoding="utf-8"))
    assert sorted(name for _, name in used) == sorted(sections), "every section is shown once, and only those"


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
    assert sorted(keys) == sorted(answers), f"{page}: answers on the page {keys}, in the module {sorted(answers)}"
    for key, shown in spans:
        answer = answers[key]
        fact = FACT.match(shown.strip())
        if fact:
            assert answer.fact == fact.groups(), f"{key}: the page quotes {fact.groups()}, the module {answer.fact}"
            assert answer.compute() == pytest.approx(publish_fact(*fact.groups()), rel=1e-12), key
        else:
            assert answer.fact is None, f"{key}: a figure fact must be quoted with fact(), not typed"
            value, tolerance = stated_value(shown)
            assert abs(answer.compute() - value) <= tolerance, f"{key}: the page says {shown!r}, the code gives {answer.compute()!r}"


def test_lesson_1_solutions_agree_with_bptt_and_autograd() -> None:
    rng = np.random.default_rng(0)
    params = init_params(n_in=3, n_hidden=5, n_out=2, rng=rng)
    xs, h0, y = rng.normal(size=(20, 3)), rng.normal(size=5), rng.normal(size=2)
    for activation in ("tanh", "sigmoid"):  # smooth activations: the finite difference is exact to O(eps^2)
        _, grads, _ = bptt(params, xs, h0, y, activation)
        for name in ("W_hh", "W_xh"):
            for index in np.ndindex(params[name].shape):
                numeric = ex01.finite_difference(params, xs, h0, y, name, index, activation=activation)
                # "better than one part in a million", for entries large enough to have digits to compare
                assert abs(numeric - grads[name][index]) <= 1e-6 * max(abs(grads[name][index]), 1e-4), (activation, name, index)
    ys = rng.normal(size=(len(xs), 2))
    for activation in ACTIVATIONS:
        L_hand, by_hand = ex01.bptt_every_step(params, xs, h0, ys, activation)
        L_auto, by_autograd = ex01.autograd_every_step(params, xs, h0, ys, activation)
        assert L_hand == pytest.approx(L_auto, rel=1e-13)
        assert by_hand.keys() == by_autograd.keys()
        assert max(np.max(np.abs(by_hand[k] - by_autograd[k])) for k in by_autograd) < 1e-12, activation
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
