"""How a page shows a fact: the one formatting rule shared by the site and the figure diff.

``hooks/macros.py`` renders ``{{ fact(...) }}`` with it when the site is built, and ``lessons_code/diff.py``
renders the same calls with two builds' facts to show which sentences a change moves. Standard library
only, so neither needs numpy or torch to import it.
"""

from __future__ import annotations

#: The format of ``{{ fact("figure", "name") }}`` when the page names none.
DEFAULT_FORMAT = ".3g"


def format_value(value: float | int | str, fmt: str = DEFAULT_FORMAT) -> str:
    """A fact as the page shows it: text as it is, a number through a format spec such as ".1f" or ".0%"."""
    return value if isinstance(value, str) else format(value, fmt)
