"""Field checks for experiment configs: a bad value fails early with the field's name."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def _fail(obj: Any, field: str, why: str) -> None:
    value = getattr(obj, field)
    raise ValueError(f"{type(obj).__name__}.{field} {why}, got {value!r}")


def positive_ints(obj: Any, *fields: str) -> None:
    for field in fields:
        value = getattr(obj, field)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            _fail(obj, field, "must be a positive integer")


def positive_floats(obj: Any, *fields: str) -> None:
    for field in fields:
        value = getattr(obj, field)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            _fail(obj, field, "must be a finite number > 0")


def one_of(obj: Any, field: str, choices: Iterable[str]) -> None:
    choices = tuple(choices)
    if getattr(obj, field) not in choices:
        _fail(obj, field, f"must be one of {', '.join(map(repr, choices))}")


def non_empty(obj: Any, field: str) -> None:
    if len(getattr(obj, field)) == 0:
        _fail(obj, field, "must not be empty")
