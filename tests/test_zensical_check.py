"""bench/zensical_check.py: the comparison finds each kind of gap between a MkDocs site and a Zensical site,
and finds none between a site and itself; a stopped Zensical build is read for its cause."""

from __future__ import annotations

import json
from pathlib import Path

from bench import zensical_check as zc

MKDOCS_PAGE = """<html><head><meta property="og:image" content="https://example.org/card.png"></head><body>
<article class="md-content__inner md-typeset">
<h2 id="lesson">Lesson</h2>
<p>A <a class="gtt-glossary-link" href="glossary/#jacobian"><abbr title="Jacobian: d">Jacobian</abbr></a> has
<span class="arithmatex"><span class="katex">x</span></span> and <span class="katex-display"><span class="katex">y</span></span>,
the fact 0.349 and the code <code>clip()</code>.</p>
<figure><a class="glightbox" href="figures/a.svg"><img src="figures/a.svg" alt="a"></a></figure>
<pre data-search-exclude><code>print(1)</code></pre>
<h2 id="cite-this-chapter">Cite</h2><pre><code><span>@misc</span><span>{gtt2026,</span></code></pre>
<aside class="md-source-file">Last updated</aside>
</article></body></html>"""

ZENSICAL_PAGE = """<html><head><link rel="stylesheet" href="assets/katex/katex.min.css"></head><body>
<article class="md-content__inner md-typeset">
<h2 id="lesson">Lesson</h2>
<p>A <abbr title="Jacobian: d">Jacobian</abbr> has <span class="arithmatex">\\(x\\)</span> and $y$,
the fact {{ fact("l02_powers", "power_0.9_10") }} and the code <code>clip()</code>.</p>
<p>--8&lt;-- "lessons_code/l02.py:section"</p>
<figure><a class="glightbox" href="figures/a.svg"><img src="figures/a.svg" alt="a"></a></figure>
<pre><code>print(1)</code></pre>
</article></body></html>"""


def site(root: Path, pages: dict[str, str], files: dict[str, str]) -> Path:
    for path, text in {**pages, **files}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def mkdocs_site(tmp_path: Path) -> Path:
    return site(
        tmp_path / "mkdocs",
        {
            "index.html": MKDOCS_PAGE,
            "notebooks/l01/index.html": MKDOCS_PAGE,
            "glossary/index.html": "<article><p>terms</p></article>",
        },
        {"figures/a.svg": "<svg/>", "search/search_index.json": json.dumps({"docs": [{}, {}]})},
    )


def test_every_kind_of_gap_is_found(tmp_path) -> None:
    zensical = site(
        tmp_path / "zensical",
        {"index.html": ZENSICAL_PAGE, "glossary/index.html": "<article><p>terms</p></article>"},
        {"search.json": json.dumps({"items": [{}]})},
    )
    findings, mk, zs = zc.compare(mkdocs_site(tmp_path), zensical)
    by_name = {f.what: f for f in findings}

    def finding(prefix: str) -> zc.Finding:
        (match,) = [f for name, f in by_name.items() if name.startswith(prefix)]
        return match

    assert (
        finding("Pages").status == "missing"
        and "notebooks/l01/index.html" in finding("Pages").zensical
    )
    assert finding("Figures (SVG").status == "missing"
    assert (finding("Images that resolve").mkdocs, finding("Images that resolve").zensical) == (
        "1 of 1",
        "0 of 1",
    )
    maths = finding("Maths rendered")
    assert (
        maths.status == "missing"
        and maths.mkdocs.startswith("2 ")
        and "raw TeX left: 2" in maths.zensical
    )
    assert finding("Facts and macros").status == "broken" and finding(
        "Facts and macros"
    ).zensical.startswith("1 ")
    assert finding("Snippets included").status == "broken"
    assert finding("Notebook pages").status == "missing"
    assert finding("Code left out of the search index").status == "missing"
    assert finding("Glossary links").status == "missing" and finding(
        "Glossary links"
    ).zensical.startswith("0 ")
    assert finding('"Cite this chapter"').status == "missing"
    assert (
        finding("Link previews").status == "missing"
        and finding('"Last updated"').status == "missing"
    )
    assert finding("Search index").zensical == "search.json, 1 entries"
    broken = finding("Links, stylesheets and scripts")
    assert (
        broken.status == "broken"
        and "`assets/katex/` 1 (katex.min.css)" in broken.zensical
        and "`figures/` 1 (a.svg)" in broken.zensical
    )
    assert (
        finding("Sections").status == "missing"
        and "cite-this-chapter" in finding("Sections").zensical
    )
    assert finding("Figures that open in the lightbox").status == "same"
    # the display formula is counted once
    assert zs["index.html"].raw_maths == 2 and mk["index.html"].katex == 2


def test_a_site_compared_with_itself_lacks_nothing(tmp_path) -> None:
    mkdocs = mkdocs_site(tmp_path)
    findings, _, _ = zc.compare(mkdocs, mkdocs)
    assert [f.what for f in findings if f.status != "same"] == []


def test_a_stopped_build_is_read_for_its_cause_and_the_template_to_set_aside(tmp_path) -> None:
    project = tmp_path / "project"
    output = (
        f"Build started\nRuntimeError: Python error: AttributeError: 'Page' object has no attribute 'file'\n"
        f'Traceback (most recent call last):\n  File "{project}/hooks/macros.py", line 61, in site_relative\n'
        "    page_dir = posixpath.dirname(env.page.file.src_uri)\n"
    )
    error = zc.first_error(output, project)
    assert error.startswith("RuntimeError: Python error: AttributeError")
    assert 'hooks/macros.py", line 61' in error and "env.page.file.src_uri" in error
    template = zc.TEMPLATE_ERROR.search(
        "RuntimeError: unknown method: string has no method named rstrip (in main.html:14)"
    )
    assert (template[1], template[2]) == ("main.html", "14")
    text, changed = zc._set_false(
        "strict: true\nplugins:\n  - macros:\n      on_error_fail: true\n", "on_error_fail"
    )
    assert changed and "on_error_fail: false" in text and "strict: true" in text
    warnings = zc.zensical_warnings(
        "Warning: anchor does not exist\n     ╭─[ 05-taming.md:199:102 ]\n1 issue found\n"
    )
    assert warnings == ["Warning: anchor does not exist (05-taming.md:199:102)"]
