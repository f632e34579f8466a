"""Named sections of the lesson code, read exactly as the pages embed them.

Pages embed code with pymdownx.snippets (``--8<-- "lessons_code/l05_taming_explosions.py:clip"``, set up
with ``dedent_subsections: true`` in mkdocs.yml); the notebooks include the same sections by the same
syntax (lessons_code/notebooks.py). This module is that reader without Markdown: the lines between
``# --8<-- [start:NAME]`` and ``# --8<-- [end:NAME]``, other sections' markers dropped, an escaped marker
(``;--8<--``) unescaped, the whole dedented. tests/test_notebooks.py checks it against pymdownx itself and
against the built pages.

Why not call pymdownx: it is a Markdown extension (a Preprocessor bound to a Markdown instance and its
config) and the notebook step must run without MkDocs or Markdown, standard library only.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from lessons_code.paths import REPO_ROOT

# pymdownx.snippets' RE_SNIPPET_SECTION: any text, optional ';' escapes, a scissors marker, [start|end:name].
MARKER = re.compile(
    r"^(?P<pre>.*?)(?<!;)(?!(?<=-)-)(?P<escape>;*)(?P<scissors>-{1,}8<-{1,}[ \t]+)"
    r"(?P<section>\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\])(?P<post>.*?)$",
    re.I,
)
#: An include line as a notebook template writes it: a comment, so that the template stays valid Python.
INCLUDE = re.compile(
    r'^(?P<indent>[ \t]*)#[ \t]*-{1,}8<-{1,}[ \t]+"(?P<path>[^"]+?):(?P<name>[a-z][-_0-9a-z]*)"[ \t]*$',
    re.I,
)
#: The same line as a page writes it inside a code fence (pymdownx.snippets' inline form, with a section).
PAGE_INCLUDE = re.compile(
    r'^(?P<indent>[ \t]*)-{1,}8<-{1,}[ \t]+"(?P<path>[^"]+?):(?P<name>[a-z][-_0-9a-z]*)"[ \t]*$',
    re.I,
)


class SnippetError(LookupError):
    """A file or section that does not exist; the message names both."""


def section(path: str | Path, name: str, root: Path = REPO_ROOT) -> str:
    """The text of section `name` of `path` (relative to the repository root), as a page shows it.

    Lines are joined with newlines and the result has no trailing newline, like the lines pymdownx
    inserts into a code fence.
    """
    file = Path(path) if Path(path).is_absolute() else root / path
    try:
        lines = file.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise SnippetError(
            f"{path}: cannot read it for section {name!r} ({exc.strerror})"
        ) from None
    kept: list[str] = []
    inside = found = False
    for line in lines:
        m = MARKER.match(line) if "8<-" in line else None
        if m and m.group("escape"):  # ';--8<--' shows as '--8<--' and is no marker
            line = (
                m.group("pre")
                + m.group("escape")[1:]
                + m.group("scissors")
                + m.group("section")
                + m.group("post")
            )
        elif m and m.group("name") == name:
            if m.group("type") == "start":
                inside = found = True
                continue
            break  # its end (or an end before any start, which pymdownx also takes as the end)
        elif m:
            continue  # another section's marker inside this one is dropped
        if inside:
            kept.append(line)
    if not found:
        known = sorted(
            {m.group("name") for m in map(MARKER.match, lines) if m and m.group("type") == "start"}
        )
        raise SnippetError(
            f"{path} has no section {name!r}; its sections: {', '.join(known) or 'none'}"
        )
    return textwrap.dedent("\n".join(kept))


def sections(path: str | Path, root: Path = REPO_ROOT) -> list[str]:
    """The names of every section in the file, in order of their start markers."""
    file = Path(path) if Path(path).is_absolute() else root / path
    names = []
    for line in file.read_text(encoding="utf-8").split("\n"):
        m = MARKER.match(line) if "8<-" in line else None
        if (
            m
            and not m.group("escape")
            and m.group("type") == "start"
            and m.group("name") not in names
        ):
            names.append(m.group("name"))
    return names


def expand(
    text: str, root: Path = REPO_ROOT, where: str = "", form: re.Pattern = INCLUDE
) -> tuple[str, list[tuple[str, str]]]:
    """`text` with every include line (INCLUDE, or PAGE_INCLUDE for a page's fence) replaced by its section,
    line for line as pymdownx does. Returns the expanded text and the (path, section) pairs it included.
    `where` prefixes errors.
    """
    out, included = [], []
    for line in text.split("\n"):
        m = form.match(line)
        if m is None:
            out.append(line)
            continue
        try:
            body = section(m.group("path"), m.group("name"), root)
        except SnippetError as exc:
            raise SnippetError(f"{where}{exc}") from None
        out.extend(m.group("indent") + part for part in body.split("\n"))
        included.append((m.group("path"), m.group("name")))
    return "\n".join(out), included
