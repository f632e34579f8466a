"""Glossary and hover definitions: every term defined once, and used.

- ``docs/glossary.md`` has one entry per term; ``docs/includes/abbreviations.md`` (appended to every page)
  gives each term's hover definition, which must be the first paragraph of its entry, word for word.
- Every entry is used on some page, so its hover definition is seen; the built pages carry the definitions
  and the include file is not a page of its own.
- The reference list is tested in tests/test_references.py.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path


from conftest import load_hook

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
GLOSSARY = DOCS / "glossary.md"
ABBREVIATIONS = DOCS / "includes" / "abbreviations.md"
# The terms issue 9 asks the glossary for, by anchor.
REQUIRED = {
    "backpropagation-through-time",
    "jacobian",
    "spectral-radius",
    "singular-value",
    "saturation",
    "gradient-clipping",
    "truncated-bptt",
    "reservoir",
    "constant-error-carousel",
    "gate",
}
hook = load_hook("glossary")


def anchor(term: str) -> str:
    """The glossary anchor of a term, as hooks/glossary.py computes it."""
    return re.sub(r"^-+|-+$", "", re.sub(r"[^a-z0-9]+", "-", term.lower()))


def glossary() -> dict[str, tuple[str, str]]:
    """{anchor: (heading, first paragraph)} in page order."""
    text = GLOSSARY.read_text(encoding="utf-8")
    entries = re.findall(r"^## (.+?) \{#([a-z0-9-]+)\}\n\n(.+?)\n\n", text, re.M)
    assert len(entries) == text.count("\n## "), (
        "every entry is '## Term {#anchor}' followed by its definition"
    )
    return {a: (heading, first) for heading, a, first in entries}


def hover_definitions() -> list[tuple[str, str, str]]:
    """(form, term, definition) for every line '*[form]: Term: definition' of the include file."""
    lines = [
        line for line in ABBREVIATIONS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    parsed = [re.fullmatch(r"\*\[(.+?)\]: (.+?): (.+)", line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed) if not m]
    return [m.groups() for m in parsed]


def prose(page: Path) -> str:
    """A page's Markdown without code blocks, inline code, HTML tags and macros."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^([ \t]*)(```|~~~).*?^\1\2", "", text, flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`|\{\{.*?\}\}|</?[A-Za-z][^>]*>", " ", text)  # tags, not "$a < b$"
    return text


def test_the_glossary_has_the_terms_the_issue_names() -> None:
    missing = REQUIRED - set(glossary())
    assert not missing, f"glossary entries missing: {sorted(missing)}"


def test_the_glossary_is_in_alphabetical_order() -> None:
    headings = [heading.lower() for heading, _ in glossary().values()]
    assert headings == sorted(headings)


def test_every_hover_definition_is_the_first_paragraph_of_its_entry() -> None:
    entries = glossary()
    forms = [form for form, _, _ in hover_definitions()]
    assert len(forms) == len(set(forms)), "a form is defined twice"
    for form, term, definition in hover_definitions():
        assert anchor(term) in entries, f"{form!r}: no glossary entry #{anchor(term)} for {term!r}"
        heading, first = entries[anchor(term)]
        assert heading.startswith(term), (form, heading)
        restored = (
            definition
            if definition.split()[0].isupper()
            else definition[0].upper() + definition[1:]
        )
        assert restored == first, (
            f"{form!r}: the hover text differs from the glossary entry:\n{definition}\n{first}"
        )
        assert not re.search(r"[$*`\[\\]", definition), (
            f"{form!r}: a hover definition is plain text"
        )


def test_every_entry_has_a_hover_form_that_some_page_uses() -> None:
    pages = [p for p in DOCS.glob("*.md") if p.name != GLOSSARY.name]
    text = "\n".join(prose(p) for p in pages)
    by_anchor: dict[str, list[str]] = {}
    for form, term, _ in hover_definitions():
        by_anchor.setdefault(anchor(term), []).append(form)
    for a, (heading, _) in glossary().items():
        assert a in by_anchor, (
            f"glossary entry {heading!r} has no hover form in {ABBREVIATIONS.name}"
        )
        # a term may break across two lines of the Markdown source
        used = [
            f
            for f in by_anchor[a]
            if re.search(r"\b" + r"\s+".join(map(re.escape, f.split())) + r"\b", text)
        ]
        assert used, (
            f"no page uses {heading!r} (forms {by_anchor[a]}): drop the entry or use the term"
        )


def test_the_link_hook_computes_anchors_the_same_way() -> None:
    for term in [
        "Backpropagation through time",
        "Truncated BPTT",
        "Echo state network (ESN)",
        "Jacobian",
    ]:
        assert hook.anchor(term) == anchor(term), term


def test_the_link_hook_marks_and_links_only_first_uses_in_running_text() -> None:
    jacobian, bptt = (
        '<abbr title="Jacobian: a matrix">{}</abbr>',
        '<abbr title="BPTT: the chain rule">BPTT</abbr>',
    )
    html = (
        f"<h2>The {jacobian.format('Jacobian')}</h2>"
        f'<div class="admonition"><p class="admonition-title">{bptt}</p><p><code>x</code> {bptt}</p></div>'
        f"<p>A {jacobian.format('Jacobian')}, then {jacobian.format('Jacobians')} &lt;b&gt; "
        f'<a href="#x">{bptt}</a> <abbr title="CPU">CPU</abbr></p>'
    )
    linked = hook.link_first_uses(html, "../glossary/")
    assert linked.count('class="gtt-glossary-link"') == 2, linked
    # the two first uses, and an abbreviation that is no glossary term
    assert linked.count("<abbr") == 3, linked
    assert "<h2>The Jacobian</h2>" in linked  # no mark in headings
    assert '<p class="admonition-title">BPTT</p>' in linked  # nor in admonition titles
    assert (
        '<code>x</code> <a class="gtt-glossary-link" href="../glossary/#bptt" '
        f'aria-description="BPTT: the chain rule">{bptt}</a>'
    ) in linked
    # later uses are plain text
    assert (
        f'<p>A <a class="gtt-glossary-link" href="../glossary/#jacobian" aria-description="Jacobian: a matrix">'
        f"{jacobian.format('Jacobian')}</a>, then Jacobians"
    ) in linked
    assert '<a href="#x">BPTT</a>' in linked  # no mark inside another link
    assert '<abbr title="CPU">CPU</abbr>' in linked
    assert "&lt;b&gt;" in linked  # text stays escaped
    # On the glossary page itself: the first use keeps its hover mark, with no link to the page it is on.
    own = hook.link_first_uses(html, None)
    assert "gtt-glossary-link" not in own and own.count("<abbr") == 3, own


def content_of(site, name: str) -> str:
    html = (site / name / "index.html").read_text(encoding="utf-8")
    return html.split('<article class="md-content__inner md-typeset">', 1)[1].split(
        "</article>", 1
    )[0]


def test_first_uses_of_glossary_terms_link_to_their_entries(fast_site) -> None:
    site, _ = fast_site
    ids = set(
        re.findall(
            r'\bid="([^"]+)"', (site / "glossary" / "index.html").read_text(encoding="utf-8")
        )
    )
    assert 'class="gtt-glossary-link"' not in (site / "glossary" / "index.html").read_text(
        encoding="utf-8"
    ), "the glossary does not link to itself"
    link = re.compile(
        r'<a class="gtt-glossary-link" href="\.\./glossary/#([a-z0-9-]+)" aria-description="([^"]+)">'
        r'<abbr title="([^"]+?)">'
    )
    for name in ["01-backprop-through-time", "03-activation-functions", "07-gates"]:
        content = content_of(site, name)
        links = link.findall(content)
        assert len(links) >= 5, f"{name}: {len(links)} glossary links"
        anchors = [target for target, _, _ in links]
        assert len(anchors) == len(set(anchors)), f"{name}: a term is linked more than once"
        assert all(target == anchor(title.split(": ", 1)[0]) for target, _, title in links), links
        assert all(description == title for _, description, title in links), (
            "screen readers get the definition"
        )
        assert set(anchors) <= ids, sorted(set(anchors) - ids)


def test_each_term_is_marked_once_per_page_and_never_in_headings(fast_site) -> None:
    """Lesson 7 used "gate" dozens of times, and its title carried three marks: now one mark per term."""
    site, _ = fast_site
    terms = {anchor(term) for _, term, _ in hover_definitions()}
    lessons = sorted(p.parent.name for p in site.glob("[0-9][0-9]-*/index.html"))
    assert len(lessons) >= 8
    for name in lessons + ["glossary", "references", ""]:
        content = content_of(site, name)
        marks = [
            anchor(unescape(t).split(": ", 1)[0])
            for t in re.findall(r'<abbr title="([^"]+)">', content)
        ]
        marks = [m for m in marks if m in terms]
        assert len(marks) == len(set(marks)), (
            f"/{name}: terms marked more than once: {sorted({m for m in marks if marks.count(m) > 1})}"
        )
        for heading in re.findall(r"<h[1-6]\b.*?</h[1-6]>", content, re.S):
            assert "<abbr" not in heading and "gtt-glossary-link" not in heading, (
                f"/{name}: a mark in {heading[:120]}"
            )
        title = re.search(
            r"<title>(.*?)</title>", (site / name / "index.html").read_text(encoding="utf-8"), re.S
        ).group(1)
        assert "<" not in title, title
    gates = content_of(site, "07-gates")
    assert gates.count('<abbr title="Gate: ') == 1, "lesson 7 marks 'gate' once"
    # the word is still there
    assert re.search(r"\bgates?\b", re.sub(r"<[^>]+>", " ", gates).lower()).group(0)


def test_the_definition_shows_while_the_link_has_keyboard_focus() -> None:
    css = (REPO / "docs" / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    rule = re.search(
        r"a\.gtt-glossary-link:focus-visible > abbr\[title\]::after\s*\{([^}]*)\}", css
    )
    assert rule and "content: attr(title)" in rule.group(1), (
        "keyboard users see the definition on focus"
    )


def test_the_include_file_is_appended_to_every_page_and_is_no_page() -> None:
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert 'auto_append: ["docs/includes/abbreviations.md"]' in config
    assert re.search(r"^exclude_docs: \|\n(?:  .*\n)*  includes/\n", config, re.M)
    assert "  - abbr\n" in config


def test_built_pages_carry_the_hover_definitions(fast_site) -> None:
    site, _ = fast_site
    titles = {f"{term}: {definition}" for _, term, definition in hover_definitions()}
    assert not (site / "includes").exists(), "the include file was built as a page"
    for page in [
        site / "01-backprop-through-time" / "index.html",
        site / "02-repeated-multiplication" / "index.html",
        site / "03-activation-functions" / "index.html",
        site / "glossary" / "index.html",
    ]:
        html = page.read_text(encoding="utf-8")
        found = {unescape(t) for t in re.findall(r'<abbr title="([^"]+)">', html)}
        assert found and found <= titles, page
        assert "*[" not in re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.S), (
            f"{page}: a definition leaked into the text"
        )
    lesson_1 = (site / "01-backprop-through-time" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<abbr title="Jacobian: [^"]+">Jacobian</abbr>', lesson_1)
