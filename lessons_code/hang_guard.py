"""How long a healthy computation may run before we call it hung.

An expected run time is information for people: the timing table, ``bench/``, and a warning line when
something takes more than SLOW_FACTOR times its estimate. It is never a reason to stop a build, because a
cold cache, an old laptop or a CI runner shared with other jobs can make healthy code several times
slower. The guard here only catches real hangs: it allows at least HANG_FACTOR times the estimate and at
least HANG_MIN_S seconds. The environment variable GTT_HANG_GUARD_S moves that floor (a number of
seconds) or turns the guard off ("off").

The same rule is used by the figures CLI (per figure), by hooks/figures.py (the CLI's subprocess, so
`mkdocs build` and `mkdocs serve`) and by the notebook executor (per notebook). Standard library only:
the MkDocs hooks import it without loading numpy or torch.
"""

from __future__ import annotations

import os

SLOW_FACTOR = (
    3.0  # beyond this multiple of its estimate a run is reported as slow (a warning, not an error)
)
HANG_FACTOR = 10.0  # the guard allows at least this multiple of the estimate ...
HANG_MIN_S = 120.0  # ... and at least this many seconds
ENV = "GTT_HANG_GUARD_S"
#: Extra time an outer guard (a parent process watching a child) allows beyond the inner one, so that
#: the inner guard, which can name the function that hung, always fires first.
OUTER_GRACE_S = 60.0


def floor_s() -> float | None:
    """The guard's floor in seconds, from GTT_HANG_GUARD_S (default HANG_MIN_S); None when it is off."""
    raw = os.environ.get(ENV, "").strip().lower()
    if not raw:
        return HANG_MIN_S
    if raw == "off":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{ENV} must be a number of seconds > 0 or 'off', got {raw!r}")
    return value


def hang_limit_s(expected_s: float) -> float | None:
    """Seconds after which a computation expected to take `expected_s` counts as hung (None: no limit)."""
    floor = floor_s()
    return None if floor is None else max(HANG_FACTOR * expected_s, floor)


def is_slow(elapsed_s: float, expected_s: float) -> bool:
    return elapsed_s > SLOW_FACTOR * expected_s


def slow_note(what: str, elapsed_s: float, expected_s: float) -> str:
    """The warning line for a run that took more than SLOW_FACTOR times its estimate."""
    return (
        f"slow: {what} took {elapsed_s:.1f} s, {elapsed_s / expected_s:.1f}x its expected {expected_s:g} s "
        "(a busy or slow machine? this is information, not an error)"
    )


def hang_message(limit_s: float, expected_s: float) -> str:
    return (
        f"hung: still running after {limit_s:.0f} s, more than {HANG_FACTOR:g}x its expected {expected_s:g} s "
        f"(the hang guard; set {ENV} to a larger number of seconds, or 'off', if this machine is that slow)"
    )
