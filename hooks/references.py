"""The reference list, made at build time from docs/references.bib: one BibTeX entry per work, one source.

``{{ references() }}`` (a mkdocs-macros macro registered here, as hooks/citation.py registers its box) puts
every entry on docs/references.md, sorted by key: an anchor ``#KEY`` (lessons link to ``references.md#KEY``),
the authors, title, venue and year, a stable link, what we use the work for (the entry's ``usedfor`` field),
and a collapsed BibTeX block with a copy button. The site's ``references.bib`` is the same entries without
this site's own fields (``usedfor``, ``urltext``), for readers to download.

bibtexparser (v2) parses the file and writes the blocks readers copy. The line shown for each work is ours:
one short format per entry type, because a citation style from a library (pybtex's, say) has its own look and
would need a style plugin of its own to keep the page's. The formatter knows exactly the entry types and
fields this file uses; anything else (an unknown type or field, a missing field, a TeX command, a key that is
not a name and a year, a block that does not parse) stops the build and names the entry.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import bibtexparser
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import Entry, Field
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

BIB_NAME = (
    "references.bib"  # in docs/; its generated, reader-facing copy keeps the name on the site
)
OWN_FIELDS = ("usedfor", "urltext")  # read by this page, left out of the BibTeX readers copy
# first author's name and year: the anchor and the BibTeX key
KEY = re.compile(r"[a-z]+[0-9]{4}[a-z]?")
MIN_USEDFOR_WORDS = 12

# Per entry type: the fields it must have and those it may have besides (and the links and our own fields).
REQUIRED = {
    "article": ("author", "title", "journal", "volume", "pages", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "incollection": ("author", "title", "editor", "booktitle", "pages", "publisher", "year"),
    "book": ("author", "title", "publisher", "year"),
    "phdthesis": ("author", "title", "school", "year"),
    "mastersthesis": ("author", "title", "school", "year"),
    "techreport": ("author", "title", "institution", "type", "number", "year"),
    "misc": ("author", "title", "howpublished", "year"),
}
OPTIONAL = {
    "article": ("number",),
    "inproceedings": ("series", "volume", "number", "pages", "publisher"),
    "incollection": (),
    "book": ("note",),
    "phdthesis": ("type",),
    "mastersthesis": ("type",),
    "techreport": (),
    "misc": ("month", "date"),
}
LINKS = ("doi", "url", "eprint", "archiveprefix")

_entries: list[Entry] = []


@dataclass(frozen=True)
class Reference:
    key: str
    markdown: str  # the list item, as the page shows it
    bibtex: str  # the entry readers copy


class ReferenceError(PluginError):
    pass


# ---------------------------------------------------------------- reading


def parse(text: str, source: str = BIB_NAME) -> list[Entry]:
    """The entries of a .bib text, checked; a problem raises ReferenceError naming the entry."""
    library = bibtexparser.parse_string(text)
    if library.failed_blocks:
        problems = [
            f"line {b.start_line + 1 if b.start_line is not None else '?'}: "
            f"{getattr(b.error, 'abort_reason', '') or b.error or type(b.error).__name__}"
            for b in library.failed_blocks
        ]
        raise ReferenceError(
            f"references: {source} has blocks that do not parse: {'; '.join(problems)}"
        )
    # the page formats entries as written, with no macros expanded
    if library.strings or library.preambles:
        raise ReferenceError(
            f"references: {source} may hold entries and comments only, not @string or @preamble"
        )
    for entry in library.entries:
        check(entry, source)
    if not library.entries:
        raise ReferenceError(f"references: {source} has no entries")
    return library.entries


def check(entry: Entry, source: str) -> None:
    where = f"references: {source}, entry {entry.key!r}"
    if not KEY.fullmatch(entry.key):
        raise ReferenceError(
            f"{where}: a key is the first author's family name and the year, like hochreiter1997"
        )
    if entry.entry_type not in REQUIRED:
        raise ReferenceError(
            f"{where}: entry type @{entry.entry_type} is not one this page formats "
            f"({', '.join('@' + t for t in REQUIRED)})"
        )
    fields = entry.fields_dict
    missing = [name for name in (*REQUIRED[entry.entry_type], "usedfor") if not value(entry, name)]
    if missing:
        raise ReferenceError(f"{where}: missing {', '.join(missing)}")
    allowed = {*REQUIRED[entry.entry_type], *OPTIONAL[entry.entry_type], *LINKS, *OWN_FIELDS}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ReferenceError(f"{where}: fields this page does not show: {', '.join(unknown)}")
    for name, field in fields.items():
        if not isinstance(field.value, str):
            raise ReferenceError(f"{where}: field {name} is not text")
        if "\\" in field.value:
            raise ReferenceError(
                f"{where}: field {name} holds a TeX command; write the character in UTF-8"
            )
    if not any(value(entry, name) for name in ("doi", "url", "eprint")):
        raise ReferenceError(f"{where}: no stable link (doi, url or an arXiv eprint)")
    if value(entry, "eprint") and value(entry, "archiveprefix") != "arXiv":
        raise ReferenceError(
            f"{where}: an eprint needs archiveprefix = {{arXiv}}, the only archive this page links"
        )
    if len(value(entry, "usedfor").split()) < MIN_USEDFOR_WORDS:
        raise ReferenceError(
            f"{where}: usedfor says in under {MIN_USEDFOR_WORDS} words what we use the work for"
        )
    if value(entry, "date"):
        try:
            date = dt.date.fromisoformat(value(entry, "date"))
        except ValueError:
            raise ReferenceError(
                f"{where}: date is not YYYY-MM-DD: {value(entry, 'date')!r}"
            ) from None
        if str(date.year) != value(entry, "year"):
            raise ReferenceError(f"{where}: date {date} and year {value(entry, 'year')} disagree")


def value(entry: Entry, name: str) -> str:
    """A field's value with its line breaks and indentation folded to single spaces ('' if absent)."""
    field = entry.fields_dict.get(name)
    return " ".join(field.value.split()) if field is not None else ""


# ---------------------------------------------------------------- the line a reader sees


def plain(text: str) -> str:
    """BibTeX text as it reads: protecting braces dropped, -- as an en dash."""
    return text.replace("{", "").replace("}", "").replace("--", "–")


def sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def initials(given: str) -> str:
    """'Felix A.' -> 'F. A.', 'Jean-Pierre' -> 'J.-P.'"""
    return " ".join("-".join(part[0] + "." for part in word.split("-")) for word in given.split())


def person(name: str) -> str:
    parts = parse_single_name_into_parts(plain(name))
    short = " ".join([initials(" ".join(parts.first)), *parts.von, *parts.last]).strip()
    return f"{short}, {' '.join(parts.jr)}" if parts.jr else short


def people(names: str) -> str:
    return ", ".join(person(name) for name in split_multiple_persons_names(names))


def when(entry: Entry) -> str:
    """'24 September 2015' where the entry has a date, else its year."""
    date = value(entry, "date")
    return (
        f"{dt.date.fromisoformat(date).day} {dt.date.fromisoformat(date):%B %Y}"
        if date
        else value(entry, "year")
    )


def citation(entry: Entry) -> str:
    """Authors, title, venue and year, in the page's style for the entry's type."""
    f = {name: plain(value(entry, name)) for name in entry.fields_dict}
    authors, title, year = people(value(entry, "author")), f["title"], f["year"]
    kind = entry.entry_type
    if kind == "article":
        issue = f"({f['number']})" if f.get("number") else ""
        venue = f"*{f['journal']}* {f['volume']}{issue}:{f['pages']}, {year}"
    elif kind == "inproceedings":
        if f.get("volume"):
            issue = f"({f['number']})" if f.get("number") else ""
            numbers = f"{f.get('publisher', '')} {f['volume']}{issue}".strip() + (
                f":{f['pages']}" if f.get("pages") else ""
            )
        else:
            numbers = f.get("pages", "")
        venue = ", ".join(part for part in (f"*{f['booktitle']}*", numbers, year) if part)
    elif kind == "incollection":
        editors = people(value(entry, "editor"))
        venue = f"In {editors} (eds.), *{f['booktitle']}*, {f['pages']}. {f['publisher']}, {year}"
    elif kind == "book":
        note = f" {sentence(f['note'])}" if f.get("note") else ""
        return f"{authors}. *{sentence(title)}*{note} {f['publisher']}, {year}."
    elif kind in ("phdthesis", "mastersthesis"):
        degree = f.get("type") or ("PhD thesis" if kind == "phdthesis" else "Master's thesis")
        return f"{authors}. *{sentence(title)}* {degree}, {f['school']}, {year}."
    elif kind == "techreport":
        venue = f"{f['type']} {f['number']}, {f['institution']}, {year}"
    else:  # misc: a preprint or a blog post
        venue = f"{f['howpublished']}, {when(entry)}"
    return f"{authors}. {sentence(title)} {venue}."


def links(entry: Entry) -> str:
    """The DOI, else the url; an arXiv copy as well, or alone where it is the only link."""
    found = []
    if value(entry, "doi"):
        found.append(f"[doi:{value(entry, 'doi')}](https://doi.org/{value(entry, 'doi')})")
    if value(entry, "url"):
        url = value(entry, "url")
        text = value(entry, "urltext") or re.sub(r"^https?://(www\.)?", "", url)
        found.append(f"[{text}]({url})")
    if value(entry, "eprint"):
        found.append(
            f"[arXiv:{value(entry, 'eprint')}](https://arxiv.org/abs/{value(entry, 'eprint')})"
        )
    return found[0] + "".join(f" (also {link})" for link in found[1:])


# ---------------------------------------------------------------- the BibTeX readers copy


def reader_bibtex(entries: list[Entry]) -> str:
    """The entries as BibTeX without this site's own fields, each field on one line."""
    clean = []
    for entry in entries:
        # Each field keeps the enclosing it was parsed with: month = sep stays the BibTeX macro, not {sep}.
        fields = [
            Field(f.key, " ".join(f.value.split()), enclosing=f.enclosing)
            for f in entry.fields
            if f.key not in OWN_FIELDS
        ]
        clean.append(Entry(entry.entry_type, entry.key, fields))
    form = bibtexparser.BibtexFormat()
    form.indent, form.value_column, form.block_separator, form.trailing_comma = (
        "  ",
        "auto",
        "\n",
        True,
    )
    return bibtexparser.write_string(bibtexparser.Library(clean), bibtex_format=form)


def reference(entry: Entry) -> Reference:
    bibtex = reader_bibtex([entry]).strip()
    body = (
        f"*What we use it for:* {sentence(value(entry, 'usedfor'))}\n\n"
        '??? quote "BibTeX"\n\n' + textwrap.indent(f"```bibtex\n{bibtex}\n```", "    ")
    )
    markdown = (
        f'- <span id="{entry.key}"></span>**[{entry.key}]** {citation(entry)}\n'
        f"  {links(entry)}\n\n" + textwrap.indent(body, "    ") + "\n"
    )
    return Reference(entry.key, markdown, bibtex)


def render(entries: list[Entry]) -> str:
    """The whole list, sorted by key, as Markdown."""
    return "\n".join(reference(entry).markdown for entry in sorted(entries, key=lambda e: e.key))


# ---------------------------------------------------------------- MkDocs


def on_config(config, **_):
    macros = config.plugins.get("macros")
    if macros is None:
        raise ReferenceError("references: the macros plugin is needed for {{ references() }}")
    macros.register_macros({"references": references})
    return config


def on_files(files, config, **_):
    """Read the .bib (every build, so `mkdocs serve` sees edits) and put the readers' copy in its place."""
    source = files.get_file_from_path(BIB_NAME)
    if source is None:
        raise ReferenceError(
            f"references: docs/{BIB_NAME} is missing; docs/references.md is made from it"
        )
    _entries[:] = parse(Path(source.abs_src_path).read_text(encoding="utf-8"), f"docs/{BIB_NAME}")
    files.remove(source)
    header = (
        "% Gradients Through Time: the works the chapter cites, one BibTeX entry each.\n"
        "% Generated from the project's docs/references.bib.\n\n"
    )
    files.append(
        File.generated(
            config, BIB_NAME, content=header + reader_bibtex(sorted(_entries, key=lambda e: e.key))
        )
    )
    return files


def references() -> str:
    if not _entries:
        raise ReferenceError(
            "references: {{ references() }} was called before docs/references.bib was read"
        )
    return render(_entries)
