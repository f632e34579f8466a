"""Compute, check, draw and save figures, with a cache keyed on everything a figure depends on.

For each figure three files are written into ``paths.figures_dir()``:

- ``NAME.svg``  the image, byte-identical across runs with identical inputs;
- ``NAME.json`` the facts contract (figure, source, seed, versions, data, facts, ...);
- ``NAME.key``  the cache key and the SHA-256 of the two files above. It is written last, so an
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

from lessons_code import plotting
from lessons_code.fingerprint import versions
from lessons_code.paths import PACKAGE_DIR
from lessons_code.registry import FigureSpec, Result
from lessons_code.seeding import configure_torch, seed_everything

#: Bump when the saved format changes, so old cache entries are not reused.
FORMAT_VERSION = 1
#: A compute function that runs past this multiple of its expected time fails the build.
BUDGET_FACTOR = 3.0
#: Significant digits kept for plotted series in the JSON: plenty for a plot, and stable text.
DATA_DIGITS = 7


class FigureError(RuntimeError):
    """A figure could not be produced; the message names lesson, figure, function and cause."""


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
    payload = {
        "format": FORMAT_VERSION,
        "figure": spec.name,
        "preset": preset,
        "seed": spec.seed,
        "config": config_dict(spec.config_for(preset)),
        "sources": dependency_sources(module.__name__),
        "versions": versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


# ------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class Entry:
    """The three files of one figure in an output directory."""

    directory: Path
    name: str

    @property
    def svg(self) -> Path:
        return self.directory / f"{self.name}.svg"

    @property
    def json(self) -> Path:
        return self.directory / f"{self.name}.json"

    @property
    def key(self) -> Path:
        return self.directory / f"{self.name}.key"

    def is_fresh(self, key: str) -> bool:
        """True only if the key matches and both files are exactly the ones the key file vouches for."""
        try:
            record = json.loads(self.key.read_text())
            return (
                record["key"] == key
                and record["svg_sha256"] == _sha256(self.svg)
                and record["json_sha256"] == _sha256(self.json)
            )
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def remove(self) -> None:
        for path in (self.key, self.svg, self.json):  # key first: nothing may vouch for a partial entry
            path.unlink(missing_ok=True)

    def write(self, key: str, svg: bytes, facts_json: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.svg, svg)
        _atomic_write(self.json, facts_json)
        record = {"key": key, "svg_sha256": _sha256_bytes(svg), "json_sha256": _sha256_bytes(facts_json)}
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
                raise ValueError(f"non-finite values where finite ones are expected: {', '.join(bad[:5])}")


def facts_document(module: ModuleType, spec: FigureSpec, preset: str, result: Result) -> dict[str, Any]:
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
        "alt": spec.alt,
        "width": width,
        "height": height,
        "facts": to_jsonable(result.facts),
        "data": to_jsonable(result.data),
    }


# ------------------------------------------------------------------------------ running


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (main thread on Unix; elsewhere the limit is checked afterwards)."""
    usable = hasattr(signal, "setitimer") and _is_main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):  # noqa: ARG001
        raise TimeoutError(f"ran past {seconds:.1f} s ({BUDGET_FACTOR:g} x its expected time)")

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


def produce(module: ModuleType, spec: FigureSpec, preset: str) -> tuple[bytes, bytes]:
    """Compute, check and draw one figure; return (svg, facts_json). Raises FigureError naming everything."""
    where = f"lesson {spec.lesson}, figure {spec.name}"
    stage, function = "compute", f"{module.__name__}:{spec.compute.__name__}"
    limit = BUDGET_FACTOR * spec.budget_s(preset)
    try:
        rng = seed_everything(spec.seed)
        started = time.perf_counter()
        with time_limit(limit):
            result = spec.compute(spec.config_for(preset), rng)
        elapsed = time.perf_counter() - started
        if elapsed > limit:
            raise TimeoutError(f"took {elapsed:.1f} s, past {limit:.1f} s ({BUDGET_FACTOR:g} x its expected time)")
        check_result(spec, result)
        stage, function = "plot", f"{module.__name__}:{spec.plot.__name__}"
        fig, axes = plotting.new_figure(spec.size, spec.panels)
        spec.plot(result, axes)
        svg = plotting.render_svg(fig)
        stage = "save"
        document = facts_document(module, spec, preset, result)
        facts_json = (json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()
    except Exception as exc:  # noqa: BLE001 - every failure is re-raised with its full location
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise FigureError(
            f"{where}: {stage} function {function} failed: {type(exc).__name__}: {exc} "
            f"(at {Path(frame.filename).name}:{frame.lineno})"
        ) from exc
    return svg, facts_json


def run_figures(
    figures: dict[str, tuple[ModuleType, FigureSpec]],
    out_dir: Path,
    preset: str = "publish",
    force: bool = False,
    log=print,
) -> list[Outcome]:
    """Bring every given figure up to date in `out_dir`. Failures are collected, never left half-written."""
    configure_torch()
    outcomes = []
    for name, (module, spec) in figures.items():
        entry = Entry(out_dir, name)
        started = time.perf_counter()
        key = cache_key(module, spec, preset)
        if not force and entry.is_fresh(key):
            outcomes.append(Outcome(name, "cached", time.perf_counter() - started))
            continue
        entry.remove()
        try:
            svg, facts_json = produce(module, spec, preset)
        except FigureError as exc:
            outcomes.append(Outcome(name, "failed", time.perf_counter() - started, str(exc)))
            log(f"FAILED {exc}", file=sys.stderr)
            continue
        entry.write(key, svg, facts_json)
        outcomes.append(Outcome(name, "computed", time.perf_counter() - started))
    return outcomes
