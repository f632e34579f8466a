"""Pages load fast: off-screen code costs nothing until the reader scrolls to it, the search index every
page downloads leaves out code, and only pages with images load the image lightbox.

Everything here is done on the page's content, before the theme renders it, through the extension points
MkDocs and Material offer:

- every code block carries its number of lines, so that the browser, which lays out off-screen code only
  when the reader comes near it (``content-visibility`` in docs/stylesheets/extra.css), reserves the height
  it will have: nothing moves when it is drawn; a block with long lines starts focusable, because Material
  mounts code blocks only as they come into view (``content.lazy``);
- every ``<pre>`` carries ``data-search-exclude``, which Material's search plugin honours: the index leaves
  out code blocks (a third of its text, 24 KB of gzip on every first visit), readers search the prose, and
  inline code such as ``clip_grad_norm_`` stays in it; so do exercise solutions (``details.success``);
- a page without images to zoom (glossary, references, the explorer, notebooks, whose plots are shown at
  full size) gets no lightbox at all (``glightbox: false`` in its metadata, which mkdocs-glightbox honours).

Scripts: Material's bundle and ``extra_javascript`` are deferred by the ``scripts`` block of
overrides/main.html. The one thing left to the built page is mkdocs-glightbox's own tags (on_post_page
below), and the gradient explorer's script and stylesheet are added by overrides/main.html only to the
pages that embed an explorer. Material's palette stylesheet is patched by hooks/vendor_patch_material.py.
"""

from __future__ import annotations

import re

from mkdocs.plugins import event_priority
from selectolax.lexbor import LexborHTMLParser

GLIGHTBOX_SCRIPT = re.compile(r'<script src="([^"]*/glightbox\.min\.js)"></script>')
GLIGHTBOX_START = re.compile(r'<script id="init-glightbox">(.*?)</script>', re.S)
#: Characters of code a narrow window shows in one line (Material sets code at 0.85 of 16 px: 40 columns
#: of monospace fill about 330 px, the text width of a phone held upright).
NARROW_WINDOW_COLUMNS = 40


# after hooks/notebooks.py (50); before mkdocs-glightbox (0) and mkdocs-print-site (0)
@event_priority(10)
def on_page_content(html, page, **_):
    zoomable = [tag for tag in re.findall(r"<img\b[^>]*>", html) if "off-glb" not in tag]
    if not zoomable and "glightbox" not in page.meta:
        page.meta["glightbox"] = False
    return mark_code_blocks(html) if "<pre" in html else html


def mark_code_blocks(html: str) -> str:
    """Each highlighted block gets its number of lines; each <pre> is left out of the search index."""
    tree = LexborHTMLParser(f"<body>{html}</body>")
    for block in tree.css("div.highlight"):
        code = block.css_first("pre > code")
        # docs/stylesheets/extra.css sizes the block from this before drawing it
        if code is not None:
            text = code.text().rstrip("\n")
            lines = len(text.splitlines()) or 1
            block.attrs["style"] = f"--gtt-code-lines: {lines}"
            # Material makes a block that scrolls sideways focusable (Tab to it, then the arrow keys), but
            # only once it has mounted the block, which it does when the block comes into view (content.lazy
            # in mkdocs.yml): a keyboard reader tabbing down the page would pass over blocks below the fold.
            # So any block with a line that can overflow a narrow window starts focusable; on mounting,
            # Material keeps that on a block that does scroll and removes it from one that fits.
            if max(map(len, text.splitlines()), default=0) > NARROW_WINDOW_COLUMNS:
                code.attrs["tabindex"] = "0"
    # Worked solutions of exercises too: readers look for the lesson's explanation, not an answer's working,
    # and the solutions are a fifth of the prose (the index loads on every first visit).
    for element in tree.css("pre, details.success"):
        element.attrs["data-search-exclude"] = None
    return tree.body.inner_html


@event_priority(-100)  # after mkdocs-glightbox has added its tags
def on_post_page(output, page, **_):
    """Post-processing, because no extension point serves: mkdocs-glightbox writes a parser-blocking
    ``<script src>`` into ``<head>`` and an inline start-up script into ``<body>`` of the built page, with no
    option to defer either. Its script gets ``defer``, and its start-up code, which calls that script and
    Material's ``document$``, waits for ``DOMContentLoaded``, which fires after every deferred script ran."""
    if "glightbox.min.js" not in output:
        return output
    output = GLIGHTBOX_SCRIPT.sub(r'<script defer src="\1"></script>', output, count=1)
    return GLIGHTBOX_START.sub(
        lambda m: (
            f'<script id="init-glightbox">document.addEventListener("DOMContentLoaded", () => {{\n'
            f"{m.group(1)}}});</script>"
        ),
        output,
        count=1,
    )
