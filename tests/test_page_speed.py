"""What hooks/page_speed.py, overrides/main.html and hooks/maths.py do to the built pages so that they load fast.

The effect on load times is measured by bench/lighthouse.py, not here; these tests pin the mechanisms: no
script blocks the parser, the explorer's assets go only where an explorer is, off-screen code blocks know
their height, the search index leaves out code blocks, and KaTeX's main fonts are preloaded where maths is.
"""

from __future__ import annotations

import gzip
import json
import re
from html import unescape

from conftest import built_pages

from hooks.page_speed import NARROW_WINDOW_COLUMNS

SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"[^>]*>")


def test_no_script_blocks_the_parser(fast_site) -> None:
    site, _ = fast_site
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", html):
            assert re.search(r"\s(defer|async)\b", tag), f"{page.relative_to(site)}: {tag}"
        # The lightbox's start-up code calls the deferred scripts, so it waits for them.
        start = re.search(r'<script id="init-glightbox">(.*?)</script>', html, re.S)
        if start:
            assert start.group(1).startswith('document.addEventListener("DOMContentLoaded"'), page


def test_the_explorer_and_the_lightbox_load_only_where_they_are_used(fast_site) -> None:
    site, _ = fast_site
    with_explorer = set()
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        name = page.parent.relative_to(site).as_posix()
        scripts = [src.rsplit("/", 1)[1] for src in SCRIPT_SRC.findall(html)]
        embeds = '<div class="gtt-explorer"' in html
        assert ("explorer.js" in scripts) == embeds == ("stylesheets/explorer.css" in html), name
        if embeds:
            with_explorer.add(name)
            # Inside the content, which Material's instant navigation runs again on arrival.
            content = html.split('<div class="md-content"', 1)[1].split("<footer", 1)[0]
            assert "explorer.js" in content, name
        content = html.split('<div class="md-content"', 1)[1].split("<footer", 1)[0]
        # The lightbox's script goes where it has an image to open (mkdocs-glightbox wraps each such image
        # in a link); notebook plots, shown at full size, and the print page have none.
        zoomable = 'class="glightbox"' in content
        assert ("glightbox.min.js" in scripts) == zoomable, name
        if 'class="gtt-figure"' in content and name != "print_page":
            assert zoomable, f"{name}: its figures do not open full size"
    assert with_explorer == {"02-repeated-multiplication", "03-activation-functions", "explorer"}


def test_code_blocks_carry_their_number_of_lines(fast_site) -> None:
    site, _ = fast_site
    blocks = 0
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        for style, attributes, code in re.findall(
            r'<div class="[^"]*\bhighlight\b[^"]*" style="--gtt-code-lines: (\d+)">.*?<code([^>]*)>(.*?)</code>',
            html,
            re.S,
        ):
            text = unescape(re.sub(r"<[^>]+>", "", code)).rstrip("\n")
            assert int(style) == len(text.splitlines()), (page.relative_to(site), style, text[:80])
            # reachable by keyboard before Material mounts it (content.lazy), if it can scroll sideways
            long_lines = max(map(len, text.splitlines()), default=0) > NARROW_WINDOW_COLUMNS
            assert ('tabindex="0"' in attributes) == long_lines, (page.relative_to(site), text[:80])
            blocks += 1
        every = re.findall(r'<div class="[^"]*\bhighlight\b[^"]*"[^>]*>', html)
        assert all("--gtt-code-lines" in tag for tag in every), page.relative_to(site)
    assert blocks > 50


def test_the_search_index_keeps_the_prose_and_leaves_out_code_blocks(fast_site) -> None:
    site, _ = fast_site
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    text = " ".join(doc["text"] for doc in docs)
    assert "<pre>" not in text
    assert (
        "clip_grad_norm_" in text and "forget gate" in text.lower() and "clipping" in text.lower()
    )
    # Worked solutions, and the pages for contributors, stay out of what every reader downloads.
    locations = {doc["location"].split("#")[0] for doc in docs}
    assert "contributing/" not in locations and "changelog/" not in locations
    lesson = (site / "05-taming-explosions" / "index.html").read_text(encoding="utf-8")
    solution = re.search(r'<details class="success"[^>]*>(.*?)</details>', lesson, re.S)
    assert solution, "lesson 5 has a worked solution"
    sentence = re.sub(
        r"<[^>]+>|\s+", " ", re.search(r"<p>(.*?)</p>", solution.group(1), re.S).group(1)
    ).strip()[:60]
    assert sentence and sentence not in re.sub(r"<[^>]+>|\s+", " ", text), sentence


def test_maths_pages_preload_the_two_main_katex_fonts(fast_site) -> None:
    site, _ = fast_site
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        head = html.split("</head>", 1)[0]
        preloads = re.findall(
            r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2" crossorigin', head
        )
        if 'class="katex"' in html:
            assert [p.rsplit("/", 1)[1] for p in preloads] == [
                "KaTeX_Main-Regular.woff2",
                "KaTeX_Math-Italic.woff2",
            ], page
            assert all((page.parent / p).resolve().is_file() for p in preloads), preloads
        else:
            assert not preloads, page


def test_figures_are_small_sized_and_lazy(fast_site) -> None:
    """Every figure is an SVG of at most 20 KB gzip (the largest publishing figure is ~16 KB), declared with
    its size so the page does not move when it arrives, and loaded only when the reader scrolls near it."""
    site, _ = fast_site
    figures = sorted((site / "figures").glob("*.svg"))
    assert len(figures) >= 20
    for svg in figures:
        size = len(gzip.compress(svg.read_bytes(), 9))
        assert size <= 20_000, f"{svg.name}: {size / 1000:.1f} KB gzip"
    for page in built_pages(site):
        if page.parent.name == "print_page":
            continue  # the whole chapter on one page, made to be printed: every figure is loaded at once
        for tag in re.findall(
            r'<img\b[^>]*src="[^"]*figures/[^"]+\.svg"[^>]*>', page.read_text(encoding="utf-8")
        ):
            assert re.search(r'\bwidth="\d+"', tag) and re.search(r'\bheight="\d+"', tag), tag
            assert 'loading="lazy"' in tag, tag


def test_the_palette_stylesheet_no_longer_restyles_every_page_on_start(fast_site) -> None:
    site, log = fast_site
    (palette,) = (site / "assets" / "stylesheets").glob("palette.*.min.css")
    css = palette.read_text(encoding="utf-8")
    assert "data-md-color-switching" not in css
    assert "[data-md-color-scheme=slate]" in css  # the rest of the palette is untouched
    assert "no longer has the rule" not in log
