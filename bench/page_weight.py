"""Bytes a reader's browser downloads for a page: one measurement for bench/bench.py and bench/lighthouse.py.

A first visit (empty cache) in Debian's Chromium (or $GTT_CHROMIUM) at the size of Lighthouse's phone
screen, served with gzip as GitHub Pages serves it, every image scrolled into view so that lazy figures
load too: the whole page as a reader who reads to the end gets it. Headers are counted with the bodies.
"""

from __future__ import annotations

from lessons_code.chromium import launch, new_context

# Scroll every image into view so lazy figures load, then sum what crossed the network.
SCROLL_IMAGES_JS = """async () => {
  for (const img of document.querySelectorAll("img")) {
    img.scrollIntoView({block: "center"});
    if (!img.complete) await new Promise((done) => { img.onload = img.onerror = done; setTimeout(done, 5000); });
  }
}"""


def full_page_weights(base: str, pages: list[str]) -> dict[str, int]:
    """Bytes transferred per page below `base` (a served site), every figure scrolled into view."""
    from playwright.sync_api import sync_playwright

    weights = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for page_path in pages:
            # Lighthouse's mobile screen; a new context is an empty cache
            context = new_context(browser, viewport={"width": 412, "height": 823})
            page = context.new_page()
            finished = []
            # a Python function, not the bound builtin: Playwright tags the handler with an attribute
            page.on("requestfinished", lambda request, finished=finished: finished.append(request))
            page.goto(base + page_path, wait_until="networkidle")
            page.evaluate(SCROLL_IMAGES_JS)
            page.wait_for_load_state("networkidle")
            weights[page_path] = sum(
                r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in finished
            )
            context.close()
        browser.close()
    return weights
