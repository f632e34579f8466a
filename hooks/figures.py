"""Keep the figures fresh on every `mkdocs build` and `mkdocs serve` rebuild, and put them on the site.

The work is done by the same CLI a contributor runs (`python -m lessons_code figures`), in a fresh
subprocess: `serve` then always runs the code as it is on disk now, and the cache decides what is
stale. When the stamp of the last complete run still matches every source and output, not even that
process is started (a no-op rebuild costs milliseconds here).

The CLI guards each figure against hangs itself (lessons_code/hang_guard.py) and names the function that
hung. This hook watches the subprocess too, in case the CLI itself stops answering: it reads the CLI's
output as it comes (so `serve` shows each figure as it is done) and stops the process when no line has
arrived for longer than the CLI's announced per-figure guard plus a grace period.

Environment: GTT_PRESET=fast uses each figure's small preset (tests, quick previews); default publish.
"""

from __future__ import annotations

import logging
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from lessons_code import fingerprint, hang_guard, paths

log = logging.getLogger("mkdocs.hooks.figures")

#: The CLI announces "hang guard per figure up to N s" before it computes anything.
ANNOUNCED_GUARD = re.compile(r"hang guard per figure (?:up to (\d+) s|off)")


def preset() -> str:
    try:
        return paths.build_preset()
    except ValueError as exc:
        raise PluginError(str(exc)) from exc


def figures_dir() -> Path:
    return paths.figures_dir(preset())


def run_watched(command: list[str]) -> tuple[int, list[str], str]:
    """Run the CLI, logging its stdout lines as they arrive; (exit code, stdout lines, stderr).

    Until the CLI announces its per-figure guard (while it starts and loads the lessons) the watchdog
    allows the guard's floor; after that, the announced guard. Either way plus OUTER_GRACE_S.
    """
    floor = hang_guard.floor_s()
    allowed = None if floor is None else floor + hang_guard.OUTER_GRACE_S
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=paths.REPO_ROOT
    )
    lines: queue.Queue[str | None] = queue.Queue()
    stderr: list[str] = []
    readers = [
        threading.Thread(
            target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)]
        ),
        threading.Thread(target=lambda: stderr.extend(proc.stderr)),
    ]
    for reader in readers:
        reader.start()
    out: list[str] = []
    last = time.monotonic()
    while True:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if allowed is not None and time.monotonic() - last > allowed:
                proc.kill()
                proc.wait()
                for reader in readers:
                    reader.join()
                running = next(
                    (line for line in reversed(out) if line.startswith("computing")), "starting up"
                )
                raise PluginError(
                    f"figures: the figures CLI printed nothing for {allowed:.0f} s and was stopped "
                    f"(hang guard; last state: {running}). Its own guard should have named the "
                    f"figure: see its output above. Set {hang_guard.ENV} to allow longer."
                ) from None
            continue
        if line is None:
            break
        last = time.monotonic()
        line = line.rstrip("\n")
        out.append(line)
        if line.startswith("::"):
            # A GitHub Actions workflow command (an annotation): GitHub reads only bare lines.
            print(line, flush=True)
        elif line.strip():
            log.info("figures: %s", line)
        announced = ANNOUNCED_GUARD.search(line)
        if announced:
            allowed = (
                None
                if announced.group(1) is None
                else float(announced.group(1)) + hang_guard.OUTER_GRACE_S
            )
    code = proc.wait()
    for reader in readers:
        reader.join()
    return code, out, "".join(stderr)


def on_pre_build(config) -> None:
    out_dir = figures_dir()
    if fingerprint.stamp_matches(out_dir, preset()):
        log.info("figures: all up to date (%s preset)", preset())
        return
    command = [sys.executable, "-m", "lessons_code", "figures", "--out", str(out_dir)]
    if preset() == "fast":
        command.append("--fast")
    started = time.perf_counter()
    code, out, err = run_watched(command)
    for line in err.splitlines():
        if line.startswith("slow:"):
            # information, not a warning: strict mode must not fail on it
            log.info("figures: %s", line)
    if code != 0:
        detail = err.strip() or "\n".join(out).strip()
        raise PluginError(f"figures could not be generated (exit {code}):\n{detail}")
    log.info("figures: done in %.1f s", time.perf_counter() - started)


def on_files(files, config):
    """Add every generated figure and its facts JSON under figures/ on the site."""
    for path in sorted(figures_dir().glob("l[0-9][0-9]_*")):
        if path.suffix in {".svg", ".json"}:
            files.append(File.generated(config, f"figures/{path.name}", abs_src_path=str(path)))
    return files
