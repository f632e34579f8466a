"""The pages are ours: no sentence copied from the source write-ups, and pages mirror lesson modules."""

from __future__ import annotations

import re

import pytest

from conftest import REPO, SHARED

RUN = 8  # words in a row that may not match a source


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def runs(text: str) -> set[str]:
    w = words(text)
    return {" ".join(w[i : i + RUN]) for i in range(len(w) - RUN + 1)}


@pytest.mark.skipif(
    not (SHARED / "sources").is_dir(), reason="the source write-ups live in ../shared/sources"
)
def test_no_page_repeats_eight_words_of_a_source() -> None:
    source_runs: set[str] = set()
    for source in (SHARED / "sources").glob("*.txt"):
        source_runs |= runs(source.read_text(errors="ignore"))
    assert source_runs
    for page in sorted((REPO / "docs").rglob("*.md")) + sorted(
        (REPO / "lessons_code").rglob("*.py")
    ):
        copied = runs(page.read_text(encoding="utf-8")) & source_runs
        assert not copied, f"{page.relative_to(REPO)} repeats a source: {sorted(copied)[:3]}"


def test_every_lesson_page_has_its_module_and_every_module_its_page() -> None:
    pages = {p.stem.replace("-", "_"): p for p in (REPO / "docs").glob("[0-9][0-9]-*.md")}
    modules = {p.stem[1:]: p for p in (REPO / "lessons_code").glob("l[0-9][0-9]_*.py")}
    assert pages.keys() == modules.keys(), (sorted(pages), sorted(modules))


def test_every_lesson_page_is_in_the_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text().split("\nnav:")[1]
    for page in (REPO / "docs").glob("[0-9][0-9]-*.md"):
        assert page.name in nav, f"{page.name} is missing from nav"
