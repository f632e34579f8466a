"""Every number in a figure's caption comes from the facts, as in the prose (issue 14): a caption is text,
maths and {{ fact() }} calls; a literal number outside maths is a number nobody recomputes."""

from __future__ import annotations

import re

import pytest

from conftest import REPO

PAGES = sorted((REPO / "docs").glob("*.md"))
FENCE = re.compile(r"^([ \t]*)(```|~~~).*?^\1\2", re.S | re.M)
CAPTION = re.compile(
    r'\{\{\s*figure\("(?P<name>[^"]+)",\s*"(?P<text>(?:[^"\\]|\\.)*)"\s*\)\s*\}\}'
    r'|\{%\s*call figure\("(?P<call_name>[^"]+)"\)\s*%\}(?P<body>.*?)\{%\s*endcall\s*%\}',
    re.S,
)
LITERAL_NUMBER = re.compile(r"(?<![\w])\d+(?:[.,]\d+)*")


def captions(page) -> list[tuple[str, str]]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))  # code blocks show examples, not figures
    return [
        (m["name"] or m["call_name"], m["text"] if m["text"] is not None else m["body"])
        for m in CAPTION.finditer(text)
    ]


def typed_numbers(caption: str) -> list[str]:
    bare = re.sub(r"\{\{.*?\}\}", "", caption, flags=re.S)  # fact() calls
    bare = re.sub(r"\$[^$]*\$", "", bare)  # maths: symbols and constants, not results
    return LITERAL_NUMBER.findall(bare)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_captions_quote_numbers_only_through_facts(page) -> None:
    for name, caption in captions(page):
        assert not typed_numbers(caption), (
            f"{page.name}: the caption of {name} types {typed_numbers(caption)}"
        )


def test_the_check_finds_figures_and_typed_numbers() -> None:
    found = {name for page in PAGES for name, _ in captions(page)}
    # both caption forms are read
    assert {
        "l02_powers",
        "l04_unstable_loss",
        "l07_adding_problem",
    } <= found
    assert typed_numbers(
        'Left: it falls to 0.3 by step 40, {{ fact("x", "y") }}, $\\rho = 1$.'
    ) == ["0.3", "40"]
