"""Compute, check, draw and save figures, with a cache keyed on everything a figure depends on.

For each figure four files are written into ``paths.figures_dir()``:

- ``NAME.svg``  the image, byte-identical across runs with identical inputs;
- ``NAME.png``  the same image on a 1200x630 card, the page's link preview (og:image), byte-identical too;
- ``NAME.json`` the facts contract (figure, source, seed, versions, data, facts, ...);
- ``NAME.key``  the cache key and the SHA-256 of the three files above. It is written last, so an
  entry without a matching key file (a crash, a half-written file, a hand edit) is recomputed.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import math
import os
import signal
import string
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from lessons_code import hang_guard as hang_guard_module
from lessons_code import plotting
from lessons_code.facts import DEFAULT_FORMAT, format_value
from lessons_code.fingerprint import cpu_signature, versions
from lessons_code.paths import PACKAGE_DIR
from lessons_code.registry import FigureSpec, Result
from lessons_code.seeding import configure_torch, seed_everything, torch_threads

#: Bump when the saved format changes, so old cache entries are not reused.
FORMAT_VERSION = 1
#: Significant digits kept for plotted series in the JSON: plenty for a plot, and stable text.
DATA_DIGITS = 7
#: Modules whose code shapes every figure's result or file, whether or not a lesson imports them: the
#: runner (checks, JSON), seeding (random state, torch threads) and plotting (the SVG writer).
PIPELINE_MODULES = ("lessons_code.runner", "lessons_code.seeding", "lessons_code.plotting")


class FigureError(RuntimeError):
    """A figure could not be produced; the message names lesson, figure, function and cause.

    ``file`` and ``line`` locate the cause in this repository's code where possible (for annotations)."""

    def __init__(self, message: str, figure: str = "", file: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.figure, self.file, self.line = figure, file, line


# ------------------------------------------------------------------------------ dependencies


def _module_path(name: str) -> Path | None:
    """The file of a ``lessons_code`` module (or package ``__init__``), or None if it is not ours."""
    if name != "lessons_code" and not name.startswith("lessons_code."):
        return None
    rel = name.split(".")[1:]
    candidate = PACKAGE_DIR.joinpath(*rel)
    for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports_of(path: Path, module_name: str) -> set[str]:
    """Names of the ``lessons_code`` modules that a source file imports (absolute and relative)."""
    package = module_name if path.name == "__init__.py" else module_name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # "from pkg import module"
    return {name for name in found if _module_path(name) is not None}


def dependency_sources(module_name: str) -> dict[str, str]:
    """SHA-256 of the source of a module and of every ``lessons_code`` module it imports, transitively."""
    seen: dict[str, str] = {}
    todo = [module_name]
    while todo:
        name = todo.pop()
        path = _module_path(name)
        if name in seen or path is None:
            continue
        seen[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        todo.extend(_imports_of(path, name))
    return dict(sorted(seen.items()))


def config_dict(config: Any) -> dict[str, Any]:
    return {"type": type(config).__name__, **dataclasses.asdict(config)}


def cache_key(module: ModuleType, spec: FigureSpec, preset: str) -> str:
    """Everything that can change a figure's files. Float results depend on more than the code and the
    versions: on the number of threads a reduction is split over, and on which vector instructions numpy,
    BLAS and torch's kernels pick for this CPU (a119336 saw float32 facts move in the second digit). Figures
    always compute with the same fixed thread count (seeding.torch_threads), and the thread count and the CPU
    signature are part of the key, so a cached figure is only reused where it would come out the same."""
    sources = dependency_sources(module.__name__)
    # their own source only: e.g. the hang guard's wording changes no figure
    for name in PIPELINE_MODULES:
        sources[name] = hashlib.sha256(_module_path(name).read_bytes()).hexdigest()
    payload = {
        "format": FORMAT_VERSION,
        "figure": spec.name,
        "preset": preset,
        "seed": spec.seed,
        "config": config_dict(spec.config_for(preset)),
        "sources": dict(sorted(sources.items())),
        "versions": versions(),
        "threads": torch_threads(),
        "cpu": cpu_signature(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


# ------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class Entry:
    """The four files of one figure in an output directory."""

    directory: Path
    name: str

    @property
    def svg(self) -> Path:
        return self.directory / f"{self.name}.svg"

    @property
    def png(self) -> Path:
        return self.directory / f"{self.name}.png"

    @property
    def json(self) -> Path:
        return self.directory / f"{self.name}.json"

    @property
    def key(self) -> Path:
        return self.directory / f"{self.name}.key"

    def is_fresh(self, key: str) -> bool:
        """True only if the key matches and the files are exactly the ones the key file vouches for."""
        try:
            record = json.loads(self.key.read_text())
            return (
                record["key"] == key
                and record["svg_sha256"] == _sha256(self.svg)
                and record["png_sha256"] == _sha256(self.png)
                and record["json_sha256"] == _sha256(self.json)
            )
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def remove(self) -> None:
        # key first: nothing may vouch for a partial entry
        for path in (
            self.key,
            self.svg,
            self.png,
            self.json,
        ):
            path.unlink(missing_ok=True)

    def write(self, key: str, images: tuple[bytes, bytes], facts_json: bytes) -> None:
        svg, png = images
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.svg, svg)
        _atomic_write(self.png, png)
        _atomic_write(self.json, facts_json)
        record = {
            "key": key,
            "svg_sha256": _sha256_bytes(svg),
            "png_sha256": _sha256_bytes(png),
            "json_sha256": _sha256_bytes(facts_json),
        }
        _atomic_write(self.key, json.dumps(record, indent=1).encode())


def _sha256(path: Path) -> str:
    return _sha256_bytes(path.read_bytes())


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------ checks and JSON


def to_jsonable(value: Any) -> Any:
    """Arrays and numpy scalars to plain lists and numbers, floats rounded to DATA_DIGITS digits."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return str(value)  # "nan", "inf", "-inf": JSON has no literal for them
        return float(f"{value:.{DATA_DIGITS}g}")
    if isinstance(value, str) or value is None:
        return value
    raise TypeError(f"cannot store {type(value).__name__} in the facts JSON")


def _nonfinite_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nonfinite_paths(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _nonfinite_paths(v, f"{path}[{i}]")
    elif isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        if not np.all(np.isfinite(value)):
            yield f"{path} ({int(np.sum(~np.isfinite(value)))} of {value.size} values)"
    elif isinstance(value, (float, np.floating)) and not math.isfinite(value):
        yield path


def check_result(spec: FigureSpec, result: Any) -> None:
    """Raise if the result is malformed or holds NaN/inf outside the keys declared to allow it."""
    if not isinstance(result, Result):
        raise TypeError(f"returned {type(result).__name__}, expected lessons_code.registry.Result")
    for section in ("data", "facts"):
        for key, value in getattr(result, section).items():
            if key in spec.nonfinite_ok:
                continue
            bad = list(_nonfinite_paths(value, f"{section}.{key}"))
            if bad:
                raise ValueError(
                    f"non-finite values where finite ones are expected: {', '.join(bad[:5])}"
                )


class _FactFiller(string.Formatter):
    """Fills ``{name}`` / ``{name:fmt}`` from a figure's facts, and ``{config.field}`` from its settings,
    formatted exactly as pages show a fact; a list reads as "0.5, 0.9 and 3"."""

    def __init__(self, facts: dict[str, Any], config: dict[str, Any]) -> None:
        self.facts, self.config = facts, config

    # the whole name is the key: "power_0.9_10" has dots
    def get_field(self, field_name, args, kwargs):
        source, key = (
            (self.config, field_name[len("config.") :])
            if field_name.startswith("config.")
            else (self.facts, field_name)
        )
        if key not in source:
            kind = "setting" if source is self.config else "fact"
            raise KeyError(
                f"alt text names the {kind} {key!r}, which this figure does not have; "
                f"its {kind}s: {', '.join(sorted(source))}"
            )
        return source[key], field_name

    def format_field(self, value, format_spec):
        if isinstance(value, (list, tuple)):
            items = [format_value(v, format_spec or "g") for v in value]
            return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
        return format_value(value, format_spec or DEFAULT_FORMAT)


def render_alt(template: str, facts: dict[str, Any], config: dict[str, Any]) -> str:
    """A figure's alt text with every number filled in from its facts and settings, so the words a screen
    reader speaks change when the results do (the template itself holds no literal number: tests check it)."""
    return _FactFiller(facts, config).format(template)


def check_claims(spec: FigureSpec, result: Result) -> None:
    """Raise if the published results contradict something the page says about them in words. Only the
    publishing preset is held to them: the small fast preset is not the run the page describes."""
    broken = [claim.says for claim in spec.claims if not claim.holds(result.facts)]
    if broken:
        raise ValueError(
            "the page says "
            + "; and ".join(repr(b) for b in broken)
            + ", which these results no longer support: rewrite the sentence or find out what changed"
        )


def facts_document(
    module: ModuleType, spec: FigureSpec, preset: str, result: Result
) -> dict[str, Any]:
    width, height = (round(v * 96) for v in spec.size)  # CSS pixels at 96 px per inch
    return {
        "figure": spec.name,
        "source": f"{module.__name__}:{spec.compute.__name__}",
        "plot": f"{module.__name__}:{spec.plot.__name__}",
        "seed": spec.seed,
        "preset": preset,
        "config": config_dict(spec.config_for(preset)),
        "versions": versions(),
        "runtime_budget_s": spec.budget_s(preset),
        "alt": render_alt(
            spec.alt, to_jsonable(result.facts), config_dict(spec.config_for(preset))
        ),
        "width": width,
        "height": height,
        "facts": to_jsonable(result.facts),
        "data": to_jsonable(result.data),
    }


# ------------------------------------------------------------------------------ running


@contextmanager
def hang_guard(seconds: float | None, message: str) -> Iterator[None]:
    """Raise TimeoutError(message) in the block once `seconds` have passed (None: no limit).

    SIGALRM interrupts Python code where it stands, so the traceback shows where it hung. It needs the
    main thread on Unix; elsewhere the block runs unguarded and the parent's outer guard still applies.
    """
    if seconds is None or not (hasattr(signal, "setitimer") and _is_main_thread()):
        yield
        return

    def on_alarm(signum, frame):  # noqa: ARG001
        raise TimeoutError(message)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@dataclass
class Outcome:
    name: str
    status: str  # "computed", "cached" or "failed"
    seconds: float
    error: str = ""
    expected: float = 0.0  # the figure's expected run time in this preset
    file: str = ""  # where a failure happened (FigureError.file/.line), for annotations on the line
    line: int = 0

    @property
    def slow(self) -> bool:
        return self.status == "computed" and hang_guard_module.is_slow(self.seconds, self.expected)


def _where_it_happened(exc: BaseException) -> tuple[str, int]:
    """(file, line) of the innermost frame in this repository's code, else the innermost frame at all.

    An error raised inside torch or numpy is reported at the lesson line that called them, which is the
    line a contributor can change; the hang guard's own handler is never the place.
    """
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.name != "on_alarm"]
    if not frames:
        return "?", 0
    ours = [
        f
        for f in frames
        if Path(f.filename).resolve().is_relative_to(PACKAGE_DIR.parent)
        and Path(f.filename).name != "runner.py"
    ]
    frame = (ours or frames)[-1]
    return frame.filename, frame.lineno or 0


def produce(module: ModuleType, spec: FigureSpec, preset: str) -> tuple[tuple[bytes, bytes], bytes]:
    """Compute, check and draw one figure; return ((svg, png), facts_json). Raises FigureError naming everything."""
    where = f"lesson {spec.lesson}, figure {spec.name}"
    stage, function = "compute", f"{module.__name__}:{spec.compute.__name__}"
    expected = spec.budget_s(preset)
    limit = hang_guard_module.hang_limit_s(expected)
    try:
        with hang_guard(limit, hang_guard_module.hang_message(limit or 0.0, expected)):
            rng = seed_everything(spec.seed)
            result = spec.compute(spec.config_for(preset), rng)
            check_result(spec, result)
            if preset == "publish":
                check_claims(spec, result)
            stage, function = "plot", f"{module.__name__}:{spec.plot.__name__}"
            fig, axes = plotting.new_figure(spec.size, spec.panels)
            spec.plot(result, axes)
            svg = plotting.render_svg(fig)
            png = plotting.render_card_png(fig)  # after the SVG, which it leaves as it was
            stage = "save"
            document = facts_document(module, spec, preset, result)
            facts_json = (
                json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
            ).encode()
    except Exception as exc:  # noqa: BLE001 - every failure is re-raised with its full location
        filename, line = _where_it_happened(exc)
        # found by the runner's checks (NaN, a malformed result): the
        if Path(filename).name == "runner.py":
            # function that produced it is the place
            code = (spec.plot if stage == "plot" else spec.compute).__code__
            filename, line = code.co_filename, code.co_firstlineno
        raise FigureError(
            f"{where}: {stage} function {function} failed: {type(exc).__name__}: {exc} "
            f"(at {Path(filename).name}:{line})",
            figure=spec.name,
            file=filename,
            line=line,
        ) from exc
    return (svg, png), facts_json


def _produce_in_worker(name: str, preset: str) -> tuple[str, bytes | str, bytes, float]:
    """Run in a worker process: ("ok", (svg, png), json, seconds) or ("failed", FigureError, b"", seconds).

    The worker imports the lessons itself (spawned, not forked: a forked copy of a process that has
    started torch's thread pools can deadlock).
    """
    from lessons_code import registry

    module, spec = registry.all_figures()[name]
    started = time.perf_counter()
    try:
        svg, facts_json = produce(module, spec, preset)
    except FigureError as exc:  # pickled with its file and line (BaseException keeps __dict__)
        return "failed", exc, b"", time.perf_counter() - started
    return "ok", svg, facts_json, time.perf_counter() - started


def _init_worker() -> None:
    """Pin a fresh worker to the figures' thread count before torch is imported: torch sizes its OpenMP
    pool from these variables at import, and two workers with a thread per core each would oversubscribe
    the cores (measured: several times slower, with threads spinning on each other)."""
    threads = str(torch_threads())
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = threads
    import torch  # noqa: F401 - loaded now so that configure_torch() below can pin it

    configure_torch()


#: Below this much expected work a single process is faster: each worker starts by importing torch and
#: every lesson (about 3 s on our machines), which the fast preset's whole run barely exceeds.
WORTH_A_WORKER_S = 30.0


def default_jobs() -> int:
    """Worker processes for a figures run: GTT_JOBS, else one per core, at most 2 (our machines have 2)."""
    raw = os.environ.get("GTT_JOBS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"GTT_JOBS must be a whole number >= 1, got {raw!r}")
        return int(raw)
    return max(1, min(2, os.cpu_count() or 1))


def run_figures(
    figures: dict[str, tuple[ModuleType, FigureSpec]],
    out_dir: Path,
    preset: str = "publish",
    force: bool = False,
    jobs: int | None = 1,
    log=print,
) -> list[Outcome]:
    """Bring every given figure up to date in `out_dir`. Failures are collected, never left half-written.

    Stale figures are independent of each other, so with jobs > 1 they run in that many worker processes,
    longest first. Each computes exactly as it would alone (same seed, same thread count), so the files are
    byte-identical to a serial run; tests/test_pipeline.py checks that. jobs=None picks default_jobs(),
    or one process when the stale work is too small to pay for starting workers.
    """
    configure_torch()
    outcomes: dict[str, Outcome] = {}
    stale = []
    for name, (module, spec) in figures.items():
        entry = Entry(out_dir, name)
        started = time.perf_counter()
        key = cache_key(module, spec, preset)
        if not force and entry.is_fresh(key):
            outcomes[name] = Outcome(
                name, "cached", time.perf_counter() - started, expected=spec.budget_s(preset)
            )
            continue
        entry.remove()
        stale.append((name, key, spec.budget_s(preset)))

    def finish(
        name: str,
        key: str,
        expected: float,
        status: str,
        payload,
        facts_json: bytes,
        seconds: float,
    ):
        if status == "ok":
            Entry(out_dir, name).write(key, payload, facts_json)
            outcome = Outcome(name, "computed", seconds, expected=expected)
            log(f"computed {name} in {seconds:.1f} s (expected {expected:g} s)", flush=True)
            if outcome.slow:
                log(
                    hang_guard_module.slow_note(name, seconds, expected),
                    file=sys.stderr,
                    flush=True,
                )
        else:
            outcome = Outcome(
                name,
                "failed",
                seconds,
                str(payload),
                expected=expected,
                file=getattr(payload, "file", ""),
                line=getattr(payload, "line", 0),
            )
            log(f"FAILED {payload}", file=sys.stderr, flush=True)
        outcomes[name] = outcome

    if jobs is None:
        # A spawned worker first spends seconds importing torch and the lessons: not worth it for little work.
        jobs = (
            default_jobs() if sum(expected for _, _, expected in stale) >= WORTH_A_WORKER_S else 1
        )
    if stale:
        limits = [hang_guard_module.hang_limit_s(expected) for _, _, expected in stale]
        longest = None if None in limits else max(limits)
        log(
            f"computing {len(stale)} figure(s) in {min(jobs, len(stale))} process(es); hang guard per figure "
            + ("off" if longest is None else f"up to {longest:.0f} s"),
            flush=True,
        )
    if jobs <= 1 or len(stale) <= 1:
        for name, key, expected in stale:
            module, spec = figures[name]
            started = time.perf_counter()
            try:
                svg, facts_json = produce(module, spec, preset)
            except FigureError as exc:
                finish(name, key, expected, "failed", exc, b"", time.perf_counter() - started)
                continue
            finish(name, key, expected, "ok", svg, facts_json, time.perf_counter() - started)
    else:
        _run_in_workers(stale, preset, jobs, finish)
    return [outcomes[name] for name in figures]


def _run_in_workers(stale, preset: str, jobs: int, finish) -> None:
    """Longest expected first over `jobs` spawned processes, one figure per free process at a time.

    Each worker's own hang guard names the function that hung. This outer guard (the same limit plus
    OUTER_GRACE_S, counted from when the figure was handed to a free worker) catches a hang the inner one
    cannot interrupt, inside C code: it stops the pool and reports every figure still in flight.
    """
    import multiprocessing

    queue = sorted(stale, key=lambda item: -item[2])
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=min(jobs, len(queue)), initializer=_init_worker) as pool:
        in_flight: dict[str, tuple] = {}
        while queue or in_flight:
            while queue and len(in_flight) < jobs:
                name, key, expected = queue.pop(0)
                in_flight[name] = (
                    key,
                    expected,
                    time.monotonic(),
                    pool.apply_async(_produce_in_worker, (name, preset)),
                )
            time.sleep(0.05)
            for name, (key, expected, _, result) in list(in_flight.items()):
                if result.ready():
                    del in_flight[name]
                    finish(name, key, expected, *result.get())
            hung = [
                name
                for name, (_, expected, handed_over, _) in in_flight.items()
                if _outer_limit(expected) is not None
                and time.monotonic() - handed_over > _outer_limit(expected)
            ]
            if hung:
                pool.terminate()
                for name, (key, expected, _, _) in in_flight.items():
                    reason = (
                        hang_guard_module.hang_message(
                            hang_guard_module.hang_limit_s(expected), expected
                        )
                        if name in hung
                        else "stopped unfinished because another figure hung"
                    )
                    finish(
                        name,
                        key,
                        expected,
                        "failed",
                        f"lesson {name.split('_', 1)[0]}, figure {name}: {reason} "
                        "(its worker process was stopped)",
                        b"",
                        0.0,
                    )
                for name, key, expected in queue:
                    finish(
                        name,
                        key,
                        expected,
                        "failed",
                        f"lesson {name.split('_', 1)[0]}, figure {name}: not run, "
                        "because another figure hung",
                        b"",
                        0.0,
                    )
                return


def _outer_limit(expected: float) -> float | None:
    inner = hang_guard_module.hang_limit_s(expected)
    return None if inner is None else inner + hang_guard_module.OUTER_GRACE_S
