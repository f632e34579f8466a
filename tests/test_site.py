"""The built site: strict and warning-free, maths rendered, nothing fetched from other hosts, numbers from facts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, built_pages, copy_site_sources

# Tags that make the browser fetch something; <link rel="canonical"> and plain <a> links fetch nothing.
FETCHING_TAG = re.compile(r"<(?:script|link|img|source|iframe|video|audio)\b[^>]*>", re.I)
EXTERNAL_URL = re.compile(r'\b(?:src|href|srcset)="(?:https?:)?//', re.I)


def test_strict_build_has_zero_warnings(fast_site) -> None:
    _, log = fast_site
    assert "WARNING" not in log and "ERROR" not in log, log


def test_every_page_has_a_description_and_no_raw_maths(fast_site) -> None:
    site, _ = fast_site
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<meta name="description" content="[^"]{30,}"', html), page
        # annotation: MathML's TeX
        visible = re.sub(r"<(script|style|pre|code|annotation)\b.*?</\1>", "", html, flags=re.S)
        for raw in ("$$", "\\(", "\\[", "\\frac", "\\rho"):
            assert raw not in visible, f"unrendered maths {raw!r} in {page.relative_to(site)}"


def test_maths_is_katex_html_served_by_the_site_itself(fast_site) -> None:
    site, _ = fast_site
    html = (site / "02-repeated-multiplication" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="katex"') > 20 and 'class="katex-display"' in html
    css = (site / "assets" / "katex" / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\((fonts/[^)]+)\)", css))
    assert fonts and all(
        f.endswith(".woff2") and (site / "assets" / "katex" / f).is_file() for f in fonts
    )


def test_no_page_loads_anything_from_another_host(fast_site) -> None:
    site, _ = fast_site
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        fetches = [
            tag
            for tag in FETCHING_TAG.findall(html)
            if not re.search(r'rel="(canonical|alternate)"', tag)
        ]
        external = [tag for tag in fetches if EXTERNAL_URL.search(tag)]
        assert not external, f"{page.relative_to(site)} loads from another host: {external}"
        assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html


def test_prose_numbers_come_from_the_facts(fast_site, fast_figures) -> None:
    site, _ = fast_site
    html = (site / "02-repeated-multiplication" / "index.html").read_text(encoding="utf-8")
    facts = json.loads((fast_figures / "l02_gradient_vs_lag.json").read_text())["facts"]
    assert f"{facts['slope_rho_0.9']:.4f}" in html and f"{facts['nonnormal_peak_norm']:.1f}" in html
    powers = json.loads((fast_figures / "l02_powers.json").read_text())["facts"]
    assert f"{powers['power_0.9_10']:.3g}" in html


def test_figures_have_alt_text_size_and_a_link_to_their_data(fast_site) -> None:
    site, _ = fast_site
    html = (site / "02-repeated-multiplication" / "index.html").read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*>", html)
    figures = [img for img in images if "/figures/l02_" in img or "figures/l02_" in img]
    assert len(figures) == 3
    for img in figures:
        assert (
            re.search(r'alt="[^"]{40,}"', img)
            and 'width="' in img
            and 'height="' in img
            and 'loading="lazy"' in img
        )
        src = re.search(r'src="([^"]+)"', img).group(1)
        assert (site / "02-repeated-multiplication" / src).resolve().is_file()
    assert html.count("Data and facts (JSON)") == 3


def test_snippets_are_real_sections_of_the_lesson_module(fast_site) -> None:
    site, _ = fast_site
    html = (site / "02-repeated-multiplication" / "index.html").read_text(encoding="utf-8")
    assert "repeated_products" in html and "--8&lt;--" not in html and "--8<--" not in html
    assert 'class="language-python highlight"' in html or "language-python" in html


# ---------------------------------------------------------------- broken pages must fail the build


@pytest.fixture
def scratch_project(tmp_path, fast_figures) -> Path:
    """A copy of the site sources (docs, hooks, config) with the real code linked in, to break safely."""
    return copy_site_sources(tmp_path / "project")


def build(root: Path, fast_figures: Path) -> subprocess.CompletedProcess:
    # reuse the executed notebooks rather than run them again
    env = {
        **os.environ,
        "GTT_PRESET": "fast",
        "GTT_FIGURES_DIR": str(fast_figures),
        "NO_MKDOCS_2_WARNING": "1",
        "GTT_NOTEBOOK_CACHE": str(REPO / "build"),
    }
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(root / "site")],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
    )


@pytest.mark.parametrize(
    ("addition", "complaint"),
    [
        (
            '```python\n--8<-- "lessons_code/l02_repeated_multiplication.py:no_such_section"\n```\n',
            "no_such_section",
        ),
        ('```python\n--8<-- "lessons_code/l99_missing.py"\n```\n', "l99_missing.py"),
        ('{{ fact("l02_powers", "power_0.8_10") }}\n', "has no fact 'power_0.8_10'"),
        ('{{ figure("l02_nope", "caption") }}\n', "no figure named 'l02_nope'"),
    ],
    ids=["snippet-section", "snippet-file", "fact", "figure"],
)
def test_a_broken_page_fails_the_strict_build(
    scratch_project, fast_figures, addition: str, complaint: str
) -> None:
    page = scratch_project / "docs" / "02-repeated-multiplication.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n" + addition, encoding="utf-8")
    proc = build(scratch_project, fast_figures)
    assert proc.returncode != 0, f"the build accepted a page with {complaint!r}"
    assert complaint in proc.stdout + proc.stderr


def test_broken_images_maths_and_links_are_all_reported_and_fail_the_strict_build(
    scratch_project, fast_figures
) -> None:
    """These surface as warnings late in the build, so one build shows that each is reported and fails it."""
    broken = {
        "![A figure that was never made](figures/l02_never_made.svg)\n": "l02_never_made.svg",
        "$\\frac{1}{$\n": "KaTeX cannot render",
        "[a link](no-such-page.md)\n": "no-such-page.md",
    }
    page = scratch_project / "docs" / "02-repeated-multiplication.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n" + "\n".join(broken), encoding="utf-8")
    proc = build(scratch_project, fast_figures)
    assert proc.returncode != 0, "the build accepted a page with a broken image, formula and link"
    missing = [
        complaint for complaint in broken.values() if complaint not in proc.stdout + proc.stderr
    ]
    assert not missing, f"not reported: {missing}\n{proc.stdout + proc.stderr}"


def test_every_formula_has_mathml_for_screen_readers(fast_site) -> None:
    """KaTeX's HTML is hidden from assistive technology; the MathML copy beside it is what gets read out."""
    site, _ = fast_site
    html = (site / "02-repeated-multiplication" / "index.html").read_text(encoding="utf-8")
    formulas = html.count('<span class="katex">') + html.count('<span class="katex-display">')
    assert formulas > 20
    assert (
        html.count('<span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML"')
        == html.count('<span class="katex-html" aria-hidden="true">')
        == html.count('<span class="katex">')
    )
