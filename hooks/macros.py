"""Macros for mkdocs-macros: prose quotes numbers from the figures' facts, never by hand.

    {{ fact("l02_powers", "power_0.9_10") }}          -> 0.349   (format ".3g" by default)
    {{ fact("l02_powers", "power_1.1_50", ".1f") }}   -> 117.4
    {{ figure("l02_powers", "What to look at.") }}    -> the image with alt text, size, caption, data link
    {{ run_it_yourself() }}                            -> a lesson's "Run it yourself" section (its notebook)
    {{ notebook_table() }}                             -> every notebook: lesson, page, Colab, what it needs

An unknown figure or fact name stops the build and lists the names that exist.
"""

from __future__ import annotations

import json
import posixpath
from functools import cache
from pathlib import Path

from lessons_code import notebooks, paths
from lessons_code.facts import DEFAULT_FORMAT, format_value


class FactError(LookupError):
    pass


def figures_dir() -> Path:
    return paths.figures_dir(paths.build_preset())


@cache
def _load(path: Path, mtime_ns: int) -> dict:  # mtime in the key: serve rebuilds see fresh facts
    return json.loads(path.read_text(encoding="utf-8"))


def facts_document(figure: str) -> dict:
    path = figures_dir() / f"{figure}.json"
    if not path.is_file():
        known = sorted(p.stem for p in figures_dir().glob("l[0-9][0-9]_*.json"))
        raise FactError(f"no figure named {figure!r}; known figures: {', '.join(known) or 'none'}")
    return _load(path, path.stat().st_mtime_ns)


def format_fact(figure: str, name: str, fmt: str = DEFAULT_FORMAT) -> str:
    facts = facts_document(figure)["facts"]
    if name not in facts:
        raise FactError(
            f"figure {figure!r} has no fact {name!r}; its facts: {', '.join(sorted(facts))}"
        )
    return format_value(facts[name], fmt)


# Jinja decodes backslash escapes in string literals, so "$\rho$" arrives as CR + "ho" and "\frac"
# as form feed + "rac". No caption legitimately contains these control characters, so they are turned
# back into the TeX the author typed. (A {% call figure(...) %} block avoids the issue altogether.)
_JINJA_ESCAPES = str.maketrans(
    {"\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\a": "\\a"}
)


def caption_text(caption: str) -> str:
    return caption.translate(_JINJA_ESCAPES)


def define_env(env) -> None:
    def site_relative(target: str) -> str:
        # MkDocs' page has .file.src_uri; Zensical's macros extension gives the same docs-relative path as .path
        # (bench/zensical_check.py builds the site with Zensical too).
        page = env.page
        page_dir = posixpath.dirname(page.file.src_uri if hasattr(page, "file") else page.path)
        return posixpath.relpath(target, page_dir or ".")

    @env.macro
    def fact(figure: str, name: str, fmt: str = DEFAULT_FORMAT) -> str:
        return format_fact(figure, name, fmt)

    @env.macro
    def figure(name: str, caption: str = "", caller=None) -> str:
        """The figure; the caption is the string argument or the body of a {% call figure(name) %} block."""
        caption = caller() if caller is not None else caption_text(caption)
        if not caption.strip():
            raise FactError(f"figure {name!r} needs a caption that says what to look at")
        doc = facts_document(name)
        image = site_relative(f"figures/{name}.svg")
        data = site_relative(f"figures/{name}.json")
        alt = doc["alt"].replace("]", "\\]")
        return (
            f'<figure class="gtt-figure" id="fig-{name}" markdown="1">\n\n'
            f'![{alt}]({image}){{ width="{doc["width"]}" height="{doc["height"]}" loading="lazy" }}\n\n'
            f'<figcaption markdown="1">\n\n{caption} <span class="gtt-data">[Data and facts (JSON)]({data})</span>\n\n'
            "</figcaption>\n</figure>\n"
        )

    def colab(nb: notebooks.Notebook) -> str:
        return notebooks.colab_url(nb, *notebooks.github_repo(env.conf.repo_url, env.conf.edit_uri))

    @env.macro
    def run_it_yourself() -> str:
        """The lesson's notebook: a link to its page and to Colab, and what it needs (end of each lesson)."""
        root = Path(env.conf.config_file_path).resolve().parent
        nb = notebooks.for_lesson_page(env.page.file.src_uri, root)
        return notebooks.run_it_yourself_section(nb, site_relative(nb.page), colab(nb))

    @env.macro
    def notebook_table() -> str:
        """Every notebook with its lesson (title from the page's heading), its page, Colab and needs."""
        rows = []
        for nb in notebooks.discover(Path(env.conf.config_file_path).resolve().parent):
            lesson = Path(env.conf.docs_dir) / nb.lesson_page
            title = next(
                (
                    line[2:].strip()
                    for line in lesson.read_text(encoding="utf-8").splitlines()
                    if line.startswith("# ")
                ),
                f"Lesson {nb.lesson_number}",
            )
            rows.append(
                (
                    f"[{title}]({site_relative(nb.lesson_page)})",
                    site_relative(nb.page),
                    colab(nb),
                    nb,
                )
            )
        return notebooks.table(rows)
