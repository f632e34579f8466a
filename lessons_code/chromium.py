"""The one Chromium set-up of the project: which binary, and the flags every headless run uses.

Used by the PDF hook (hooks/print_pdf.py), the browser tests (tests/conftest.py) and the benchmarks in
bench/. Standard library only: the MkDocs hooks import it without loading numpy or torch.
"""

from __future__ import annotations

import os
from pathlib import Path

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
