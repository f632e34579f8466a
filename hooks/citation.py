"""The home page's "Cite this chapter" box: BibTeX and APA made at build time from CITATION.cff.

``{{ cite_this_chapter() }}`` (a mkdocs-macros macro registered here) puts the box where the page asks for
it. Nothing is copied by hand: title, authors, version, date and address all come from CITATION.cff,
which tests/test_citation.py validates against the Citation File Format 1.2.0 schema.

Why a small formatter here rather than cffconvert, the Citation File Format's own converter: cffconvert
2.0.0 requires jsonschema < 4, which would downgrade the jsonschema that the Jupyter packages need. The two
formats are short, and the fields this project's file uses are all covered (an author is a person, with
family and given names, or an entity, with a name); a field the formatter does not know stops the build.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import yaml
from mkdocs.exceptions import PluginError

CFF_NAME = "CITATION.cff"
REQUIRED = ("title", "authors", "version", "date-released", "url")
_cff: dict = {}


def on_config(config, **_):
    path = Path(config.config_file_path).parent / CFF_NAME
    if not path.is_file():
        raise PluginError(
            f"citation: {path} is missing; the home page's citation box is made from it"
        )
    cff = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED if not cff.get(key)]
    if missing:
        raise PluginError(f"citation: {path} has no {', '.join(missing)}")
    for author in cff["authors"]:
        if not (author.get("name") or author.get("family-names")):
            raise PluginError(
                f"citation: an author in {path} has neither a name nor family-names: {author}"
            )
    _cff.clear()
    _cff.update(
        cff,
        repository_file=f"{config.repo_url.rstrip('/')}/blob/main/{CFF_NAME}"
        if config.repo_url
        else "",
    )
    macros = config.plugins.get("macros")
    if macros is None:
        raise PluginError("citation: the macros plugin is needed for {{ cite_this_chapter() }}")
    macros.register_macros({"cite_this_chapter": cite_this_chapter})
    return config


def released(cff: dict) -> dt.date:
    value = cff["date-released"]
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def bibtex_name(author: dict) -> str:
    if author.get("name"):
        # an entity: braces keep BibTeX from splitting it into names
        return "{" + author["name"] + "}"
    return f"{author['family-names']}, {author.get('given-names', '')}".rstrip(", ")


def apa_name(author: dict) -> str:
    if author.get("name"):
        return author["name"]
    initials = " ".join(f"{part[0]}." for part in author.get("given-names", "").split())
    return f"{author['family-names']}, {initials}".rstrip(", ")


def apa_authors(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + ", & " + names[-1]


def bibtex(cff: dict) -> str:
    date = released(cff)
    key = "".join(ch for ch in cff["title"].split(":")[0].lower() if ch.isalnum()) + str(date.year)
    fields = {
        "author": " and ".join(bibtex_name(a) for a in cff["authors"]),
        "title": "{" + cff["title"] + "}",  # inner braces keep the title's capitals
        "year": str(date.year),
        "month": date.strftime("%b").lower(),
        "note": f"Version {cff['version']}",
        "url": cff["url"],
    }
    width = max(len(name) for name in fields)
    lines = [
        f"  {name.ljust(width)} = {{{value}}},"
        if name != "month"
        else f"  {name.ljust(width)} = {value},"
        for name, value in fields.items()
    ]
    return "@misc{" + key + ",\n" + "\n".join(lines) + "\n}"


def apa(cff: dict) -> str:
    """APA 7th edition, software: Author. (Year). *Title* (Version v) [Computer software]. URL"""
    authors = apa_authors([apa_name(a) for a in cff["authors"]])
    return (
        f"{authors}{'' if authors.endswith('.') else '.'} ({released(cff).year}). *{cff['title']}* "
        f"(Version {cff['version']}) [Computer software]. <{cff['url']}>"
    )


def cite_this_chapter() -> str:
    """The box, as Markdown: an admonition with a BibTeX tab and an APA tab."""
    source = f"[{CFF_NAME}]({_cff['repository_file']})" if _cff["repository_file"] else CFF_NAME
    message = _cff.get("message", "Please cite it as below.")
    body = (
        f"{message} (From the repository's {source}.)\n\n"
        '=== "BibTeX"\n\n'
        + textwrap.indent(f"```bibtex\n{bibtex(_cff)}\n```", "    ")
        + '\n\n=== "APA"\n\n'
        + textwrap.indent(apa(_cff), "    ")
    )
    return '!!! quote "Cite this chapter"\n\n' + textwrap.indent(body, "    ") + "\n"
