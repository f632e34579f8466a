"""The layering of the code: lessons import core modules only, never each other; core modules never import
a lesson; an exercise imports its own lesson and core modules only; the MkDocs hooks reach lessons only
through the registry. The package contracts are import-linter's (.importlinter); the exercise and hook rules
are checked here with the runner's own import reader, because import-linter's forbidden contracts would need
one block per exercise and it cannot read the hooks folder, which is not a package."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from lessons_code import registry, runner

EXERCISES = sorted((REPO / "lessons_code" / "exercises").glob("ex[0-9][0-9]_*.py"))
LESSON = re.compile(r"^lessons_code\.l\d\d_")


def test_import_linter_keeps_every_contract() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--config", str(REPO / ".importlinter")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 3 kept, 0 broken." in proc.stdout, proc.stdout


def test_import_linter_does_catch_a_lesson_importing_another(tmp_path) -> None:
    package = tmp_path / "lessons_code"
    package.mkdir()
    for path in (REPO / "lessons_code").glob("*.py"):
        (package / path.name).write_text(path.read_text())
    (package / "exercises").mkdir()
    (package / "exercises" / "__init__.py").write_text("")
    lesson = package / "l07_gates.py"
    lesson.write_text(
        "from lessons_code.l06_initialisation import orthogonal_tanh_rnn\n" + lesson.read_text()
    )
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--config", str(REPO / ".importlinter")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )
    assert proc.returncode == 1 and "Lessons never import each other BROKEN" in proc.stdout, (
        proc.stdout
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda p: p.stem)
def test_an_exercise_imports_its_own_lesson_and_core_modules_only(exercise: Path) -> None:
    imported = runner._imports_of(exercise, f"lessons_code.exercises.{exercise.stem}")
    lessons = {name.split(".")[1] for name in imported if LESSON.match(name)}
    own = "l" + exercise.stem.removeprefix("ex")
    assert lessons <= {own}, f"{exercise.name} imports {sorted(lessons - {own})}"


def test_hooks_reach_lessons_only_through_the_registry() -> None:
    for hook in sorted((REPO / "hooks").glob("*.py")):
        imported = runner._imports_of(hook, f"hooks.{hook.stem}")
        assert not [name for name in imported if LESSON.match(name) or ".exercises" in name], (
            hook.name
        )


def test_every_lesson_depends_on_core_modules_only() -> None:
    # The figure cache follows these imports: an edit to lesson 6 must not recompute lesson 7's figures.
    for name in registry.lesson_module_names():
        lessons = [
            dep for dep in runner.dependency_sources(name) if LESSON.match(dep) and dep != name
        ]
        assert lessons == [], f"{name} depends on {lessons}"
