"""``python -m lessons_code``: the one entry point that seeds, computes, saves and reports figures.

    python -m lessons_code list
    python -m lessons_code figures [--only NAME ...] [--fast] [--force] [--out DIR] [--jobs N]
    python -m lessons_code diff BASE_DIR HEAD_DIR [--out REPORT.md] [--images DIR]   (see diff.py)
    python -m lessons_code notebooks [--check] [--execute]   (see notebooks.py)

Exit codes: 0 all figures up to date, 1 a figure failed (the message names lesson, figure,
function and cause), 2 bad usage (e.g. an unknown figure name; the valid names are listed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lessons_code import fingerprint, github, paths, registry


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lessons_code", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "list", help="list every registered figure with its module and expected time"
    )
    figures = commands.add_parser("figures", help="regenerate stale figures (all, or those named)")
    figures.add_argument("--only", nargs="+", metavar="NAME", help="only these figures")
    figures.add_argument(
        "--fast", action="store_true", help="use each figure's small 'fast' preset"
    )
    figures.add_argument(
        "--force", action="store_true", help="recompute even if the cache is fresh"
    )
    figures.add_argument(
        "--out", type=Path, help=f"output directory (default: {paths.figures_dir('PRESET')})"
    )
    figures.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes for stale figures (default: GTT_JOBS, else 2 on 2+ cores, "
        "or 1 when the stale figures are quick)",
    )
    from lessons_code import diff  # standard library only, like this module

    diff.add_arguments(
        commands.add_parser("diff", help="compare two figure builds: a Markdown report for review")
    )
    from lessons_code import notebooks  # no lesson module, numpy or torch at import

    notebooks.add_arguments(
        commands.add_parser(
            "notebooks",
            help="generate the notebooks from their templates "
            "(--check: only report stale ones; --execute: then run them, cached)",
        )
    )
    return parser


def _list(figures) -> int:
    print(f"{'figure':<28} {'source':<60} {'expected s':>10}")
    for name, (module, spec) in figures.items():
        print(
            f"{name:<28} {module.__name__ + ':' + spec.compute.__name__:<60} {spec.expected_s:>10.1f}"
        )
    return 0


def _figures(args, figures) -> int:
    from lessons_code import runner  # numpy, matplotlib, torch: only when something is computed

    preset = "fast" if args.fast else "publish"
    out_dir = (args.out or paths.figures_dir(preset)).resolve()
    if args.only:
        unknown = sorted(set(args.only) - set(figures))
        if unknown:
            print(f"unknown figure name(s): {', '.join(unknown)}", file=sys.stderr)
            print("valid names:\n  " + "\n  ".join(figures), file=sys.stderr)
            return 2
        figures = {name: figures[name] for name in args.only}
    out_dir.mkdir(parents=True, exist_ok=True)
    fingerprint.clear_stamp(out_dir)
    started = time.perf_counter()
    if args.jobs is not None and args.jobs < 1:
        print(f"--jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    outcomes = runner.run_figures(figures, out_dir, preset=preset, force=args.force, jobs=args.jobs)
    total = time.perf_counter() - started

    print(f"\n{'figure':<28} {'status':<9} {'seconds':>8} {'expected':>9}")
    for o in outcomes:
        print(
            f"{o.name:<28} {o.status:<9} {o.seconds:>8.2f} {o.expected:>9.1f}"
            + ("  slow" if o.slow else "")
        )
    computed = sum(o.status == "computed" for o in outcomes)
    print(
        f"{len(outcomes)} figures, {computed} computed, {total:.2f} s ({preset} preset) "
        f"-> {out_dir}"
    )
    # Run times vary from run to run, so they live here and not in the (deterministic) facts files.
    timings = {
        o.name: {
            "status": o.status,
            "seconds": round(o.seconds, 3),
            "expected": o.expected,
            "slow": o.slow,
        }
        for o in outcomes
    }
    (out_dir / "timings.json").write_text(
        json.dumps({"preset": preset, "total_s": round(total, 3), "figures": timings}, indent=1)
        + "\n"
    )

    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print(f"\n{len(failed)} figure(s) failed:", file=sys.stderr)
        for o in failed:
            print(f"  {o.error}", file=sys.stderr)
            # on the line that failed, in the pull request's files view
            if github.on_github_actions():
                print(github.error(o.error, o.file, o.line, f"figure {o.name} failed"), flush=True)
        return 1
    if not args.only:
        fingerprint.write_stamp(out_dir, preset)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "diff":  # reads two builds' files; imports no lesson module
        from lessons_code import diff

        return diff.run(args)
    # templates and lesson sections as text; execution runs in kernels
    if args.command == "notebooks":
        from lessons_code import notebooks

        return notebooks.run(args)
    try:
        figures = registry.all_figures()
    except Exception as exc:  # noqa: BLE001 - a lesson that fails to import must name itself
        print(f"could not load the lesson modules: {type(exc).__name__}: {exc}", file=sys.stderr)
        if github.on_github_actions():
            print(
                github.error(
                    f"could not load the lesson modules: {type(exc).__name__}: {exc}",
                    *github.where(exc),
                    "lesson modules failed to import",
                ),
                flush=True,
            )
        return 1
    if args.command == "list":
        return _list(figures)
    return _figures(args, figures)
