"""Shared fixtures: one fast-preset figure run and one strict fast build per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lessons_code.seeding import configure_torch

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def pytest_configure(config) -> None:
    import torch  # noqa: F401 - loaded first so configure_torch() pins its threads for every test

    configure_torch()


def run_cli(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`python -m lessons_code ARGS` in a fresh interpreter, as a contributor or the MkDocs hook runs it."""
    return subprocess.run(
        [sys.executable, "-m", "lessons_code", *args],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="session")
def fast_figures(tmp_path_factory) -> Path:
    """Every registered figure, fast preset, computed once into a fresh directory."""
    out = tmp_path_factory.mktemp("figures-fast")
    proc = run_cli("figures", "--fast", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="session")
def fast_site(tmp_path_factory, fast_figures) -> tuple[Path, str]:
    """The site built with `mkdocs build --strict` in the fast preset; returns (site dir, build log)."""
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "GTT_PRESET": "fast", "GTT_FIGURES_DIR": str(fast_figures), "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        capture_output=True, text=True, cwd=REPO, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site, proc.stdout + proc.stderr
