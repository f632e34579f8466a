"""Keep the figures fresh on every `mkdocs build` and `mkdocs serve` rebuild, and put them on the site.

The work is done by the same CLI a contributor runs (`python -m lessons_code figures`), in a fresh
subprocess: `serve` then always runs the code as it is on disk now, and the cache decides what is
stale. When the stamp of the last complete run still matches every source and output, not even that
process is started (a no-op rebuild costs milliseconds here).

Environment: GTT_PRESET=fast uses each figure's small preset (tests, quick previews); default publish.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from lessons_code import fingerprint, paths

log = logging.getLogger("mkdocs.hooks.figures")


def preset() -> str:
    try:
        return paths.build_preset()
    except ValueError as exc:
        raise PluginError(str(exc)) from exc


def figures_dir() -> Path:
    return paths.figures_dir(preset())


def on_pre_build(config) -> None:
    out_dir = figures_dir()
    if fingerprint.stamp_matches(out_dir, preset()):
        log.info("figures: all up to date (%s preset)", preset())
        return
    command = [sys.executable, "-m", "lessons_code", "figures", "--out", str(out_dir)]
    if preset() == "fast":
        command.append("--fast")
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=paths.REPO_ROOT)
    for line in proc.stdout.splitlines():
        if line.strip():
            log.info("figures: %s", line)
    if proc.returncode != 0:
        detail = proc.stderr.strip() or proc.stdout.strip()
        raise PluginError(f"figures could not be generated (exit {proc.returncode}):\n{detail}")
    log.info("figures: done in %.1f s", time.perf_counter() - started)


def on_files(files, config):
    """Add every generated figure and its facts JSON under figures/ on the site."""
    for path in sorted(figures_dir().glob("l[0-9][0-9]_*")):
        if path.suffix in {".svg", ".json"}:
            files.append(File.generated(config, f"figures/{path.name}", abs_src_path=str(path)))
    return files
