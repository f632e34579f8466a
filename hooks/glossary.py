"""Glossary marks: the first use of each glossary term on a page is marked and links to its entry.

The terms come from docs/includes/abbreviations.md, which pymdownx.snippets appends to every page, so
Python-Markdown wraps every use of a term in ``<abbr title="Term: definition">`` (the hover definition),
headings and the page title included. That is too many marks ("gate" dozens of times on lesson 7), so here,
at build time:

- the first ``<abbr>`` of each term in the running text keeps its mark and becomes a link to
  ``glossary/#term``, the anchor being the term before the colon in lower case with hyphens
  (tests/test_glossary.py checks that every such anchor exists);
- every other use, and every use in a heading, a summary, an admonition title, a link or code, loses
  its mark and is plain text again.

The definition stays reachable without a mouse: the link is focusable and leads to the entry, its
``aria-description`` gives screen readers the definition where the term is, and docs/stylesheets/extra.css
shows the definition beside the term while the link has keyboard focus. Done at build time rather than in
the browser, this costs readers no script and no main-thread time, and works without JavaScript. On the
glossary page the first use of each term keeps its hover mark but links nowhere (it is already there).
"""

from __future__ import annotations

import re

from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url
from selectolax.lexbor import LexborHTMLParser

GLOSSARY_PAGE = "glossary.md"
# Terms are not marked where a mark would be wrong or unreadable (headings, a link inside a link, code).
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


def link_first_uses(html: str, glossary_url: str | None) -> str:
    """Mark and link the first use of each term in running text; unmark every other use.

    With glossary_url None (the glossary page itself) the first use keeps its hover mark, without a link."""
    tree = LexborHTMLParser(f"<body>{html}</body>")
    seen: set[str] = set()
    for abbr in tree.css("abbr[title]"):
        term, colon, _ = abbr.attrs["title"].partition(": ")
        if not colon or not term:
            continue  # not a glossary definition: some other abbreviation, left as it is
        target = anchor(term)
        if target in seen or in_skipped_context(abbr):
            abbr.unwrap()
            continue
        seen.add(target)
        if glossary_url is not None:
            link = LexborHTMLParser(
                f'<a class="gtt-glossary-link" href="{glossary_url}#{target}">{abbr.html}</a>'
            ).css_first("a")
            link.attrs["aria-description"] = abbr.attrs["title"]
            abbr.replace_with(link)
    return tree.body.inner_html


# after hooks/page_speed.py (10); before mkdocs-print-site (0) keeps each page for the print page
@event_priority(5)
def on_page_content(html, page, files, **_):
    if "<abbr" not in html:
        return html
    if page.file.src_uri == GLOSSARY_PAGE:
        return link_first_uses(html, None)  # the glossary needs no links to itself
    glossary = files.get_file_from_path(GLOSSARY_PAGE)
    return link_first_uses(html, get_relative_url(glossary.url, page.url))
