"""Lighthouse on every page of the site, mobile preset, served with gzip as GitHub Pages serves it.

    .venv/bin/python bench/lighthouse.py [--preset publish|fast] [--reports DIR]
    .venv/bin/python bench/lighthouse.py --site DIR --port PORT   # a site built with SITE_URL=http://127.0.0.1:PORT/

1. a strict build (unless --site names a built site), timed, for the address it is then served from:
   SITE_URL is that address, as in the Pages workflow, so canonical links and Material's sitemap-driven
   instant navigation match the server;
2. Lighthouse 12 (npm, pinned in package.json; Lighthouse 13 needs Node 22) with CHROME_PATH set to
   Debian's Chromium (or $GTT_CHROMIUM), mobile preset with simulated throttling, the four categories,
   one page after the other in one Chrome (two cores: parallel runs would distort the performance scores);
3. bytes transferred per page: what Lighthouse's first view loaded, and in Chromium with every lazy
   figure scrolled into view (the whole page as a reader who scrolls to the end gets it);
4. one table, then each audit that kept a page below 100 with what it found. Reports, never fails.

Performance scores swing with the host's load (total blocking time is measured CPU time, then scaled):
on a busy machine use --runs 3 or 5; the median run is reported and the spread printed.

The JSON reports go to bench/reports/lighthouse/ (ignored by git). Target: 100 in all four categories;
lesson pages <= 300 KB, notebook pages <= 400 KB transferred.
"""

from __future__ import annotations

import argparse
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
from lessons_code.chromium import CHROMIUM_ARGS, chromium_executable  # noqa: E402

LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
BUDGET_KB = {"lesson": 300, "notebook": 400}


def chromium() -> str:
    path = chromium_executable()
    if not path.exists():
        sys.exit(f"no Chromium at {path}: `apt-get install chromium`, or set GTT_CHROMIUM")
    return str(path)


def site_pages(site: Path) -> list[str]:
    pages = sorted(p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html"))
    return ["" if p == "./" else p for p in pages if not p.startswith(("assets/", "search/"))]


def page_kind(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    # stock mkdocs-jupyter, or hooks/notebooks.py
    if "jp-Notebook" in html or 'class="gtt-nb-' in html:
        return "notebook"
    return "lesson" if re.match(r"\d\d-", page) else "page"


def build(site: Path, url: str, preset: str) -> tuple[float, str]:
    env = {**os.environ, "GTT_PRESET": preset, "SITE_URL": url, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    seconds = time.perf_counter() - started
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"the strict build failed:\n{log}")
    summary = re.search(r"figures: (\d+ figures, \d+ computed[^\n]*)", log) or re.search(
        r"figures: (all up to date[^\n]*)", log
    )
    return seconds, summary.group(1).strip() if summary else "figures: see build log"


# Lighthouse's Node API with one Chrome for every page: the CLI starts Chrome and loads its config for
# each page (about 20 s a page here), this about 8 s. Lighthouse still opens a fresh tab per run and clears
# the origin's cache and storage first, so each page is a first visit.
RUNNER_JS = """
import fs from "node:fs";
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";
const job = JSON.parse(process.env.GTT_LIGHTHOUSE_JOB);
const chrome = await chromeLauncher.launch({chromePath: process.env.CHROME_PATH, chromeFlags: job.chromeFlags});
try {
  for (const {url, out} of job.runs) {
    const started = Date.now();
    const result = await lighthouse(url, {port: chrome.port, output: "json", logLevel: "error",
      onlyCategories: job.categories, disableFullPageScreenshot: true});
    fs.writeFileSync(out, result.report);
    console.error(`  ${url}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  await chrome.kill();
}
"""


def lighthouse_all(runs: list[tuple[str, Path]]) -> list[dict]:
    """Lighthouse reports for (url, output file) pairs, in order, mobile preset (Lighthouse's default)."""
    job = {
        "runs": [{"url": url, "out": str(out)} for url, out in runs],
        "categories": CATEGORIES,
        "chromeFlags": CHROMIUM_ARGS,
    }
    env = {**os.environ, "CHROME_PATH": chromium(), "GTT_LIGHTHOUSE_JOB": json.dumps(job)}
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", RUNNER_JS],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        timeout=120 * len(runs),
    )
    if proc.returncode != 0:
        sys.exit(f"lighthouse failed (exit {proc.returncode}); see the messages above")
    return [json.loads(out.read_text(encoding="utf-8")) for _, out in runs]


def shortfalls(report: dict) -> list[str]:
    """One line per category below 100: each scored audit below 1, its value and score (with examples
    of the failing elements outside performance, whose metrics speak for themselves)."""
    lines = []
    for category in report["categories"].values():
        if category["score"] == 1:
            continue
        parts = []
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                value = audit.get("displayValue", "").replace("\xa0", " ")
                part = f"{ref['id']} {value} ({audit['score']:.2f})".replace("  ", " ")
                if category["id"] != "performance":
                    items = audit.get("details", {}).get("items", [])[:2]
                    part += " e.g. " + "; ".join(
                        str(i.get("node", {}).get("snippet") or i.get("url") or i)[:120]
                        for i in items
                    )
                parts.append(part)
        lines.append(
            f"{category['id']} {round(100 * (category['score'] or 0))}: " + ", ".join(parts)
        )
    return lines


def median_run(runs: list[dict]) -> dict:
    """The run with the median performance score (Lighthouse's advice for noisy performance numbers)."""
    ranked = sorted(runs, key=lambda r: r["categories"]["performance"]["score"] or 0)
    return ranked[len(ranked) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--preset",
        default="publish",
        choices=["publish", "fast"],
        help="figure preset of the build",
    )
    parser.add_argument("--site", type=Path, help="a built site to serve instead of building one")
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="serve on this port (with --site: the port of the SITE_URL it was built for)",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="Lighthouse runs per page; the median run is reported"
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="PATH",
        help="only these pages, as paths below the site root ('' or / for the home page)",
    )
    parser.add_argument("--reports", type=Path, default=REPO / "bench" / "reports" / "lighthouse")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run `npm ci` (lighthouse is a devDependency)")
    args.reports.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        site = args.site.resolve() if args.site else Path(tmp) / "site"
        site.mkdir(exist_ok=True)
        # the server first, so the build knows the address it is deployed to
        with serve(site, port=args.port) as base:
            if args.site:
                build_row = f"build: none (serving {site})"
            else:
                seconds, figures = build(site, base, args.preset)
                build_row = f"strict build, {args.preset} preset: {seconds:.1f} s ({figures})"
            print(build_row, file=sys.stderr)
            pages = site_pages(site)
            if args.pages:
                wanted = {p.strip("/") + "/" if p.strip("/") else "" for p in args.pages}
                pages = [p for p in pages if p in wanted] or sys.exit(
                    f"no such pages: {args.pages}"
                )
            names = {page: page.strip("/").replace("/", "_") or "home" for page in pages}
            # Run i of every page before run i + 1 of any, so a burst of load on the host spreads over pages.
            jobs = [
                (page, base + page, args.reports / f"{names[page]}.{i}.json")
                for i in range(args.runs)
                for page in pages
            ]
            reports = lighthouse_all([(url, out) for _, url, out in jobs])
            rows = []
            for page in pages:
                runs = [report for (p, _, _), report in zip(jobs, reports) if p == page]
                report = median_run(runs)
                (args.reports / f"{names[page]}.json").write_text(
                    json.dumps(report), encoding="utf-8"
                )
                scores = {
                    c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES
                }
                rows.append(
                    {
                        "page": page,
                        "scores": scores,
                        "report": report,
                        "kind": page_kind(site, page),
                        "spread": sorted(
                            round(100 * r["categories"]["performance"]["score"]) for r in runs
                        ),
                    }
                )
            weights = full_page_weights(base, [row["page"] for row in rows])

    version = rows[0]["report"]["lighthouseVersion"] if rows else "?"
    benchmark = sorted(round(row["report"]["environment"]["benchmarkIndex"]) for row in rows)
    print(f"\n{build_row}")
    print(
        f"Lighthouse {version}, mobile preset (simulated slow 4G, 4x CPU slowdown), {chromium()}, "
        f"{args.runs} run(s) per page (median shown); host benchmarkIndex {benchmark[0]}-{benchmark[-1]}; "
        f"{time.perf_counter() - started:.0f} s in all\n"
    )
    header = (
        f"{'page':<44} {'perf':>4} {'a11y':>4} {'best':>4} {'seo':>4} {'FCP s':>6} {'TBT ms':>6} "
        f"{'first view KB':>13} {'all figures KB':>14}  budget"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        page, scores, audits = row["page"], row["scores"], row["report"]["audits"]
        budget = BUDGET_KB.get(row["kind"])
        verdict = (
            ""
            if budget is None
            else f"<= {budget} KB {'ok' if weights[page] <= budget * 1024 else 'OVER'}"
        )
        print(
            f"/{page:<43} {scores['performance']:>4} {scores['accessibility']:>4} {scores['best-practices']:>4} {scores['seo']:>4} "
            f"{audits['first-contentful-paint']['numericValue'] / 1000:>6.1f} {audits['total-blocking-time']['numericValue']:>6.0f} "
            f"{audits['total-byte-weight']['numericValue'] / 1024:>13.1f} {weights[page] / 1024:>14.1f}  {verdict}"
        )
    if args.runs > 1:
        print(
            "\nperformance over the runs: "
            + "; ".join(f"/{row['page']} {row['spread']}" for row in rows)
        )
    below = [(row["page"], shortfalls(row["report"])) for row in rows]
    if any(lines for _, lines in below):
        print("\nwhat kept pages below 100 (median run):")
        for page, lines in below:
            for line in lines:
                print(f"  /{page}: {line}")
    else:
        print("\nevery page scores 100 in all four categories")


if __name__ == "__main__":
    main()
