"""Exercises at the end of every lesson: the code of their solutions, and the answers the pages state.

One module per lesson, ``exNN_slug.py`` beside ``lNN_slug.py``. Each solution that has code is a section
between ``--8<--`` markers, embedded in the solution on the page. Like the lesson's own snippets, a section
uses only numpy, torch and the names that the page defines before it (the module imports those from the
lesson module, outside the markers), so a reader can paste the page top to bottom.

Every number a solution states is marked on the page as ``<span class="gtt-answer" data-answer="KEY">``. The
span holds either a figure fact, ``{{ fact("l03_derivatives", "sigmoid_prime_max") }}``, or a number worked
out by the solution. Each module's ``ANSWERS`` says how to compute every key with the solution's code, and
``tests/test_exercises.py`` checks that the pages state exactly those values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """A number stated in a solution, and how the solution's code computes it."""

    key: str  # the data-answer attribute of its span on the page
    compute: Callable[[], float]  # runs the solution code and returns the value
    fact: tuple[str, str] | None = None  # (figure, fact name) when the page quotes a figure fact
