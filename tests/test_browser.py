"""The built site in a real browser: every page, both palettes, the way a reader meets it.

One Chromium (Debian's, or $GTT_CHROMIUM) driven by Playwright and one gzip server on 127.0.0.1 serve the
whole session. The site is a strict fast build made for that server's address (as the Pages workflow
builds for its own). Every page is visited once per palette; the visits collect console errors,
requests, images, visible text, maths, figure contrast, axe-core's findings and what each copy button
puts on the clipboard, and the tests below judge them. In the light pass each page is also switched to the
dark palette with the toggle, as a reader does, and checked again once it has settled (issue 17: colours
that were right on arrival in dark mode went stale after a switch). The palette toggle, instant navigation,
the lightbox, search and the glossary marks under keyboard focus get tests of their own.

Chromium missing: these tests fail when $CI is set (CI must run them) and skip locally with the command
that installs it.
"""

from __future__ import annotations

import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlparse

import numpy as np
import pytest

from conftest import launch, new_context

REPO = Path(__file__).absolute().parent.parent


pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PALETTES = {"light": "default", "dark": "slate"}
# TeX that must never reach the reader: delimiters and commands KaTeX should have turned into HTML.
RAW_TEX = re.compile(
    r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(?:frac|sum|prod|partial|mathbf|left|right|begin|sigma|rho|lambda)\b"
)
# Notebook outputs: hooks/notebooks.py renders them as .gtt-nb-output; stock mkdocs-jupyter as .jp-OutputArea-output.
NOTEBOOK_OUTPUTS = ".md-content .gtt-nb-output, .md-content .jp-OutputArea-output"
# Words the search must find once a page contains them (lessons 5 and 7); "spectral radius" is lesson 2's.
SEARCH_PHRASES = ["clipping", "forget gate", "spectral radius"]

# Visible text of the page: everything a reader sees, minus code, KaTeX's hidden MathML copy (its
# <annotation> holds the TeX source on purpose) and the search index UI.
VISIBLE_TEXT_JS = """() => {
  const skip = "script, style, pre, code, .katex-mathml, .md-search, noscript, template";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return parts.join(" ");
}"""

# Bring every image into view (lazy ones load then) and report how it loaded.
IMAGES_JS = """async () => {
  const images = [...document.querySelectorAll("img")];
  for (const img of images) {
    img.scrollIntoView({block: "center"});
    if (!img.complete) {
      await new Promise((done) => {
        img.addEventListener("load", done, {once: true});
        img.addEventListener("error", done, {once: true});
        setTimeout(done, 5000);
      });
    }
  }
  window.scrollTo(0, 0);
  return images.map((img) => ({
    src: img.getAttribute("src"), alt: img.getAttribute("alt"), complete: img.complete,
    naturalWidth: img.naturalWidth, hidden: img.getAttribute("aria-hidden") === "true",
    inContent: !!img.closest(".md-content"), figure: !!img.closest(".gtt-figure"),
  }));
}"""

# Interactive figures (the gradient explorer): how many there are, how many started, how many failed.
WIDGETS_JS = """() => ({
  widgets: document.querySelectorAll(".md-content .gtt-explorer").length,
  started: [...document.querySelectorAll(".md-content .gtt-explorer")].filter((w) => w.querySelector("input")).length,
  failed: document.querySelectorAll(".md-content .gtt-explorer__error").length,
})"""

MATHS_JS = """async () => {
  // Off-screen maths is drawn only when a reader nears it (content-visibility, docs/stylesheets/extra.css), and
  // a font is fetched once drawn text needs it: go to the first formula as a reader would.
  document.querySelector(".katex")?.scrollIntoView({block: "center"});
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await document.fonts.ready;
  const fonts = [...document.fonts].filter((f) => f.family.replace(/"/g, "").startsWith("KaTeX_"));
  return {
    katex: document.querySelectorAll(".katex").length,
    errors: document.querySelectorAll(".katex-error").length,
    fontsLoaded: fonts.filter((f) => f.status === "loaded").length,
    fontsFailed: fonts.filter((f) => f.status === "error").map((f) => f.family),
  };
}"""

# What a reader does before copying a block in a collapsed "??? solution" or an inactive tab: open it.
REVEAL_JS = """(block) => {
  for (let d = block.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
  for (let tab = block.closest(".tabbed-block"); tab; tab = tab.parentElement.closest(".tabbed-block")) {
    const index = [...tab.parentElement.children].indexOf(tab);
    tab.closest(".tabbed-set").querySelectorAll(":scope > input")[index].click();
  }
}"""

# The dark pass runs the axe-core rules a palette can change; the light pass runs every rule. The two
# palettes differ only in colours (custom properties) and in which palette-toggle label is shown, and
# re-running the structural rules on the same DOM would cost a fifth of the time budget for nothing.
AXE_PALETTE_RULES = [
    "color-contrast",
    "link-in-text-block",
    "label",
    "button-name",
    "aria-hidden-focus",
    "nested-interactive",
]
AXE_JS = """async (only) => {
  const options = {resultTypes: ["violations"]};
  if (only) options.runOnly = {type: "rule", values: only};
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").split("\\n").slice(1, 2).join("").trim()),
    count: v.nodes.length,
  }));
}"""


# ---------------------------------------------------------------- browser, server, pages


@pytest.fixture(scope="session", autouse=True)
def axe_is_installed() -> None:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (axe-core is a devDependency in package.json)")


@pytest.fixture(scope="session")
def site(served) -> Path:
    return served[0]


@pytest.fixture(scope="session")
def base_url(served) -> str:
    return served[1]


def site_pages(site: Path) -> list[str]:
    """Every page of the built site as a path below the base URL ("" for the home page)."""
    pages = sorted(p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html"))
    return ["" if p == "./" else p for p in pages if not p.startswith(("assets/", "search/"))]


@dataclass
class Visit:
    """What one page did when visited in one palette."""

    page: str
    palette: str
    scheme: str = ""
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    visible_text: str = ""
    maths: dict = field(default_factory=dict)
    axe: list[dict] = field(default_factory=list)
    figure_contrast: dict[str, tuple[float, float]] = field(default_factory=dict)
    copies: list[dict] = field(default_factory=list)
    widgets: dict = field(default_factory=dict)
    # light pass: after switching to dark with the toggle
    toggled: dict = field(default_factory=dict)


class Recorder:
    """Console errors, uncaught exceptions and requests to other hosts of one browser page."""

    def __init__(self, page) -> None:
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.failed_requests: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.console_errors.append(f"console.{m.type}: {m.text} at {m.location.get('url')}")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.on("request", self._request)
        page.on(
            "requestfailed",
            lambda r: (
                self.failed_requests.append(f"{r.url} ({r.failure})")
                if urlparse(r.url).hostname in LOCAL_HOSTS
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.failed_requests.append(f"{r.url} (HTTP {r.status})")
                if r.status >= 400
                else None
            ),
        )

    def _request(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL_HOSTS:
            self.foreign_requests.append(request.url)

    def drain(self) -> tuple[list[str], list[str], list[str]]:
        out = (self.console_errors, self.foreign_requests, self.failed_requests)
        self.console_errors, self.foreign_requests, self.failed_requests = [], [], []
        return out


def luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour given as 0-255 channels."""
    return float(relative_luminance(np.asarray(rgb[:3], dtype=float)))


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def figure_contrast(png: bytes) -> tuple[float, float]:
    """(luminance of the figure's background, contrast ratio of its darkest ink against it), measured on
    the pixels the reader sees (a screenshot of the image as displayed)."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float).reshape(-1, 3)
    values = relative_luminance(pixels)
    background = float(np.median(values))  # the card covers most of a figure
    ink = float(np.quantile(values, 0.001))  # the darkest 0.1 %: axis labels, ticks, lines
    return background, (background + 0.05) / (ink + 0.05)


def figure_contrasts(page) -> dict[str, tuple[float, float]]:
    """figure_contrast() of every figure on the page, keyed by image path, once all images have loaded."""
    page.evaluate(IMAGES_JS)
    return {
        urlparse(img.get_attribute("src")).path: figure_contrast(img.screenshot())
        for img in page.locator(".gtt-figure img").all()
    }


COPY_BUTTON = "button[data-md-type=copy], button.md-clipboard"
PALETTE_TOGGLE = "form[data-md-component=palette] label:not([hidden])"
# CSS transitions still running: after a palette switch every one should have ended within Material's
# 0.25 s, so the checks that follow see the settled page.
RUNNING_TRANSITIONS_JS = """() => document.getAnimations()
  .filter((a) => a.playState === "running" && a.transitionProperty)
  .map((a) => `${a.effect.target.tagName.toLowerCase()}.${[...a.effect.target.classList].join(".")} ${a.transitionProperty}`)"""


def switch_palette(page, to: str) -> dict:
    """Click the palette toggle as a reader does, wait until the page has settled, and say what is left."""
    page.locator(PALETTE_TOGGLE).click()
    page.wait_for_function("s => document.body.getAttribute('data-md-color-scheme') === s", arg=to)
    page.wait_for_timeout(400)  # longer than Material's longest colour transition (0.25 s)
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    # On a busy machine a healthy 0.25 s transition can still be finishing: allow it 30 s, over a hundred times
    # its length (a hang guard, not a budget). One that never advances (what content-visibility did to the
    # code backgrounds) is still running after them, and the test reports it.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => ({RUNNING_TRANSITIONS_JS})().length === 0", timeout=30_000)
    except PlaywrightTimeout:
        pass
    return {
        "scheme": page.evaluate("document.body.getAttribute('data-md-color-scheme')"),
        "running": sorted(set(page.evaluate(RUNNING_TRANSITIONS_JS))),
    }


def copy_every_block(page, path: str) -> list[dict]:
    """Press the copy button of every code block as a reader would; what the clipboard then holds."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    copies = []
    blocks = page.locator(".md-content div.highlight:has(pre > code)")
    for i in range(blocks.count()):
        block, where = blocks.nth(i), f"/{path} code block {i + 1}"
        code = block.locator("pre > code")
        copy = {
            "where": where,
            "classes": (block.get_attribute("class") or "").split(),
            "text": None,
            "shown": code.evaluate("c => c.textContent"),
            "line_numbers": code.locator(".linenos, .lineno").count(),
        }
        copies.append(copy)
        block.evaluate(REVEAL_JS)
        # Material adds the button when the block first comes into view (content.lazy in mkdocs.yml)
        block.scroll_into_view_if_needed()
        button = block.locator(COPY_BUTTON).first
        try:
            button.wait_for(state="attached")
        except PlaywrightTimeout:
            continue
        page.evaluate("navigator.clipboard.writeText('')")
        button.click()
        page.wait_for_function("() => navigator.clipboard.readText().then((t) => t.length > 0)")
        copy["text"] = page.evaluate("navigator.clipboard.readText()")
    return copies


#: The whole chapter on one page repeats the lessons, which are visited and checked one by one; on it only
#: loading, requests, images and maths are checked here (tests/test_print_pdf.py checks the page and its PDF).
PRINT_PAGE = "print_page/"


def toggles_here(path: str) -> bool:
    """Pages that also get the toggled-palette pass: every lesson, the home page and one notebook page. The
    stale styles it catches sat in code blocks, which these pages all have; the fix is one rule for all."""
    return path == "" or bool(re.match(r"\d\d-", path)) or path == "notebooks/l07_gates/"


def visit_every_page(browser, base_url: str, site: Path, palette: str) -> dict[str, Visit]:
    context = new_context(browser, color_scheme=palette, viewport={"width": 1280, "height": 900})
    if palette == "light":
        context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/")
        )
    page = context.new_page()
    recorder = Recorder(page)
    axe_source = AXE.read_text(encoding="utf-8")
    visits = {}
    for path in site_pages(site):
        visit = Visit(path, palette)
        page.goto(base_url + path, wait_until="load")
        visit.scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        visit.images = page.evaluate(IMAGES_JS)
        visit.maths = page.evaluate(MATHS_JS)
        visit.visible_text = page.evaluate(VISIBLE_TEXT_JS)
        visit.widgets = page.evaluate(WIDGETS_JS)
        if path != PRINT_PAGE:
            if palette == "dark":
                visit.figure_contrast = figure_contrasts(page)
            page.add_script_tag(content=axe_source)
            visit.axe = page.evaluate(AXE_JS, AXE_PALETTE_RULES if palette == "dark" else None)
        if palette == "light" and path != PRINT_PAGE:
            # after axe: the "Copied" toast is not page content
            visit.copies = copy_every_block(page, path)
            if toggles_here(path):
                visit.toggled = switch_palette(page, "slate")
                visit.toggled["axe"] = page.evaluate(AXE_JS, AXE_PALETTE_RULES)
                # the choice is remembered: the next page starts light again
                switch_palette(page, "default")
        # late requests (search index, sitemap) are this page's
        page.wait_for_load_state("networkidle")
        visit.console_errors, visit.foreign_requests, visit.failed_requests = recorder.drain()
        visits[path] = visit
    context.close()
    return visits


def visit_in_own_browser(base_url: str, site: Path, palette: str) -> dict[str, Visit]:
    """visit_every_page() with a Chromium of this thread's own (Playwright's sync API: one per thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            return visit_every_page(chromium, base_url, site, palette)
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def visits(browser, base_url, site) -> dict[str, dict[str, Visit]]:
    """{palette: {page: Visit}} for every page of the site in the light and the dark palette.

    The dark pass runs in a second Chromium on a thread of its own, beside the light pass: much of a visit
    is waiting (loads, transitions, the clipboard), so the two passes together take little more than one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        dark = pool.submit(visit_in_own_browser, base_url, site, "dark")
        light = visit_every_page(browser, base_url, site, "light")
        return {"light": light, "dark": dark.result()}


def all_visits(visits) -> list[Visit]:
    return [v for by_page in visits.values() for v in by_page.values()]


def label(visit: Visit) -> str:
    return f"/{visit.page} ({visit.palette})"


# ---------------------------------------------------------------- every page, both palettes


def test_the_site_has_its_pages(visits, site) -> None:
    pages = site_pages(site)
    assert "" in pages and any(re.match(r"\d\d-", p) for p in pages), pages
    assert set(visits["light"]) == set(visits["dark"]) == set(pages)


def test_no_console_errors_and_no_failed_requests(visits) -> None:
    problems = {
        label(v): v.console_errors + v.failed_requests
        for v in all_visits(visits)
        if v.console_errors or v.failed_requests
    }
    assert not problems, json.dumps(problems, indent=1)


def test_no_request_leaves_the_local_server(visits) -> None:
    foreign = {label(v): v.foreign_requests for v in all_visits(visits) if v.foreign_requests}
    assert not foreign, (
        "pages reached other hosts (fonts, maths and scripts must be served by the site):\n"
        + json.dumps(foreign, indent=1)
    )


def test_every_image_loads_and_has_meaningful_alt_text(visits) -> None:
    problems = []
    for visit in visits["light"].values():
        for img in visit.images:
            where = f"/{visit.page} {img['src']}"
            if not (img["complete"] and img["naturalWidth"] > 0):
                problems.append(f"{where}: did not load")
            alt = (img["alt"] or "").strip()
            if img["alt"] is None:
                problems.append(f"{where}: no alt attribute")
            elif img["inContent"] and not img["hidden"]:
                stem = Path(urlparse(img["src"]).path).stem
                if (
                    len(alt) < 40
                    or len(alt.split()) < 6
                    or stem in alt
                    or alt.lower() in ("image", "figure", "plot")
                ):
                    problems.append(f"{where}: alt text does not describe the image: {alt!r}")
    assert not problems, "\n".join(problems)


def test_every_figure_is_an_image_that_loaded(visits, site) -> None:
    for visit in visits["light"].values():
        html = (site / visit.page / "index.html").read_text(encoding="utf-8")
        expected = html.count('class="gtt-figure"')
        loaded = [img for img in visit.images if img["figure"] and img["naturalWidth"] > 0]
        assert len(loaded) == expected, f"/{visit.page}: {len(loaded)} of {expected} figures loaded"


def test_maths_is_rendered_and_no_raw_tex_is_visible(visits, site) -> None:
    for visit in all_visits(visits):
        raw = sorted({m.group(0) for m in RAW_TEX.finditer(visit.visible_text)})
        assert not raw, f"{label(visit)} shows unrendered TeX: {raw}"
        html = (site / visit.page / "index.html").read_text(encoding="utf-8")
        expected = html.count('class="katex"')
        assert visit.maths["katex"] == expected, (
            f"{label(visit)}: {visit.maths} (expected {expected} formulas)"
        )
        assert visit.maths["errors"] == 0, f"{label(visit)}: KaTeX errors on the page"
        assert not visit.maths["fontsFailed"], (
            f"{label(visit)}: KaTeX fonts failed: {visit.maths['fontsFailed']}"
        )
        if expected:
            assert visit.maths["fontsLoaded"] > 0, (
                f"{label(visit)}: formulas but no KaTeX font loaded"
            )


def test_interactive_figures_start_on_every_page(visits) -> None:
    for visit in all_visits(visits):
        w = visit.widgets
        assert w["failed"] == 0 and w["started"] == w["widgets"], f"{label(visit)}: {w}"


def test_each_palette_is_applied(visits) -> None:
    for palette, scheme in PALETTES.items():
        wrong = {v.page: v.scheme for v in visits[palette].values() if v.scheme != scheme}
        assert not wrong, f"{palette} visits did not get the {scheme} scheme: {wrong}"


def test_figures_stay_legible_in_the_dark_palette(visits) -> None:
    measured = {
        f"/{v.page} {src}": m
        for v in visits["dark"].values()
        for src, m in v.figure_contrast.items()
    }
    assert measured or not any(v.images for v in visits["dark"].values())
    for where, (background, contrast) in measured.items():
        # The figure brings its own light card (lessons_code/plotting.py) so dark ink stays readable.
        assert background > 0.8, (
            f"{where}: figure background is dark ({background:.2f}) on the dark page"
        )
        assert contrast >= 4.5, f"{where}: ink-to-background contrast only {contrast:.1f}:1"


@pytest.mark.parametrize("palette", [*PALETTES, "dark after the toggle"])
def test_axe_finds_no_serious_or_critical_violations(visits, palette: str) -> None:
    found = {}
    toggled = palette not in PALETTES
    for visit in visits["light" if toggled else palette].values():
        if toggled and not visit.toggled:
            continue
        bad = [
            v
            for v in (visit.toggled["axe"] if toggled else visit.axe)
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            found[label(visit)] = [
                f"{v['impact']} {v['id']} ({v['count']}x): {v['help']}; e.g. {v['nodes'][:2]}"
                for v in bad
            ]
    assert not found, json.dumps(found, indent=1)


def test_the_dark_palette_after_the_toggle_is_settled_and_complete(visits) -> None:
    """After a switch every colour has arrived. Code the browser had not drawn yet (content-visibility) kept
    the light palette's background under the dark palette's tokens, because Material fades that background
    and a fade there does not advance: axe measured 2.3:1 on 16 pages. The running-transition check makes
    sure the page had settled before axe looked."""
    toggled = [visit for visit in visits["light"].values() if visit.toggled]
    # every lesson, the home page and a notebook page
    assert len(toggled) >= 10, [v.page for v in toggled]
    for visit in toggled:
        assert visit.toggled["scheme"] == "slate", (
            f"/{visit.page}: the toggle did not switch to dark"
        )
        assert not visit.toggled["running"], (
            f"/{visit.page}: transitions still running after the switch: {visit.toggled['running']}"
        )
        contrast = [v for v in visit.toggled["axe"] if v["id"] == "color-contrast"]
        assert not contrast, f"/{visit.page} (dark after the toggle): {contrast}"


def test_landmarks_are_unique(visits) -> None:
    """Each landmark has its own role and name (Material's per-code-block <nav> was an unnamed landmark each)."""
    found = {
        label(v): [
            x
            for x in v.axe
            if x["id"]
            in (
                "landmark-unique",
                "landmark-no-duplicate-contentinfo",
                "landmark-no-duplicate-main",
            )
        ]
        for v in visits["light"].values()
    }
    found = {page: v for page, v in found.items() if v}
    assert not found, json.dumps(found, indent=1)


# ---------------------------------------------------------------- interactions


@pytest.fixture
def context(browser, base_url):
    context = new_context(browser, viewport={"width": 1280, "height": 900}, color_scheme="light")
    yield context
    context.close()


def lesson_pages(site: Path) -> list[str]:
    return [p for p in site_pages(site) if re.match(r"\d\d-", p)]


def test_the_palette_toggle_switches_between_light_and_dark(context, base_url, site) -> None:
    page = context.new_page()
    recorder = Recorder(page)
    lesson = lesson_pages(site)[0]
    page.goto(base_url + lesson, wait_until="load")

    def scheme_and_background() -> tuple[str, float]:
        scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        rgb = page.evaluate("getComputedStyle(document.body).backgroundColor")
        return scheme, luminance([float(x) for x in re.findall(r"[\d.]+", rgb)[:3]])

    toggle = page.locator("form[data-md-component=palette] label:not([hidden])")
    assert scheme_and_background()[0] == "default"
    toggle.click()
    scheme, background = scheme_and_background()
    assert scheme == "slate" and background < 0.05, (scheme, background)
    for src, (card, contrast) in figure_contrasts(page).items():
        assert card > 0.8 and contrast >= 4.5, (src, card, contrast)
    # The choice is kept while reading on.
    next_link = page.locator("a.md-footer__link--next")
    if next_link.count():
        target = urljoin(page.url, next_link.get_attribute("href"))
        next_link.click()
        page.wait_for_url(target)
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    page.locator("form[data-md-component=palette] label:not([hidden])").click()
    scheme, background = scheme_and_background()
    assert scheme == "default" and background > 0.9, (scheme, background)
    assert recorder.drain() == ([], [], [])


def test_instant_navigation_keeps_maths_outputs_and_widgets_working(
    context, base_url, site
) -> None:
    """Walk the whole site through the footer's next links without a full page load, then back."""
    page = context.new_page()
    recorder = Recorder(page)
    page.goto(base_url, wait_until="load")
    page.evaluate("window.__gtt_no_reload = true")
    seen = [""]

    def check(path: str) -> None:
        html = (site / path / "index.html").read_text(encoding="utf-8")
        title = unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1))
        page.wait_for_function("t => document.title === t", arg=title)
        assert page.evaluate("window.__gtt_no_reload === true"), (
            f"/{path} was a full page load, not instant navigation"
        )
        counts = page.evaluate(
            """() => ({
            katex: document.querySelectorAll('.md-content .katex').length,
            errors: document.querySelectorAll('.katex-error').length,
            outputs: document.querySelectorAll(OUTPUTS).length,
            visibleOutputs: [...document.querySelectorAll(OUTPUTS)].filter((e) => e.offsetHeight > 0).length,
        })""".replace("OUTPUTS", json.dumps(NOTEBOOK_OUTPUTS))
        )
        assert counts["katex"] == html.count('class="katex"') and counts["errors"] == 0, (
            path,
            counts,
        )
        expected_outputs = len(
            re.findall(r'class="[^"]*\b(?:gtt-nb-output|jp-OutputArea-output)\b', html)
        )
        assert counts["outputs"] == counts["visibleOutputs"] == expected_outputs, (path, counts)
        # Interactive figures (the gradient explorer) start on the new page, their script loaded on the way
        # if the page before had none.
        page.wait_for_function(f"() => (({WIDGETS_JS})()).started === (({WIDGETS_JS})()).widgets")
        widgets = page.evaluate(WIDGETS_JS)
        assert widgets["failed"] == 0 and widgets["started"] == widgets["widgets"], (path, widgets)
        raw = sorted({m.group(0) for m in RAW_TEX.finditer(page.evaluate(VISIBLE_TEXT_JS))})
        assert not raw, f"/{path} after instant navigation shows raw TeX: {raw}"

    while (next_link := page.locator("a.md-footer__link--next")).count():
        target = urljoin(page.url, next_link.get_attribute("href"))
        next_link.click()
        page.wait_for_url(target)
        path = target.removeprefix(base_url)
        check(path)
        seen.append(path)
    assert len(seen) >= 2, "the footer offers no next page"
    for path in list(reversed(seen[:-1]))[:3]:  # and a few steps back through the history
        page.go_back()
        page.wait_for_url(base_url + path)
        check(path)
    assert recorder.drain() == ([], [], [])


def test_a_figure_opens_full_size_before_and_after_instant_navigation(
    context, base_url, site
) -> None:
    pages = [
        p
        for p in lesson_pages(site)
        if 'class="glightbox"' in (site / p / "index.html").read_text(encoding="utf-8")
    ]
    if len(pages) < 2:
        pytest.skip("fewer than two lesson pages with figures")
    page = context.new_page()
    recorder = Recorder(page)
    page.goto(base_url + pages[0], wait_until="load")
    page.evaluate("window.__gtt_no_reload = true")
    for path in pages[:2]:
        if path != pages[0]:
            # Material intercepts it
            page.locator(f'.md-nav a[href$="{path}"]').first.dispatch_event("click")
            page.wait_for_url(base_url + path)
            assert page.evaluate("window.__gtt_no_reload === true")
        page.locator("a.glightbox").first.click()
        page.locator(".glightbox-container .gslide-image img").first.wait_for()
        page.keyboard.press("Escape")
        page.locator(".glightbox-container").wait_for(state="detached")
    assert recorder.drain() == ([], [], [])


def pages_mentioning(site: Path, phrase: str) -> set[str]:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    return {
        doc["location"].split("#")[0]
        for doc in index["docs"]
        if phrase in re.sub(r"<[^>]+>|\s+", " ", doc["title"] + " " + doc["text"]).lower()
    }


@pytest.mark.parametrize("phrase", SEARCH_PHRASES)
def test_search_finds_the_pages_that_mention_a_phrase(context, base_url, site, phrase: str) -> None:
    expected = pages_mentioning(site, phrase)
    if not expected:
        pytest.skip(
            f"no page mentions {phrase!r} yet; this test searches for it as soon as one does"
        )
    page = context.new_page()
    recorder = Recorder(page)
    page.goto(base_url + lesson_pages(site)[0], wait_until="load")
    # Typed key by key, as a reader types: Material reads the box on keyup, on focus (1 ms debounced) and when
    # its worker is ready. fill() focuses, then inserts the text in a second step with no keyup; when the two
    # were more than 1 ms apart and the worker was already ready, the query was never read (two fresh-clone
    # runs failed so, one of them idle).
    page.locator(".md-search__input").press_sequentially(phrase)
    results = page.locator(".md-search-result__item a.md-search-result__link")
    results.first.wait_for()  # the worker may still be indexing: up to the hang guard
    found = {
        urlparse(urljoin(page.url, href)).path.removeprefix(urlparse(base_url).path)
        for href in results.evaluate_all("links => links.map((a) => a.getAttribute('href'))")
    }
    assert found & expected, (
        f"search for {phrase!r} found {sorted(found)}, pages with it: {sorted(expected)}"
    )
    results.first.click()  # and a result leads to its page
    page.wait_for_url(lambda url: urlparse(url).path.removeprefix(urlparse(base_url).path) in found)
    assert recorder.drain() == ([], [], [])


def test_copy_button_puts_runnable_code_on_the_clipboard(visits) -> None:
    copies = [c for visit in visits["light"].values() for c in visit.copies]
    assert copies, "no code block on any page"
    for copy in copies:
        where, text = copy["where"], copy["text"]
        assert text is not None, f"{where} has no copy button"
        assert text.rstrip("\n") == copy["shown"].rstrip("\n"), (
            f"{where}: clipboard differs from the code shown"
        )
        # Pygments' "inline" line numbers are text inside <code> and would be copied; the table style is not.
        assert not copy["line_numbers"], f"{where}: line numbers inside the copied code"
        if "language-python" in copy["classes"] and "show-only" not in copy["classes"]:
            # Runnable Python: it parses (no line numbers, no prompts). tests/test_copy_paste.py runs it.
            compile(text, where, "exec")


def test_a_glossary_mark_gives_its_definition_without_a_mouse(context, base_url, site) -> None:
    """The first use of a term is a link: keyboard users reach it with Tab and see the definition beside it,
    screen readers get the definition as the link's description, and the link leads to the entry."""
    from playwright.sync_api import expect

    page = context.new_page()
    recorder = Recorder(page)
    lesson = next(
        p
        for p in lesson_pages(site)
        if "gtt-glossary-link" in (site / p / "index.html").read_text(encoding="utf-8")
    )
    page.goto(base_url + lesson, wait_until="load")
    link = page.locator(".md-content a.gtt-glossary-link").first
    definition = link.locator("abbr").get_attribute("title")
    assert definition and ": " in definition
    expect(link).to_have_accessible_description(definition)
    hidden = link.locator("abbr").evaluate("(a) => getComputedStyle(a, '::after').content")
    assert hidden in ("none", "normal"), f"the definition shows without focus: {hidden}"
    # keyboard use, so that focus is shown as it is for a reader who tabs
    page.keyboard.press("Tab")
    link.focus()
    shown = link.locator("abbr").evaluate("(a) => getComputedStyle(a, '::after').content")
    assert shown == json.dumps(definition), (
        f"on keyboard focus the definition shows beside the term: {shown}"
    )
    target = urlparse(link.get_attribute("href")).fragment  # read before the link is followed
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith(f"glossary/#{target}"))
    entry = page.locator(f"[id='{target}'] + p").inner_text()
    term = definition.split(": ", 1)[1]
    assert entry.lower().startswith(term[:40].lower()), (entry[:80], term[:80])
    assert recorder.drain() == ([], [], [])


# Every layout shift the page reports from the moment this runs (buffered: from the start of the load).
LAYOUT_SHIFTS_JS = """() => {
  window.__gtt_shifts = [];
  new PerformanceObserver((list) => {
    for (const shift of list.getEntries()) window.__gtt_shifts.push(shift.value);
  }).observe({type: "layout-shift", buffered: true});
}"""


def draw_every_block(route) -> None:
    """Serve extra.css with content-visibility turned off: the page as it was before blocks were skipped."""
    css = route.fetch().text().replace("content-visibility: auto", "content-visibility: visible")
    route.fulfill(body=css, content_type="text/css")


@pytest.mark.parametrize("viewport", [(412, 823), (1280, 800)], ids=["phone", "desktop"])
def test_skipped_blocks_move_nothing_when_drawn(browser, base_url, site, viewport) -> None:
    """Off-screen paragraphs, lists and maths are drawn only when a reader nears them (content-visibility in
    docs/stylesheets/extra.css): loading a lesson and scrolling to its end shifts nothing on screen, the
    blocks skipped at load are drawn on the way, and a link to a late heading brings it on screen, with the
    skipping and without it."""
    width, height = viewport
    context = new_context(browser, viewport={"width": width, "height": height})
    page = context.new_page()
    for lesson in lesson_pages(site):
        page.goto(base_url + lesson, wait_until="networkidle")
        page.evaluate(LAYOUT_SHIFTS_JS)
        skipped = page.evaluate(
            "() => [...document.querySelectorAll('.md-typeset > p > *')]"
            ".filter((e) => !e.checkVisibility({contentVisibilityAuto: true})).length"
        )
        assert skipped > 0, (
            f"/{lesson}: nothing is skipped at load; is the rule in extra.css applied?"
        )
        while page.evaluate("scrollY + innerHeight < document.documentElement.scrollHeight - 1"):
            page.mouse.wheel(0, height)
            page.wait_for_timeout(30)
        page.wait_for_timeout(300)
        shifts = page.evaluate("window.__gtt_shifts")
        assert sum(shifts) < 0.01, f"/{lesson} at {width} px: layout shifts {shifts}"
        heading = page.evaluate("[...document.querySelectorAll('article h2[id]')].at(-2).id")
        landed = {}
        for skipping in (True, False):
            if not skipping:  # the same page with the rule turned off, to compare with
                page.route("**/stylesheets/extra.css", draw_every_block)
            page.goto("about:blank")
            page.goto(f"{base_url}{lesson}#{heading}", wait_until="networkidle")
            # fonts in, then two frames: the page has settled where it lands
            page.evaluate(
                "() => document.fonts.ready.then(() => new Promise((done) =>"
                " requestAnimationFrame(() => requestAnimationFrame(done))))"
            )
            page.wait_for_timeout(300)
            landed[skipping] = page.evaluate(
                f"document.getElementById('{heading}').getBoundingClientRect().top"
            )
        page.unroute("**/stylesheets/extra.css")
        # on screen, under the header: a fresh load that follows a link to a heading lands on it, as it does
        # with every block drawn (where exactly varies with load timing, with or without skipping: 68-205 px)
        for skipping, top in landed.items():
            assert 40 <= top <= height - 100, (
                f"/{lesson}#{heading} lands at {top} px (blocks skipped: {skipping}), off screen"
            )
    context.close()
