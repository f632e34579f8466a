"""The one Chromium set-up of the project: which binary, and the flags every headless run uses.

Used by the PDF hook (hooks/print_pdf.py), the browser tests (tests/conftest.py) and the benchmarks in
bench/. Standard library only: the MkDocs hooks import it without loading numpy or torch.
"""

from __future__ import annotations

import os
from pathlib import Path

from lessons_code import hang_guard

#: Headless, no sandbox (CI runs as root), nothing Chromium would fetch for itself, and every request to a
#: host other than this machine failing at once (it still shows in Playwright's request events).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


def chromium_executable() -> Path:
    """Debian's Chromium, or the Chrome/Chromium binary that GTT_CHROMIUM names."""
    return Path(os.environ.get("GTT_CHROMIUM", "/usr/bin/chromium"))


def hang_guard_ms(expected_s: float = 0.0) -> float:
    """Playwright's timeout for one step (a load, a wait, a print) expected to take `expected_s`.

    It is the project's hang guard (lessons_code/hang_guard.py: at least 120 s, GTT_HANG_GUARD_S moves it),
    never a budget: Playwright's own default of 30 s is a wall-clock limit that a healthy page on a busy
    machine can pass. 0, which Playwright reads as no limit, when the guard is off."""
    limit = hang_guard.hang_limit_s(expected_s)
    return 0 if limit is None else limit * 1000


def launch(playwright):
    """Chromium through Playwright with the project's binary, flags and hang guard (launching, too, has a
    30 s default that a loaded machine can pass)."""
    return playwright.chromium.launch(
        executable_path=str(chromium_executable()), args=CHROMIUM_ARGS, timeout=hang_guard_ms()
    )


def new_context(browser, **options):
    """A browser context whose every wait, load and click is held to the hang guard, not to 30 s."""
    context = browser.new_context(**options)
    context.set_default_timeout(hang_guard_ms())
    return context
