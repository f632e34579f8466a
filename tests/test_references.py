"""The reference list: one BibTeX source (docs/references.bib), rendered by hooks/references.py.

- every ``references.md#key`` link on every page resolves to an entry, and every entry is cited somewhere else;
- the works the curriculum and the referee (issue 14) name are all there, and every note is our own words;
- the rendered page shows each entry under its anchor with a BibTeX block that parses to that same key, and
  the site's references.bib holds the same entries without this site's own fields;
- the formatter's rules fail loudly: each broken entry below is refused with a message naming it.
"""

from __future__ import annotations

import re
from html import unescape

import bibtexparser
import pytest
from bs4 import BeautifulSoup

from conftest import REPO, SHARED, load_hook

DOCS = REPO / "docs"
BIB = DOCS / "references.bib"
CITATION = re.compile(r"references\.md#([A-Za-z0-9_-]+)")
# The curriculum's primary sources, and the works the referee's pass (issue 14) asked for.
CURRICULUM = {
    "hochreiter1991",
    "bengio1994",
    "hochreiter1997",
    "gers2000",
    "jaeger2001",
    "pascanu2013",
    "cho2014",
    "le2015",
    "goodfellow2016",
    "sak2015",
}
ISSUE_14 = {
    "werbos1990",
    "williams1990",
    "mikolov2012",
    "saxe2014",
    "arjovsky2016",
    "jozefowicz2015",
    "jaeger2002",
    "beaufays2015",
    "hochreiter2001",
}
hook = load_hook("references")
ENTRIES = hook.parse(BIB.read_text(encoding="utf-8"))
KEYS = {entry.key for entry in ENTRIES}


def citations() -> dict[str, list[str]]:
    """key -> the pages (docs-relative) that link to references.md#key, outside the reference page itself."""
    cited: dict[str, list[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        if page.name == "references.md":
            continue
        for key in CITATION.findall(page.read_text(encoding="utf-8")):
            cited.setdefault(key, []).append(page.relative_to(DOCS).as_posix())
    return cited


def test_every_citation_resolves_and_every_entry_is_cited() -> None:
    cited = citations()
    unknown = {key: where for key, where in cited.items() if key not in KEYS}
    assert not unknown, f"citations of keys that docs/references.bib does not define: {unknown}"
    uncited = KEYS - set(cited)
    assert not uncited, f"references that no page cites: {sorted(uncited)}"


def test_the_list_has_the_curriculum_s_sources_and_the_works_issue_14_asked_for() -> None:
    assert CURRICULUM | ISSUE_14 <= KEYS, sorted((CURRICULUM | ISSUE_14) - KEYS)


def test_where_the_text_leans_on_a_work_it_cites_it() -> None:
    """The places issue 14 names: each of these pages links to the work its argument relies on."""
    cited = citations()
    expected = {
        "werbos1990": "01-backprop-through-time.md",
        "mikolov2012": "05-taming-explosions.md",
        "williams1990": "05-taming-explosions.md",
        "saxe2014": "06-initialisation.md",
        "arjovsky2016": "06-initialisation.md",
        "jaeger2002": "06-initialisation.md",
        "jozefowicz2015": "07-gates.md",
        "beaufays2015": "07-gates.md",
    }
    for key, page in expected.items():
        assert page in cited.get(key, []), f"{page} does not cite {key}"
    assert "08-cheat-sheet.md" in cited["jozefowicz2015"]


def test_the_notes_are_our_own_words() -> None:
    """As tests/test_prose.py checks the pages: no eight words in a row from a source write-up."""
    if not (SHARED / "sources").is_dir():
        pytest.skip("the source write-ups live in ../shared/sources")
    from test_prose import runs

    source_runs = set().union(
        *(runs(p.read_text(errors="ignore")) for p in (SHARED / "sources").glob("*.txt"))
    )
    copied = runs(BIB.read_text(encoding="utf-8")) & source_runs
    assert not copied, sorted(copied)[:3]


# ---------------------------------------------------------------- the rendered page and the download


@pytest.fixture(scope="module")
def page(fast_site) -> BeautifulSoup:
    site, _ = fast_site
    return BeautifulSoup(
        (site / "references" / "index.html").read_text(encoding="utf-8"), "html.parser"
    )


def parse_one(text: str):
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    assert len(library.entries) == 1, text
    return library.entries[0]


def test_each_entry_shows_under_its_anchor_with_a_bibtex_block_of_the_same_key(page) -> None:
    items = [li for li in page.select("article li") if li.find("span", id=True, recursive=True)]
    anchors = [li.find("span", id=True)["id"] for li in items]
    assert anchors == sorted(KEYS), anchors  # every entry once, in order of its key
    for key, li in zip(anchors, items):
        text = li.get_text(" ", strip=True)
        assert text.startswith(f"[{key}] "), text[:60]
        assert re.search(r"\b(19|20)\d\d\b", text), key
        links = [a["href"] for a in li.find_all("a") if a["href"].startswith("https://")]
        assert links, f"{key}: no stable link"
        assert "What we use it for:" in text
        details = li.find_all("details")
        assert len(details) == 1 and details[0].summary.get_text(strip=True) == "BibTeX", key
        code = details[0].find("code")
        assert code is not None and "language-bibtex" in " ".join(
            code.find_parent("div")["class"]
        ), key
        entry = parse_one(unescape(code.get_text()))
        assert entry.key == key
        assert not set(entry.fields_dict) & set(hook.OWN_FIELDS), (
            f"{key}: this site's own fields leaked"
        )
        # the block is this work's
        assert entry.fields_dict["title"].value.split()[0].strip("{}") in text


def test_the_downloadable_file_has_every_entry_and_none_of_our_fields(fast_site, page) -> None:
    site, _ = fast_site
    assert page.find("a", href="../references.bib") is not None
    library = bibtexparser.parse_string((site / "references.bib").read_text(encoding="utf-8"))
    assert not library.failed_blocks
    assert sorted(e.key for e in library.entries) == sorted(KEYS)
    for entry in library.entries:
        assert not set(entry.fields_dict) & set(hook.OWN_FIELDS), entry.key
    months = {e.key: e.fields_dict["month"] for e in library.entries if "month" in e.fields_dict}
    # month = sep, a macro
    assert months and all(f.enclosing == "no-enclosing" for f in months.values()), months


# ---------------------------------------------------------------- the formatter and its refusals


GOOD = """@article{doe2001,
  author  = {Doe, Jane A. and van Dam, Piet and Smith-Jones, Jean-Pierre},
  title   = {A study of {RNN} gradients},
  journal = {Journal of Examples},
  volume  = {3},
  number  = {2},
  pages   = {10--20},
  year    = {2001},
  doi     = {10.1000/xyz},
  eprint  = {0101.00001},
  archiveprefix = {arXiv},
  usedfor = {an example entry for the tests, long enough to say in a dozen words what it is for},
}
"""


def test_an_entry_is_shown_as_the_page_has_always_shown_them() -> None:
    (entry,) = hook.parse(GOOD)
    ref = hook.reference(entry)
    first_line = ref.markdown.splitlines()[0]
    assert first_line == (
        '- <span id="doe2001"></span>**[doe2001]** J. A. Doe, P. van Dam, J.-P. Smith-Jones. '
        "A study of RNN gradients. *Journal of Examples* 3(2):10–20, 2001."
    )
    assert ref.markdown.splitlines()[1] == (
        "  [doi:10.1000/xyz](https://doi.org/10.1000/xyz) "
        "(also [arXiv:0101.00001](https://arxiv.org/abs/0101.00001))"
    )
    assert "    *What we use it for:* an example entry for the tests" in ref.markdown
    assert (
        '    ??? quote "BibTeX"' in ref.markdown
        and "        ```bibtex\n        @article{doe2001," in ref.markdown
    )
    assert "usedfor" not in ref.bibtex and parse_one(ref.bibtex).key == "doe2001"


@pytest.mark.parametrize(
    "change, complaint",
    [
        (("@article{doe2001", "@article{Doe-2001"), "first author's family name and the year"),
        (("@article{", "@patent{"), "entry type @patent"),
        (("  journal = {Journal of Examples},\n", ""), "missing journal"),
        (("  doi     = {10.1000/xyz},\n  eprint  = {0101.00001},\n", ""), "no stable link"),
        (("{A study", '{A st\\"udy'), "TeX command"),
        (("  year ", "  keywords = {x},\n  year "), "fields this page does not show: keywords"),
        (("long enough to say in a dozen words what it is for", "too short"), "under 12 words"),
        (("archiveprefix = {arXiv}", "archiveprefix = {HAL}"), "archiveprefix"),
        # the same key twice
        (
            ("}\n", "}\n" + GOOD.replace("journal", "journal") + "\n"),
            "do not parse",
        ),
        # bibtexparser's own reason, passed on
        (
            ("  title   = {", "  title     {"),
            "Expected a `=`",
        ),
    ],
)
def test_a_broken_entry_stops_the_build_and_says_why(change, complaint) -> None:
    old, new = change
    assert old in GOOD
    broken = GOOD.replace(old, new, 1)
    with pytest.raises(hook.ReferenceError, match=re.escape(complaint)):
        hook.parse(broken)
