"""Render every formula to HTML at build time with KaTeX, so pages show maths with no script and no CDN.

Why build time: client-side MathJax cost ~590 ms of main-thread blocking on Lighthouse's mobile preset
(../shared/notes/measured-pitfalls.md); KaTeX run once per build in node costs ~0.3 s for 200 formulas
and the page then needs only a cacheable stylesheet and the woff2 fonts it uses. Why a hook rather than
a plugin: the two maintained plugins either ship KaTeX 0.15 binaries and start one process per formula
(markdown-katex) or mixed up pages' formulas in our tests (mkdocs-katex-ssr); see
../shared/notes/build-time-maths.md. The hook is small: pymdownx.arithmatex (generic mode) marks the
maths, one long-lived node process (hooks/katex_render.cjs, KaTeX pinned in package.json) renders it.

Each formula is KaTeX's HTML, which readers see, plus a hidden MathML copy that screen readers read out
(KaTeX's default; the HTML alone would be read as a string of glyphs). The copy costs 3-5 KB of gzip per
lesson and about a third more style work when a page loads; readable maths is worth that.

Search runs before on_post_page, so the search index keeps the readable TeX source.
"""

from __future__ import annotations

import atexit
import html
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.maths")

ROOT = Path(__file__).resolve().parent.parent
RENDERER = Path(__file__).with_name("katex_render.cjs")
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
ASSET_DIR = "assets/katex"  # inside site_dir; listed in mkdocs.yml's extra_css
PRELOADED_FONTS = ("KaTeX_Main-Regular.woff2", "KaTeX_Math-Italic.woff2")

# pymdownx.arithmatex (generic) wraps inline maths as <span class="arithmatex">\(..\)</span>
# and display maths as <div class="arithmatex">\[..\]</div>, HTML-escaped.
ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
DELIMITERS = {"\\(": "\\)", "\\[": "\\]"}

_node: subprocess.Popen | None = None


def _renderer() -> subprocess.Popen:
    global _node
    if _node is None or _node.poll() is not None:
        if not (KATEX_DIST / "katex.min.js").is_file():
            raise PluginError(
                f"KaTeX is not installed in {KATEX_DIST.parent}: run `npm ci` in {ROOT}"
            )
        node = shutil.which("node")
        if node is None:
            raise PluginError(
                "node is not on PATH; the build renders maths with KaTeX in Node.js (20 or newer)"
            )
        _node = subprocess.Popen(
            [node, str(RENDERER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        atexit.register(_close)
    return _node


def _close() -> None:
    global _node
    if _node is not None:
        _node.stdin.close()
        _node.wait(timeout=10)
        _node = None


def render(items: list[dict]) -> tuple[list[str], list[str | None]]:
    """KaTeX HTML for each {"tex", "display"} item, and an error message (or None) for each."""
    node = _renderer()
    node.stdin.write(json.dumps({"items": items}) + "\n")
    node.stdin.flush()
    line = node.stdout.readline()
    if not line:
        raise PluginError("the KaTeX renderer (hooks/katex_render.cjs) exited without answering")
    reply = json.loads(line)
    return reply["html"], reply["errors"]


def _strip_delimiters(tex: str) -> str:
    tex = tex.strip()
    close = DELIMITERS.get(tex[:2])
    if close and tex.endswith(close):
        return tex[2:-2].strip()
    return tex


def on_post_page(output: str, page, config) -> str:
    matches = list(ARITHMATEX.finditer(output))
    if not matches:
        return output
    items = [
        {"tex": _strip_delimiters(html.unescape(m.group(2))), "display": m.group(1) == "div"}
        for m in matches
    ]
    rendered, errors = render(items)
    for item, error in zip(items, errors):
        if error:
            log.warning("%s: KaTeX cannot render %r: %s", page.file.src_uri, item["tex"], error)
    pieces, last = [], 0
    for match, markup in zip(matches, rendered):
        tag = match.group(1)
        pieces += [output[last : match.start()], f'<{tag} class="arithmatex">{markup}</{tag}>']
        last = match.end()
    pieces.append(output[last:])
    return _preload_fonts("".join(pieces), page)


def _preload_fonts(output: str, page) -> str:
    """Ask for the two fonts nearly every formula uses before the stylesheet asks for them: otherwise the
    maths is first laid out in a fallback font and moves when KaTeX's arrives (layout shift)."""
    links = "".join(
        f'<link rel="preload" href="{get_relative_url(f"{ASSET_DIR}/fonts/{font}", page.url)}" as="font" '
        'type="font/woff2" crossorigin>'
        for font in PRELOADED_FONTS
    )
    return output.replace("</head>", links + "</head>", 1)


def on_post_build(config) -> None:
    """Serve KaTeX's stylesheet and woff2 fonts from the site itself (no CDN, works offline)."""
    _close()
    target = Path(config["site_dir"]) / ASSET_DIR
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    css = (KATEX_DIST / "katex.min.css").read_text(encoding="utf-8")
    # Every browser we target reads woff2; the woff/ttf fallbacks would only add bytes and files.
    css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
    (target / "katex.min.css").write_text(css, encoding="utf-8")
    for font in (KATEX_DIST / "fonts").glob("*.woff2"):
        shutil.copyfile(font, target / "fonts" / font.name)


def on_build_error(error) -> None:
    _close()
