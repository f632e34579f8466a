"""Benchmarks against the budgets in the issues. Reports; never fails a build.

    .venv/bin/python bench/bench.py [--tests] [--preset publish|fast]

1. a strict build of the whole site with every figure cold (fresh figure directory);
2. the same build with only lesson 2's figures cold, then a no-op rebuild (nothing changed): times, and
   how many figures the no-op rebuild recomputed;
3. bytes transferred per page with gzip, figures, styles, scripts and fonts included, measured in
   Chromium (Debian's, or $GTT_CHROMIUM) when it is installed, else estimated from the files;
4. with --tests, the wall time of the whole test suite (as CI runs it: browser tests included).

The cold build starts from an empty figure directory and an empty notebook cache, so it is what a fresh
clone's first `make site` costs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.gzip_server import serve  # noqa: E402
from bench.page_weight import full_page_weights  # noqa: E402
from lessons_code.chromium import chromium_executable  # noqa: E402


def timed(command: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - started, proc


def chromium_path() -> str | None:
    path = chromium_executable()
    return str(path) if path.exists() else None


def page_weights_from_files(site: Path, pages: list[str]) -> dict[str, int]:
    weights = {}
    for page_path in pages:
        html_file = site / page_path / "index.html"
        html = html_file.read_text(encoding="utf-8")
        total = len(gzip.compress(html.encode()))
        for ref in set(re.findall(r'(?:src|href)="([^"]+\.(?:css|js|svg))"', html)):
            target = (html_file.parent / ref.split("?")[0]).resolve()
            if target.is_file():
                total += len(gzip.compress(target.read_bytes()))
        weights[page_path] = total
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", action="store_true", help="also time the whole test suite")
    parser.add_argument("--preset", default="publish", choices=["publish", "fast"])
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GTT_FIGURES_DIR": str(Path(tmp) / "figures"),
            # Cold means cold: no executed notebook from an earlier build either.
            "GTT_NOTEBOOK_CACHE": str(Path(tmp) / "notebook-cache"),
            "GTT_PRESET": args.preset,
            "NO_MKDOCS_2_WARNING": "1",
        }
        site = Path(tmp) / "site"
        python = sys.executable
        figures_dir = Path(tmp) / "figures"
        build = [python, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
        t_all, _ = timed(build, env)
        timings = json.loads((figures_dir / "timings.json").read_text())["figures"]
        rows.append(
            ("strict build, every figure and notebook cold", f"{t_all:.1f} s", "<= 180 s (publish)")
        )
        for stale in figures_dir.glob("l02_*"):  # lesson 2 cold, everything else cached
            stale.unlink()
        t_l02, _ = timed(build, env)
        rows.append(("lesson 2 figures cold + strict build", f"{t_l02:.1f} s", "<= 30 s"))
        t_noop, proc = timed(build, env)
        skipped = "figures: all up to date" in proc.stdout + proc.stderr
        rows.append(("no-op rebuild", f"{t_noop:.1f} s", "<= 5 s"))
        rows.append(
            ("figures recomputed by no-op rebuild", "0" if skipped else "some (see log)", "0")
        )

        pages = sorted(str(p.parent.relative_to(site)) + "/" for p in site.rglob("index.html"))
        pages = [p if p != "./" else "" for p in pages]
        if chromium_path():
            with serve(site) as base:
                weights = full_page_weights(base, pages)
            how = "measured in Chromium, gzip, first visit, every figure scrolled into view"
        else:
            weights, how = (
                page_weights_from_files(site, pages),
                "estimated from files (no Chromium), gzip",
            )

    if args.tests:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q"], cwd=REPO, env={**os.environ, "CI": "true"}
        )
        rows.append(("whole test suite", f"{time.perf_counter() - started:.1f} s", "<= 180 s"))

    print(f"\n{'measure':<45} {'value':>16}  budget")
    for name, value, budget in rows:
        print(f"{name:<45} {value:>16}  {budget}")
    print(f"\nper-figure compute (from the cold build, {args.preset} preset):")
    for name, t in sorted(timings.items()):
        print(f"  {name:<28} {t['seconds']:>7.2f} s  {t['status']}")
    print(f"\npage weight ({how}):")
    for page, size in weights.items():
        print(f"  /{page:<40} {size / 1024:>7.1f} KB")


if __name__ == "__main__":
    main()
