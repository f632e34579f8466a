"""Glossary links: on every page, the first use of each glossary term links to its entry.

The terms come from docs/includes/abbreviations.md, which pymdownx.snippets appends to every page, so
Python-Markdown wraps each use in ``<abbr title="Term: definition">`` (the hover definition). Here, at
build time, the first ``<abbr>`` of each term in the running text becomes a link to ``glossary/#term``,
the anchor being the term before the colon in lower case with hyphens (tests/test_glossary.py checks that
every such anchor exists). Done at build time rather than in the browser, the links cost readers no
script and no main-thread time, and they are there without JavaScript.
"""

from __future__ import annotations

import re

from mkdocs.utils import get_relative_url
from selectolax.lexbor import LexborHTMLParser

GLOSSARY_PAGE = "glossary.md"
# Terms are not linked where a link would be wrong or unreadable.
SKIP_TAGS = {"a", "h1", "h2", "h3", "h4", "h5", "h6", "summary", "code", "pre"}
SKIP_CLASS = "admonition-title"


def anchor(term: str) -> str:
    return re.sub(r"^-+|-+$", "", re.sub(r"[^a-z0-9]+", "-", term.lower()))


def in_skipped_context(node) -> bool:
    parent = node.parent
    while parent is not None and parent.tag != "body":
        if parent.tag in SKIP_TAGS or SKIP_CLASS in (parent.attrs.get("class") or "").split():
            return True
        parent = parent.parent
    return False


def link_first_uses(html: str, glossary_url: str) -> str:
    tree = LexborHTMLParser(f"<body>{html}</body>")
    seen: set[str] = set()
    for abbr in tree.css("abbr[title]"):
        term, colon, _ = abbr.attrs["title"].partition(": ")
        if not colon or not term or in_skipped_context(abbr):
            continue
        target = anchor(term)
        if target in seen:
            continue
        seen.add(target)
        link = LexborHTMLParser(
            f'<a class="gtt-glossary-link" href="{glossary_url}#{target}">{abbr.html}</a>'
        ).css_first("a")
        abbr.replace_with(link)
    return tree.body.inner_html if seen else html


def on_page_content(html, page, files, **_):
    if page.file.src_uri == GLOSSARY_PAGE or "<abbr" not in html:
        return html  # the glossary needs no links to itself
    glossary = files.get_file_from_path(GLOSSARY_PAGE)
    return link_first_uses(html, get_relative_url(glossary.url, page.url))
