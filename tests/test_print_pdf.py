"""The whole chapter on one page (print_page/) and as a PDF, as hooks/print_pdf.py makes them in the build.

The PDF is read with pypdf: every lesson's title, every figure (its caption, and a drawing for each), no raw
TeX, a page number on every page, PDF bookmarks (the outline) and a printed table of contents, and links
between lessons that jump inside the PDF. The PDF needs Chromium at build time: without it these tests fail
in CI (where the build itself already fails) and skip locally, as the browser tests do.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from pathlib import Path

import pytest

from conftest import REPO, in_ci, load_hook

PDF = "gradients-through-time.pdf"
PRINTED = ("glossary", "references")  # besides the lessons, in this order after them
# TeX that must never reach a reader: delimiters and commands that KaTeX should have turned into maths.
RAW_TEX = re.compile(
    r"\$|\\\(|\\\)|\\\[|\\\]|\\(?:frac|sum|prod|partial|mathbf|left|right|sigma|rho|lambda|tanh)\b"
)
hook = load_hook("print_pdf")


def squeeze(text: str) -> str:
    """Text without whitespace (PDF text extraction joins or splits words at line ends) and with ligatures
    spelt out (the PDF's "ﬀ" is "ff")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def h1(site: Path, name: str) -> str:
    html = (site / name / "index.html").read_text(encoding="utf-8")
    title = re.search(r"<h1\b[^>]*>(.*?)</h1>", html, re.S).group(1)
    return unescape(re.sub(r"<a class=\"headerlink\".*?</a>|<[^>]+>", "", title)).strip()


def lessons(site: Path) -> list[str]:
    return sorted(p.parent.name for p in site.glob("[0-9][0-9]-*/index.html"))


@pytest.fixture(scope="module")
def pdf(fast_site):
    from pypdf import PdfReader

    site, log = fast_site
    path = site / PDF
    if not path.is_file():
        reason = "the build made no PDF" + (
            ": " + m.group(0) if (m := re.search(r"print_pdf: [^\n]*", log)) else ""
        )
        if in_ci():
            pytest.fail(f"{reason} (CI is set, so the PDF must be made)", pytrace=False)
        pytest.skip(f"{reason}; install Debian's Chromium (`apt-get install chromium`) to make it")
    reader = PdfReader(path)
    return reader, [page.extract_text() for page in reader.pages]


def test_the_pdf_is_within_its_budgets(pdf, fast_site) -> None:
    site, log = fast_site
    size = (site / PDF).stat().st_size
    assert 200_000 < size <= 10_000_000, f"{size / 1e6:.1f} MB"
    seconds = float(re.search(r"print_pdf: [^,]+, [\d.]+ MB, made in ([\d.]+) s", log).group(1))
    assert seconds <= 60, f"the PDF took {seconds:.0f} s to make"


def test_the_pdf_has_every_lesson_in_order_then_the_glossary_and_references(pdf, fast_site) -> None:
    site, _ = fast_site
    _, pages = pdf
    text = squeeze("\n".join(pages))
    titles = [h1(site, name) for name in [*lessons(site), *PRINTED]]
    assert len(titles) >= 10
    positions = []
    for title in titles:
        # Each title is in the contents and then at the head of its part: take its last appearance.
        found = [m.start() for m in re.finditer(re.escape(squeeze(title)), text)]
        assert found, f"{title!r} is not in the PDF"
        positions.append(found[-1])
    assert positions == sorted(positions), f"out of order: {titles}"


def test_the_pdf_has_every_figure(pdf, fast_site) -> None:
    site, _ = fast_site
    reader, pages = pdf
    figures = sum(
        (site / name / "index.html").read_text(encoding="utf-8").count('class="gtt-figure"')
        for name in [*lessons(site), *PRINTED]
    )
    assert figures >= 20
    captions = squeeze("\n".join(pages)).count("Dataandfacts(JSON)")
    assert captions == figures, (
        f"{captions} figure captions in the PDF, {figures} figures in the printed pages"
    )
    # Each SVG figure is embedded as vector drawing (a form XObject), not as a picture of it or a blank.
    drawings = sum(
        1
        for page in reader.pages
        for x in ((page.get("/Resources") or {}).get("/XObject") or {}).values()
        if x.get_object().get("/Subtype") == "/Form"
    )
    assert drawings >= figures


def test_the_pdf_shows_no_raw_tex(pdf) -> None:
    _, pages = pdf
    for number, text in enumerate(pages, 1):
        raw = sorted({m.group(0) for m in RAW_TEX.finditer(text)})
        where = [text[max(0, m.start() - 60) : m.end() + 20] for m in RAW_TEX.finditer(text)][:3]
        assert not raw, f"page {number} shows unrendered TeX {raw}: {where}"


def test_every_page_is_numbered(pdf) -> None:
    _, pages = pdf
    total = len(pages)
    assert total >= 30
    for number, text in enumerate(pages, 1):
        assert f"{number} / {total}" in text, f"page {number} has no page number"


def test_the_pdf_has_bookmarks_and_printed_contents(pdf, fast_site) -> None:
    site, _ = fast_site
    reader, pages = pdf

    def titles(outline) -> list[str]:
        return [
            t
            for item in outline
            for t in (titles(item) if isinstance(item, list) else [item.title])
        ]

    bookmarks = {squeeze(t) for t in titles(reader.outline)}
    for name in [*lessons(site), *PRINTED]:
        assert squeeze(h1(site, name)) in bookmarks, f"no bookmark for {h1(site, name)!r}"
    contents = next(
        (n for n, text in enumerate(pages[:4]) if text.lstrip().startswith("Contents")), None
    )
    assert contents is not None, "no printed contents near the start"
    assert squeeze(h1(site, lessons(site)[0])) in squeeze(pages[contents])


def test_links_between_lessons_jump_inside_the_pdf(pdf) -> None:
    reader, _ = pdf
    names = set(reader.named_destinations)
    internal, broken, pointing_at = 0, [], set()
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link" or "/Dest" not in annotation:
                continue
            internal += 1
            dest = str(annotation["/Dest"])
            if dest not in names:
                broken.append(dest)
            pointing_at.add(dest)
    assert not broken, f"links to destinations the PDF lacks: {broken[:5]}"
    assert internal >= 100, f"only {internal} internal links"
    # Links from the text of one lesson to another lesson and to the references and glossary.
    for target in ("/02-repeated-multiplication", "/05-taming-explosions"):
        assert any(d == target or d.startswith(target + "-") for d in pointing_at), target
    assert any(d.startswith("/glossary-") for d in pointing_at) and any(
        d in names and not d.startswith("/0") for d in pointing_at
    )


def test_the_print_page_is_one_finished_page(fast_site) -> None:
    site, _ = fast_site
    html = (site / "print_page" / "index.html").read_text(encoding="utf-8")
    content = html.split('<div id="print-site-page"', 1)[1]
    assert 'class="arithmatex">\\(' not in content and 'class="katex"' in content, "maths rendered"
    assert '<div class="gtt-explorer"' not in content, (
        "the interactive explorer is replaced on paper"
    )
    assert 'class="glightbox"' not in content, "figures do not link to their files"
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    missing = sorted({h for h in re.findall(r'href="#([^"]+)"', content)} - ids)
    assert not missing, f"links to nowhere: {missing[:10]}"
    pres = re.findall(r'<pre\b[^>]*\bid="([^"]+)"', content)
    assert pres and len(pres) == len(set(pres)), (
        "each code block has its own id (its copy button copies it)"
    )
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="print_page/"' in home and f'href="{PDF}"' in home


def test_without_chromium_ci_fails_and_a_local_build_goes_on_without_the_pdf(monkeypatch) -> None:
    monkeypatch.setenv("GTT_CHROMIUM", str(REPO / "no-such-chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Exception, match="CI is set, so the PDF must be made"):
        hook._unavailable("no Chromium at " + str(REPO / "no-such-chromium"))
    monkeypatch.setenv("CI", "")
    hook._state["pdf"] = True
    hook._unavailable("no Chromium")
    assert hook._state["pdf"] is None
    assert 'href="print_page/"' in hook.read_offline() and ".pdf" not in hook.read_offline()
