"""What a figure is, and where the figures are declared.

Every lesson module ``lessons_code/lNN_slug.py`` has a module-level ``FIGURES`` list of
:class:`FigureSpec`. Nothing here computes, plots or saves: ``runner.py`` does that.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from lessons_code.paths import PACKAGE_DIR

LESSON_MODULE = re.compile(r"^l(\d\d)_[a-z0-9_]+$")


@dataclass
class Result:
    """What a compute function returns: the plotted series and the named scalar facts.

    ``data`` holds arrays, lists and scalars (saved to the facts JSON as "the plotted series");
    ``facts`` holds the numbers that prose quotes, under the names the curriculum gives them.
    """

    data: dict[str, Any]
    facts: dict[str, float | int | str]


@dataclass(frozen=True)
class Claim:
    """A qualitative statement the page makes about a figure's published results, and its check."""

    says: str  # the statement, as the page makes it
    holds: Callable[[Mapping[str, Any]], bool]  # True when the facts support it


@dataclass(frozen=True)
class FigureSpec:
    """One figure: how to compute its data, how to draw it, and what it may cost."""

    name: str  # "l02_powers": file stem, and the name prose uses in fact()/figure()
    compute: Callable[[Any, np.random.Generator], Result]  # pure: (config, rng) -> Result
    plot: Callable[[Result, Any], None]  # draws on the Axes (or tuple of Axes) it is given
    config: Any  # frozen dataclass, publishing preset
    fast: Any  # same type, small enough for tests and quick previews
    expected_s: float  # publishing-preset run time on 2 cores; 3x this is a hard failure
    alt: str  # alt text: what the figure shows, for readers who cannot see it
    expected_fast_s: float = 2.0
    seed: int = 0
    panels: tuple[int, int] = (1, 1)  # rows, columns of axes handed to plot()
    size: tuple[float, float] = (6.4, 3.8)  # inches; 96 CSS px per inch on the page
    # data/fact keys allowed NaN/inf
    nonfinite_ok: frozenset[str] = field(default_factory=frozenset)
    # What the page says in words about the published results, each with a test on the facts. The words
    # of a sentence cannot change with the numbers, so if new results contradict one, the publishing
    # build stops and names the sentence instead of publishing a page that says the opposite of its figure.
    claims: tuple[Claim, ...] = ()

    @property
    def lesson(self) -> str:
        return self.name.split("_", 1)[0]

    def config_for(self, preset: str) -> Any:
        if preset == "publish":
            return self.config
        if preset == "fast":
            return self.fast
        raise ValueError(f"unknown preset {preset!r}; use 'publish' or 'fast'")

    def budget_s(self, preset: str) -> float:
        return self.expected_s if preset == "publish" else self.expected_fast_s


def lesson_module_names() -> list[str]:
    """``lessons_code.lNN_*`` module names, in lesson order."""
    names = [
        m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]) if LESSON_MODULE.match(m.name)
    ]
    return [f"lessons_code.{n}" for n in sorted(names)]


def load_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in lesson_module_names()]


def all_figures(
    modules: list[ModuleType] | None = None,
) -> dict[str, tuple[ModuleType, FigureSpec]]:
    """Every declared figure by name, with the module that declares it."""
    figures: dict[str, tuple[ModuleType, FigureSpec]] = {}
    for module in modules if modules is not None else load_modules():
        for spec in getattr(module, "FIGURES", []):
            if not spec.name.startswith(module.__name__.rsplit(".", 1)[1][:3] + "_"):
                raise ValueError(
                    f"{module.__name__}: figure {spec.name!r} must start with its lesson prefix"
                )
            if spec.name in figures:
                raise ValueError(f"figure {spec.name!r} is declared twice")
            figures[spec.name] = (module, spec)
    return figures
