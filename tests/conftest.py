"""Shared fixtures: one fast-preset figure run and one strict fast build per test session."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from lessons_code.chromium import (  # noqa: F401 - tests import them from here
    CHROMIUM_ARGS,
    chromium_executable,
    launch,
    new_context,
)
from lessons_code.seeding import configure_torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # bench/ is a folder of scripts, not an installed package

from bench.gzip_server import serve  # noqa: E402

SHARED = REPO.parent / "shared"


def pytest_configure(config) -> None:
    import torch  # noqa: F401 - loaded first so configure_torch() pins its threads for every test

    configure_torch()


def load_hook(name: str):
    """hooks/NAME.py as a module (the hooks folder is not a package; MkDocs loads its files the same way)."""
    spec = importlib.util.spec_from_file_location(f"gtt_hook_{name}", REPO / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def built_pages(site: Path) -> list[Path]:
    """Every page of a built site, as its index.html."""
    return sorted(site.rglob("index.html"))


def run_cli(
    *args: str, env: dict | None = None, cwd: Path = REPO, replace_env: bool = False
) -> subprocess.CompletedProcess:
    """`python -m lessons_code ARGS` in a fresh interpreter, as a contributor or the MkDocs hook runs it.

    `env` is added to this process's environment, or replaces it with replace_env=True."""
    return subprocess.run(
        [sys.executable, "-m", "lessons_code", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(env or {}) if replace_env else {**os.environ, **(env or {})},
    )


def copy_site_sources(root: Path) -> Path:
    """The site's sources copied into `root` (created) with the lesson code and node_modules linked in: a
    project that a test may break or build elsewhere without touching the checkout."""
    root.mkdir(parents=True)
    for name in ("docs", "hooks", "overrides", "notebooks"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mkdocs.yml", "CITATION.cff"):
        shutil.copy(REPO / name, root)
    for name in ("lessons_code", "node_modules"):
        (root / name).symlink_to(REPO / name)
    return root


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str):
    """In CI a missing browser is a failure (the tests must run there); locally, a skip that says what to do."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(
        f"{reason}: install Debian's Chromium with `apt-get install chromium` "
        "(or point GTT_CHROMIUM at a Chrome/Chromium binary)"
    )


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session: Playwright's sync API allows one running instance per thread."""
    executable = chromium_executable()
    if not executable.exists():
        unavailable(f"no Chromium at {executable}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (`pip install -e '.[test]'`)")
    with sync_playwright() as playwright:
        try:
            chromium = launch(playwright)
        except Exception as error:  # noqa: BLE001 - any launch failure means no usable browser
            unavailable(f"Chromium at {executable} did not start: {error}")
        yield chromium
        chromium.close()


@contextmanager
def busy_core(limit_s: float = 600.0):
    """Keep one core fully busy in another process (a bounded loop, stopped on exit); yields a function
    that returns the CPU seconds it has used so far."""
    loop = f"import os, time\nend = time.monotonic() + {limit_s!r}\nwhile time.monotonic() < end:\n    pass\n"
    proc = subprocess.Popen([sys.executable, "-c", loop])

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    try:
        yield cpu_seconds
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def fast_figures_run(tmp_path_factory) -> tuple[Path, dict]:
    """Every registered figure, fast preset, computed once into a fresh directory, as on a busy machine:
    another process keeps one of the two cores fully busy all the while (issue 13: a slow or shared
    machine must never turn a healthy run red)."""
    out = tmp_path_factory.mktemp("figures-fast")
    with busy_core() as busy_cpu_s:
        started = time.monotonic()
        # One process, named rather than left to the work-size rule (WORTH_A_WORKER_S), which the fast preset's
        # total now crosses: two workers beside the busy loop would share two cores three ways, and the serial
        # run is what test_two_clean_runs_are_byte_identical_serial_or_in_two_processes compares against.
        proc = run_cli("figures", "--fast", "--jobs", "1", "--out", str(out))
        wall = time.monotonic() - started
        record = {
            "returncode": proc.returncode,
            "output": proc.stdout + proc.stderr,
            "wall_s": wall,
            "busy_cpu_s": busy_cpu_s(),
        }
    return out, record


@pytest.fixture(scope="session")
def fast_figures(fast_figures_run) -> Path:
    out, record = fast_figures_run
    assert record["returncode"] == 0, record["output"]
    return out


@pytest.fixture(scope="session")
def fast_figures_under_load(fast_figures_run) -> dict:
    return fast_figures_run[1]


@pytest.fixture(scope="session")
def fast_build(tmp_path_factory, fast_figures):
    """(site dir, base URL, build log): the one strict fast build of the session, served on 127.0.0.1.

    It is built the way the Pages workflow builds: with SITE_URL set to the address it is served from.
    Material's instant navigation depends on that: it only intercepts links to pages listed in
    sitemap.xml, matched on port and path. Nothing else in the site depends on the address, so the static
    tests read the same build (one build instead of two saves ~10 s).
    """
    site = tmp_path_factory.mktemp("site")
    with serve(site) as url:
        env = {
            **os.environ,
            "GTT_PRESET": "fast",
            "GTT_FIGURES_DIR": str(fast_figures),
            "SITE_URL": url,
            "NO_MKDOCS_2_WARNING": "1",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield site, url, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def fast_site(fast_build) -> tuple[Path, str]:
    """(site dir, build log) of the strict fast build."""
    site, _, log = fast_build
    return site, log


@pytest.fixture(scope="session")
def served(fast_build) -> tuple[Path, str]:
    """(site dir, base URL) of the strict fast build, served with gzip as GitHub Pages serves it."""
    site, url, _ = fast_build
    return site, url
