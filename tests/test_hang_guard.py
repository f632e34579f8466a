"""The hang guard: expected times inform, only real hangs fail (lessons_code/hang_guard.py, hooks/figures.py)."""

from __future__ import annotations

import re
import sys
import time

import pytest
from mkdocs.exceptions import PluginError

from conftest import REPO, load_hook
from lessons_code import chromium, hang_guard


def test_the_guard_allows_ten_times_the_estimate_and_at_least_two_minutes(monkeypatch) -> None:
    monkeypatch.delenv(hang_guard.ENV, raising=False)
    assert hang_guard.hang_limit_s(1.0) == 120.0
    assert hang_guard.hang_limit_s(30.0) == 300.0
    monkeypatch.setenv(hang_guard.ENV, "600")
    assert hang_guard.hang_limit_s(1.0) == 600.0 and hang_guard.hang_limit_s(100.0) == 1000.0
    monkeypatch.setenv(hang_guard.ENV, "off")
    assert hang_guard.hang_limit_s(1.0) is None


def test_the_browser_waits_as_long_as_the_guard_not_playwrights_30_s(monkeypatch) -> None:
    monkeypatch.delenv(hang_guard.ENV, raising=False)
    assert chromium.hang_guard_ms() == 120_000 and chromium.hang_guard_ms(60.0) == 600_000
    monkeypatch.setenv(hang_guard.ENV, "off")
    assert chromium.hang_guard_ms() == 0  # Playwright: no limit


def test_every_browser_is_launched_and_given_contexts_through_the_guarded_helpers() -> None:
    """A bare launch() or new_context() keeps Playwright's 30 s default, a wall-clock limit that a loaded
    machine can pass (it failed a fresh-clone run once); lessons_code/chromium.py owns both calls."""
    bare = re.compile(r"\.chromium\.launch\(|\.new_context\(|\b(browser|chromium)\.new_page\(")
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in ("hooks", "tests", "bench", "lessons_code")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path != REPO / "lessons_code" / "chromium.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan"])
def test_a_bad_setting_is_refused_with_its_name(monkeypatch, value) -> None:
    monkeypatch.setenv(hang_guard.ENV, value)
    with pytest.raises(ValueError, match=hang_guard.ENV):
        hang_guard.hang_limit_s(1.0)


def test_slowness_is_a_note_not_an_error() -> None:
    assert not hang_guard.is_slow(2.9, 1.0) and hang_guard.is_slow(3.1, 1.0)
    assert "not an error" in hang_guard.slow_note("l02_powers", 3.1, 1.0)


@pytest.fixture
def figures_hook(monkeypatch):
    hook = load_hook("figures")
    monkeypatch.setattr(hang_guard, "OUTER_GRACE_S", 0.5)
    return hook


def test_the_mkdocs_hook_stops_a_cli_that_falls_silent_and_says_why(
    figures_hook, monkeypatch
) -> None:
    monkeypatch.setenv(hang_guard.ENV, "1")
    started = time.monotonic()
    with pytest.raises(PluginError, match=r"printed nothing for 2 s and was stopped"):
        figures_hook.run_watched(
            [sys.executable, "-c", "print('loading', flush=True); import time; time.sleep(60)"]
        )
    assert time.monotonic() - started < 20


def test_the_mkdocs_hook_waits_as_long_as_the_cli_announces_for_its_figures(
    figures_hook, monkeypatch
) -> None:
    # Floor 1 s, but the CLI announces a 4 s guard per figure and then works silently for 3 s: no hang.
    monkeypatch.setenv(hang_guard.ENV, "1")
    script = (
        "import time\nprint('computing 1 figure(s) in 1 process(es); hang guard per figure up to 4 s', flush=True)\n"
        "time.sleep(3)\nprint('computed l99_x in 3.0 s (expected 0.1 s)', flush=True)\n"
    )
    code, out, err = figures_hook.run_watched([sys.executable, "-c", script])
    assert code == 0 and out[-1].startswith("computed l99_x"), (out, err)


def test_the_mkdocs_hook_passes_github_annotations_through_bare(figures_hook, capsys) -> None:
    # GitHub reads "::error file=...::" only at the start of a line: the hook's log prefix would hide it.
    script = "print('::error file=lessons_code/l02_x.py,line=3::figure l02_x failed', flush=True)"
    code, out, _ = figures_hook.run_watched([sys.executable, "-c", script])
    assert code == 0 and capsys.readouterr().out.splitlines() == [
        "::error file=lessons_code/l02_x.py,line=3::figure l02_x failed"
    ]
