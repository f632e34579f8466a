"""CITATION.cff is valid Citation File Format 1.2.0, agrees with the project, and is what the home page cites.

The schema is the official CFF 1.2.0 JSON Schema, kept in tests/data/ (see tests/data/README.md for where it
comes from and why not `cffconvert --validate`).
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from html import unescape

import jsonschema
import pytest
import yaml

from conftest import REPO, load_hook

SCHEMA = REPO / "tests" / "data" / "cff-1.2.0.schema.json"
CFF = REPO / "CITATION.cff"
hook = load_hook("citation")


def cff() -> dict:
    return yaml.safe_load(CFF.read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_citation_cff_is_valid_cff_1_2_0() -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator().iter_errors(cff())
    ]
    assert not errors, errors


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c: c.pop("authors"), "no authors"),
        (lambda c: c.update({"license": "MIT or so"}), "not an SPDX licence"),
        (lambda c: c.update({"date-released": "3 December 2026"}), "not a YYYY-MM-DD date"),
        (
            lambda c: c.update({"authors": [{"name": "The authors", "website": "not a url"}]}),
            "not a URL",
        ),
    ],
    ids=["authors", "license", "date", "url"],
)
def test_the_schema_rejects_a_broken_file(change, why: str) -> None:
    broken = copy.deepcopy(cff())
    change(broken)
    assert list(validator().iter_errors(broken)), f"a file with {why} passed"


def test_the_citation_agrees_with_the_project() -> None:
    data = cff()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert data["cff-version"] == "1.2.0"
    assert data["version"] == project["version"]
    assert data["authors"] == [{"name": "The Gradients Through Time authors"}]
    assert data["title"].startswith(re.search(r"^site_name: (.+)$", config, re.M).group(1))
    assert data["url"] == re.search(r'^site_url: !ENV \[SITE_URL, "([^"]+)"\]', config, re.M).group(
        1
    )
    assert data["repository-code"] == re.search(r"^repo_url: (\S+)", config, re.M).group(1)
    assert sorted(data["license"]) == ["CC-BY-4.0", "MIT"]
    assert "CC BY 4.0" in config and "MIT" in config  # the licences the site's footer states


def test_bibtex_and_apa_are_made_from_the_file() -> None:
    people = {
        **cff(),
        "title": "A Test: Of Names",
        "version": "9.9",
        "date-released": "2031-05-06",
        "authors": [
            {"family-names": "Lovelace", "given-names": "Ada Augusta"},
            {"name": "The Example Lab"},
        ],
    }
    bib = hook.bibtex(people)
    assert bib.startswith("@misc{atest2031,\n")
    assert "author = {Lovelace, Ada Augusta and {The Example Lab}}," in bib
    assert (
        "title  = {{A Test: Of Names}}," in bib
        and "month  = may," in bib
        and "note   = {Version 9.9}," in bib
    )
    assert hook.apa(people) == (
        f"Lovelace, A. A., & The Example Lab. (2031). *A Test: Of Names* (Version 9.9) "
        f"[Computer software]. <{people['url']}>"
    )


def test_the_home_page_cites_the_chapter_from_citation_cff(fast_site) -> None:
    site, _ = fast_site
    data = cff()
    html = (site / "index.html").read_text(encoding="utf-8")
    box = html.split("Cite this chapter", 1)[1]
    text = unescape(re.sub(r"<[^>]+>", "", box))
    year = str(data["date-released"])[:4]
    assert f"title  = {{{{{data['title']}}}}}," in text
    assert f"author = {{{{{data['authors'][0]['name']}}}}}," in text
    assert f"note   = {{Version {data['version']}}}," in text and f"year   = {{{year}}}," in text
    assert f"url    = {{{data['url']}}}," in text
    apa = f"{data['authors'][0]['name']}. ({year}). {data['title']} (Version {data['version']}) [Computer software]."
    assert apa in " ".join(text.split())
    assert f"<em>{data['title']}</em>" in box
    assert 'class="language-bibtex highlight"' in box, (
        "the BibTeX is a code block with a copy button"
    )
