"""The whole chapter as one printable page (print_page/) and as a PDF made from it during the build.

mkdocs-print-site-plugin joins the lessons, the glossary and the references into one page, in the order of
the navigation, with their links turned into links inside that page, and Material's print stylesheet lays
it out for paper. This hook finishes that page and prints it:

- the page copies that mkdocs-print-site keeps are made for paper (on_page_content, after it has kept
  them): the interactive explorer becomes a line pointing to it online, and a figure no longer links to
  its SVG file (the lightbox, which is not there on paper);
- on the finished page (on_post_build, post-processing, because mkdocs-print-site renders it only then,
  after every page event has run): maths is rendered with hooks/maths.py as on every other page, the
  table of contents is written into the HTML (the plugin copies it with JavaScript, and would list the
  navigation sections that have no printed page), and a link to a page that is not printed points to it
  online, so every link inside the page lands on something;
- Chromium prints that page to ``gradients-through-time.pdf`` beside it (Playwright's ``page.pdf``, Debian's
  Chromium): A4, page numbers in the footer, PDF bookmarks from the headings (the outline) as well as the
  printed contents, links between lessons that jump inside the PDF, figures as vectors, fonts embedded.

mkdocs-print-site adds its stylesheets and script to every page; they are needed only on the print page,
and on every other page they would be two more render-blocking requests, so they are taken off (on_config)
and put back just before the print page is rendered (on_post_build, before the plugin's).

No Chromium: in CI ($CI set) the build fails, because the PDF must be made there; elsewhere an info line
says so and the build goes on without the PDF (`make serve` works on a machine without Chromium), as
tests/conftest.py treats a missing browser. `mkdocs serve` makes no PDF at all (seconds on every rebuild):
`mkdocs build` does. GTT_CHROMIUM points at another Chrome or Chromium binary.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url
from selectolax.lexbor import LexborHTMLParser

from lessons_code import hang_guard
from lessons_code.chromium import chromium_executable, hang_guard_ms, launch, new_context

log = logging.getLogger("mkdocs.hooks.print_pdf")

PLUGIN = "print-site"
PDF_NAME = "gradients-through-time.pdf"
PRINT_CSS = "stylesheets/print.css"  # the print page's own stylesheet, after mkdocs-print-site's
PDF_BUDGET_BYTES = 10_000_000  # issue 17
PDF_BUDGET_S = 60.0
FOOTER = (
    '<div style="width:100%;font-size:9px;color:#555;padding:0 12mm;display:flex;justify-content:space-between">'
    '<span>{title}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
)

_state: dict = {"command": "build", "pdf": None, "assets": ([], []), "pages": []}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    """CI must make the PDF; elsewhere the build goes on without it."""
    if in_ci():
        raise PluginError(
            f"print_pdf: {reason}, and CI is set, so the PDF must be made: "
            "install Debian's Chromium (`apt-get install chromium`) or set GTT_CHROMIUM"
        )
    log.info("print_pdf: %s: no PDF this time (`apt-get install chromium` to make it)", reason)
    _state["pdf"] = None


def on_startup(command, **_):
    _state["command"] = command


def on_config(config, **_):
    if PLUGIN not in config.plugins:
        raise PluginError(
            "print_pdf: mkdocs-print-site-plugin is not configured (plugins: - print-site)"
        )

    def ours(entry) -> bool:
        return "print-site" in str(entry)

    _state["assets"] = (
        [c for c in config.extra_css if ours(c)],
        [j for j in config.extra_javascript if ours(j)],
    )
    config.extra_css[:] = [c for c in config.extra_css if not ours(c)]
    config.extra_javascript[:] = [j for j in config.extra_javascript if not ours(j)]
    _state["pdf"] = True
    if _state["command"] == "serve":
        log.info(
            "print_pdf: `mkdocs serve` makes no PDF (`mkdocs build` does); the print page is at print_page/"
        )
        _state["pdf"] = None
    elif not chromium_executable().exists():
        _unavailable(f"no Chromium at {chromium_executable()}")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            _unavailable("the Python package playwright is not installed")
    macros = config.plugins.get("macros")
    if macros is not None:
        macros.register_macros({"read_offline": read_offline})
    return config


def read_offline() -> str:
    """The home page's links to the print page and, when this build makes one, the PDF."""
    pdf = f' or as a <a href="{PDF_NAME}" download>PDF</a>' if _state["pdf"] else ""
    return (
        f'<p class="gtt-read-offline">Read the whole chapter on <a href="print_page/">one page</a>{pdf}, '
        "with every figure and formula, to print or read offline.</p>"
    )


def _is_printed(page, config) -> bool:
    from mkdocs_print_site_plugin.exclude import exclude

    return not exclude(page.file.src_path, config.plugins[PLUGIN].config["exclude"])


@event_priority(-10)  # after mkdocs-print-site (0) has kept the page's HTML as page.html
def on_page_content(html, page, config, **_):
    if not hasattr(page, "html") or not _is_printed(page, config):
        return html
    tree = LexborHTMLParser(f"<body>{page.html}</body>")
    for explorer in tree.css("div.gtt-explorer"):
        note = LexborHTMLParser(
            f'<p class="gtt-print-note"><em>An interactive explorer stands here in the online version: '
            f'<a href="{page.canonical_url}">{page.canonical_url}</a>.</em></p>'
        ).css_first("p")
        explorer.replace_with(note)
    for script in tree.css("script"):
        script.decompose()
    for link in tree.css("a.glightbox"):
        for img in link.css("img"):  # marked as mkdocs-glightbox marks an image it leaves alone
            img.attrs["class"] = " ".join([*(img.attrs.get("class") or "").split(), "off-glb"])
        link.unwrap()
    page.html = tree.body.inner_html
    return html


# after mkdocs-print-site has written the print page and hooks/maths.py copied KaTeX
@event_priority(-200)
def on_post_build(config, **_):
    page = finish_print_page(config)
    if _state["pdf"]:
        make_pdf(page, Path(config["site_dir"]) / PDF_NAME, title=config.site_name)


def finish_print_page(config) -> Path:
    """Maths, contents, links and assets of the print page that mkdocs-print-site has just written."""
    plugin = config.plugins[PLUGIN]
    page = plugin.print_page
    path = Path(page.file.abs_dest_path)
    if not path.is_file():
        raise PluginError(f"print_pdf: mkdocs-print-site wrote no print page at {path}")
    html = config.plugins["hooks/maths.py"].on_post_page(
        path.read_text(encoding="utf-8"), page=page, config=config
    )
    tree = LexborHTMLParser(html)
    content = tree.css_first("#print-site-page")
    # A navigation section whose pages are all left out ("Run it yourself") would print as a title alone.
    for section in content.css("section.md-section"):
        if section.css_first("section.print-page") is None:
            section.decompose()
    _write_contents(tree, content)
    _fix_links(tree, config)
    # Material names each code block after its closest ancestor with an id (or a counter if there is none);
    # here every block of a lesson sits in that lesson's <section id>, so all of them would get one name
    # and each copy button would copy the lesson's first block. An id of its own keeps each block apart.
    for number, pre in enumerate(content.css("div.highlight > pre")):
        pre.attrs["id"] = f"print-code-{number}"
    for img in tree.css("img[loading]"):
        del img.attrs["loading"]  # every figure is wanted on paper, not only once scrolled to
    css, js = _state["assets"]
    css = [*css, PRINT_CSS]
    assets = "".join(f'<link rel="stylesheet" href="{get_relative_url(c, page.url)}">' for c in css)
    assets += "".join(f'<script defer src="{get_relative_url(j, page.url)}"></script>' for j in js)
    html = tree.html.replace("</head>", assets + "</head>", 1)
    # The plugin's start-up script would copy the contents a second time (they are written above).
    html = html.replace("generate_toc();", "", 1)
    path.write_text(html, encoding="utf-8")
    return path


def _write_contents(tree, content) -> None:
    """Contents of the printed chapter: each printed page, with the sections of each lesson (the pages of a
    navigation section; the glossary's and the references' entries would only make the list long)."""
    toc = tree.css_first("#print-page-toc nav")
    if toc is None:
        return
    items = []
    for page in content.css("section.print-page[id]:not(.md-section)"):
        h1 = page.css_first("h1")
        if h1 is None:
            continue
        in_section = _inside(page, "md-section")
        sub = (
            "".join(
                f'<li><a href="#{h2.attrs["id"]}">{_heading_text(h2)}</a></li>'
                for h2 in page.css("h2[id]")
            )
            if in_section
            else ""
        )
        items.append(
            f'<li><a href="#{page.attrs["id"]}">{_heading_text(h1)}</a>'
            + (f"<ul>{sub}</ul>" if sub else "")
            + "</li>"
        )
    nav = LexborHTMLParser(f'<ul class="gtt-print-toc">{"".join(items)}</ul>').css_first("ul")
    toc.insert_child(nav)


def _heading_text(heading) -> str:
    clone = LexborHTMLParser(heading.html).css_first(heading.tag)
    for link in clone.css("a.headerlink"):
        link.decompose()
    for maths in clone.css(".katex-mathml"):
        maths.decompose()
    return clone.inner_html.strip()


def _fix_links(tree, config) -> None:
    """Every #link of the print page lands on an element of it; a link to a page left out goes online."""
    from mkdocs_print_site_plugin.urls import get_page_key

    ids = {node.attrs["id"] for node in tree.css("[id]")}
    site_url = (config.site_url or "").rstrip("/") + "/"
    pages = {get_page_key(page.url): page for page in _state["pages"]}
    keys = sorted(pages, key=len, reverse=True)
    for link in tree.css('a[href^="#"]'):
        target = link.attrs["href"][1:]
        if not target or target in ids:
            continue
        if _inside(link, "md-sidebar"):
            link.parent.decompose()  # the side contents listing a section removed above
            continue
        key = next((k for k in keys if target == k or target.startswith(k + "-")), None)
        rest = target[len(key) + 1 :] if key else target
        if rest in ids:  # an id that the plugin leaves as it is (a reference, a figure)
            link.attrs["href"] = f"#{rest}"
        # a page that is not printed (the explorer, a notebook, the home page)
        elif key is not None:
            link.attrs["href"] = site_url + pages[key].url + (f"#{rest}" if rest else "")
        else:
            raise PluginError(
                f"print_pdf: the print page links to #{target}, which is nowhere in it"
            )


def _inside(node, css_class: str) -> bool:
    parent = node.parent
    while parent is not None and parent.is_element_node:
        if css_class in (parent.attrs.get("class") or "").split():
            return True
        parent = parent.parent
    return False


def on_nav(nav, **_):
    _state["pages"] = list(nav.pages)
    return nav


def make_pdf(page: Path, pdf: Path, title: str) -> None:
    """Print the finished page with Chromium; fail loudly if it cannot or if the PDF is over budget."""
    from playwright.sync_api import Error, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # a longer guard than a page's: loading and printing the whole chapter takes ~10 s when idle
    guard_ms = hang_guard_ms(PDF_BUDGET_S)
    started = time.perf_counter()
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                tab = new_context(browser).new_page()
                tab.set_default_timeout(guard_ms)
                tab.goto(page.as_uri(), wait_until="load")
                tab.evaluate("document.fonts.ready.then(() => true)")
                data = tab.pdf(
                    format="A4",
                    print_background=True,
                    outline=True,
                    tagged=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER.format(title=title),
                    margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                )
            finally:
                browser.close()
    except Error as error:
        if not in_ci() and "Executable doesn't exist" in str(error):
            _unavailable(f"Chromium at {chromium_executable()} did not start: {error}")
            return
        if isinstance(error, PlaywrightTimeout):
            raise PluginError(
                f"print_pdf: printing {page} {hang_guard.hang_message(guard_ms / 1000, PDF_BUDGET_S)}: {error}"
            ) from error
        raise PluginError(f"print_pdf: Chromium could not print {page}: {error}") from error
    seconds = time.perf_counter() - started
    if len(data) > PDF_BUDGET_BYTES:
        raise PluginError(
            f"print_pdf: the PDF is {len(data) / 1e6:.1f} MB, over the {PDF_BUDGET_BYTES / 1e6:.0f} MB budget"
        )
    pdf.write_bytes(data)
    log.info(
        "print_pdf: %s, %.1f MB, made in %.1f s (budget %.0f s)",
        pdf.name,
        len(data) / 1e6,
        seconds,
        PDF_BUDGET_S,
    )
    if seconds > PDF_BUDGET_S:
        log.info("print_pdf: making the PDF took longer than its %.0f s budget", PDF_BUDGET_S)
