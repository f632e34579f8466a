"""What every page offers a reader besides its text (issue 17): link previews, "Report a problem with this
page", when the page last changed, and a changelog; and a copy that is not a git checkout, on a machine
without Chromium, still builds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
import subprocess
import sys
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import REPO, built_pages, copy_site_sources

META = re.compile(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)">')


def pages(site: Path) -> list[Path]:
    return [
        p
        for p in built_pages(site)
        if not p.relative_to(site).as_posix().startswith(("assets/", "search/"))
    ]


def canonical(html: str) -> str:
    return re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_every_page_has_a_link_preview_with_absolute_addresses(fast_build) -> None:
    site, url, _ = fast_build
    figure_cards = set()
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        where = page.relative_to(site)
        meta = {name: unescape(value) for name, value in META.findall(html)}
        for name in (
            "og:title",
            "og:description",
            "og:image",
            "og:url",
            "twitter:card",
            "twitter:image",
        ):
            assert meta.get(name), f"{where}: no {name}"
        assert meta["twitter:card"] == "summary_large_image"
        assert len(meta["og:description"]) >= 30, where
        assert meta["og:url"] == canonical(html), where
        image = meta["og:image"]
        assert image.startswith(url) and image == meta["twitter:image"], (
            f"{where}: {image} is not under {url}"
        )
        assert png_size((site / image.removeprefix(url)).read_bytes()) == (1200, 630), image
        first_figure = re.search(r'<figure class="gtt-figure" id="fig-([a-z0-9_]+)"', html)
        if where.parent.name == "print_page":  # the whole chapter: shown by the site's card
            assert image.endswith("assets/images/social-card.png"), image
        elif image.endswith("assets/images/social-card.png"):
            assert not (
                first_figure and (site / "figures" / f"{first_figure.group(1)}.png").is_file()
            ), where
        else:
            assert first_figure and image.endswith(f"figures/{first_figure.group(1)}.png"), (
                f"{where}: {image}"
            )
            figure_cards.add(where.parent.name)
    lessons_with_figures = {
        p.parent.name
        for p in site.glob("[0-9][0-9]-*/index.html")
        if 'class="gtt-figure"' in p.read_text(encoding="utf-8")
    }
    assert lessons_with_figures and lessons_with_figures <= figure_cards, sorted(
        lessons_with_figures - figure_cards
    )
    title = re.search(
        r'<meta property="og:title" content="([^"]*)">',
        (site / "07-gates" / "index.html").read_text(),
    )
    assert title and unescape(title.group(1)).startswith("7. Gates")


def test_every_page_has_a_report_a_problem_link_with_its_title_and_address(fast_build) -> None:
    site, url, _ = fast_build
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    repo = re.search(r"^repo_url: (\S+)", config, re.M).group(1)
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        where = page.relative_to(site)
        link = re.search(
            r'<a href="([^"]+)" title="Report a problem with this page" class="md-content__button[^"]*"',
            html,
        )
        assert link, f"{where}: no report link"
        target = urlparse(unescape(link.group(1)))
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{repo}/issues/new", target
        query = parse_qs(target.query)
        assert canonical(html) in query["body"][0], (
            f"{where}: the issue does not name the page's address"
        )
        title = unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1)).split(" - ")[0]
        assert title in query["title"][0], (where, query["title"])
        # Next to "Edit this page" where the page has one, and nothing loaded from GitHub when the page opens.
        edit = html.find('rel="edit"')
        assert edit == -1 or 0 < link.start() - edit < 2000, where


def git_date(path: Path) -> dt.date | None:
    proc = subprocess.run(
        ["git", "log", "-1", "--format=%at", "--", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return (
        dt.datetime.fromtimestamp(int(proc.stdout), dt.UTC).date()
        if proc.returncode == 0 and proc.stdout.strip()
        else None
    )


def test_every_lesson_says_when_it_last_changed_from_git_history(fast_site) -> None:
    site, _ = fast_site
    lessons = sorted(site.glob("[0-9][0-9]-*/index.html"))
    assert len(lessons) >= 8
    for page in lessons:
        html = page.read_text(encoding="utf-8")
        shown = re.search(
            r'Last updated <span class="git-revision-date-localized-plugin[^"]*"[^>]*>([^<]+)</span>',
            html,
        )
        assert shown, f"{page.parent.name}: no 'Last updated'"
        date = dt.datetime.strptime(shown.group(1).strip(), "%B %d, %Y").date()
        expected = git_date(REPO / "docs" / f"{page.parent.name}.md")
        # committed: the date of its last commit (else the day of the build)
        if expected is not None:
            assert date == expected, (page.parent.name, date, expected)


def test_the_changelog_is_a_page_in_the_navigation(fast_site) -> None:
    site, _ = fast_site
    html = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "<h1" in html and len(re.findall(r"<h2\b", html)) >= 2
    # in the navigation
    assert 'href="changelog/"' in (site / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scratch_build(tmp_path_factory, fast_figures) -> tuple[Path, subprocess.CompletedProcess]:
    """A copy of the sources that is no git checkout, built strictly where there is no Chromium and no CI."""
    root = copy_site_sources(tmp_path_factory.mktemp("scratch") / "project")
    env = {
        **os.environ,
        "GTT_PRESET": "fast",
        "GTT_FIGURES_DIR": str(fast_figures),
        "NO_MKDOCS_2_WARNING": "1",
        "GTT_NOTEBOOK_CACHE": str(REPO / "build"),
        "GTT_CHROMIUM": str(root / "no-chromium-here"),
        "CI": "",
        "GIT_CEILING_DIRECTORIES": str(root.parent),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(root / "site")],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
    )
    return root / "site", proc


def test_a_copy_without_git_and_without_chromium_still_builds(scratch_build) -> None:
    site, proc = scratch_build
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "Unable to find a git directory" in log and "Falling back to build date" in log
    assert re.search(r"INFO +- +print_pdf: no Chromium at .*no PDF this time", log), log[-2000:]
    assert not (site / "gradients-through-time.pdf").exists()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="print_page/"' in home and ".pdf" not in home, "no link to a PDF that was not made"
    assert (site / "print_page" / "index.html").is_file()
    assert "Last updated" in (site / "01-backprop-through-time" / "index.html").read_text(
        encoding="utf-8"
    )
