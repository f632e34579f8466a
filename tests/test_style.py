"""ruff: the lint rules and the formatting in pyproject.toml hold for every Python file we write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

RUFF = Path(sys.executable).with_name("ruff")
CHECKED = ["lessons_code", "hooks", "tests", "bench", "notebooks"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), *args, *CHECKED], capture_output=True, text=True, cwd=REPO)


def test_ruff_finds_nothing_to_lint() -> None:
    proc = ruff("check", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_file_is_formatted() -> None:
    proc = ruff("format", "--check", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_lint_does_catch_an_unused_import(tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    proc = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "F401" in proc.stdout
