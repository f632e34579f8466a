"""Pages load fast: no script holds up the first paint, off-screen code costs nothing until the reader
scrolls to it, and only pages with images load the image lightbox.

Material puts its bundle and ``extra_javascript`` at the end of ``<body>`` without ``defer``, and
mkdocs-glightbox adds its script to ``<head>``; both block the parser, which cost about 0.7 s of first
contentful paint on Lighthouse's mobile preset. Here, after every other plugin has written the page:

- every external ``<script src>`` gets ``defer``: deferred scripts run in document order once parsing is
  done, so Material's bundle still runs before ``extra_javascript`` (which subscribes to its ``document$``);
- mkdocs-glightbox's inline start-up script, which calls the deferred ``GLightbox`` and ``document$``, is
  moved to ``DOMContentLoaded``, which fires after all deferred scripts have run;
- every code block carries its number of lines, so that the browser, which lays out off-screen code only
  when the reader comes near it (``content-visibility`` in docs/stylesheets/extra.css), reserves the height
  it will have: nothing moves when it is drawn;
- the search index, which every page downloads, leaves out code blocks (a third of its text, 24 KB of
  gzip): readers search the prose, and inline code such as ``clip_grad_norm_`` stays in it;
- Material's palette stylesheet loses one rule, ``[data-md-color-switching] *{transition-duration:0s}``:
  Material's script sets and removes that attribute on ``<body>`` when every page starts, and each time
  the rule makes the browser restyle the whole page (two full style recalculations of a lesson's ~3,000
  elements, ~90 ms of main thread on this machine, four times that on Lighthouse's phone). Without it, a
  palette switch lets the few colour transitions play (0.25 s at most);
- a page without images to zoom (glossary, references, the explorer, notebooks, whose plots are shown at
  full size) gets no lightbox at all (``glightbox: false`` in its metadata, which mkdocs-glightbox honours).

The gradient explorer's script and stylesheet are not here: ``overrides/main.html`` adds them only to the
pages that embed an explorer.

The HTML is edited with selectolax, the parser mkdocs-glightbox already runs on every page.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from selectolax.lexbor import LexborHTMLParser

log = logging.getLogger("mkdocs.hooks.page_speed")

GLIGHTBOX_START = "init-glightbox"
CODE_BLOCK = re.compile(r"<pre>.*?</pre>", re.S)
PALETTE_SWITCHING_RULE = (
    "[data-md-color-switching] *,[data-md-color-switching] :after,[data-md-color-switching] :before"
    "{transition-duration:0s!important}"
)


@event_priority(10)  # after hooks/notebooks.py (50), before mkdocs-glightbox (0) wraps images and adds its assets
def on_page_content(html, page, **_):
    zoomable = [tag for tag in re.findall(r"<img\b[^>]*>", html) if "off-glb" not in tag]
    if not zoomable and "glightbox" not in page.meta:
        page.meta["glightbox"] = False
    return html


@event_priority(-100)  # after every plugin has added its tags
def on_post_page(output, page, **_):
    tree = LexborHTMLParser(output)
    for script in tree.css("script[src]"):
        if not any(name in script.attrs for name in ("defer", "async")) and script.attrs.get("type") != "module":
            script.attrs["defer"] = None
    for block in tree.css("div.highlight"):
        code = block.css_first("pre > code")
        if code is not None:  # docs/stylesheets/extra.css sizes the block from this before drawing it
            lines = len(code.text().rstrip("\n").splitlines()) or 1
            block.attrs["style"] = f"--gtt-code-lines: {lines}"
    start = tree.css_first(f"script#{GLIGHTBOX_START}")
    if start is not None:
        deferred = LexborHTMLParser(
            f'<script id="{GLIGHTBOX_START}">document.addEventListener("DOMContentLoaded", () => {{\n'
            f"{start.text()}}});</script>"
        ).css_first("script")
        start.replace_with(deferred)
    return tree.html


@event_priority(-100)  # after Material's search plugin has written the index
def on_post_build(config, **_):
    site = Path(config["site_dir"])
    index = site / "search" / "search_index.json"
    if index.is_file():
        data = json.loads(index.read_text(encoding="utf-8"))
        for doc in data["docs"]:
            doc["text"] = CODE_BLOCK.sub(" ", doc["text"])
        index.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    for theme_dir in config["theme"].dirs:
        for source in (Path(theme_dir) / "assets" / "stylesheets").glob("palette.*.min.css"):
            # Checked in the theme, not the built copy, which a `mkdocs serve --dirty` rebuild may not recopy.
            if PALETTE_SWITCHING_RULE not in source.read_text(encoding="utf-8"):
                # A Material upgrade changed the rule: look again at what its palette script does on start.
                log.warning("page_speed: %s no longer has the rule %s", source.name, PALETTE_SWITCHING_RULE)
            built = site / "assets" / "stylesheets" / source.name
            if built.is_file():
                built.write_text(built.read_text(encoding="utf-8").replace(PALETTE_SWITCHING_RULE, ""), encoding="utf-8")
