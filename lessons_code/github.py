"""Errors as GitHub Actions annotations: shown on the file and line that caused them, in the pull request.

On GitHub Actions (``GITHUB_ACTIONS=true``) the figures command prints one workflow command per failure:

    ::error file=lessons_code/l02_repeated_multiplication.py,line=97,title=figure l02_powers failed::lesson l02, ...

Hand-rolled because the format is one line with three escaping rules (GitHub's "workflow commands"
documentation; the same rules as @actions/core's toCommandValue/escapeData/escapeProperty); a package for
that alone would be one more pinned dependency. Standard library only.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from lessons_code import paths


def on_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def repo_path(file: str | os.PathLike | None) -> str | None:
    """The file relative to the repository root, as annotations need it; None if it lies outside."""
    if not file:
        return None
    try:
        return Path(file).resolve().relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return None


def error(
    message: str,
    file: str | os.PathLike | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """An ``::error`` workflow command; the location is left out when the file is not in the repository."""
    properties = []
    where = repo_path(file)
    if where:
        properties.append(f"file={_escape_property(where)}")
        if line:
            properties.append(f"line={int(line)}")
    if title:
        properties.append(f"title={_escape_property(title)}")
    return (
        f"::error {','.join(properties)}::{_escape_data(message)}"
        if properties
        else f"::error::{_escape_data(message)}"
    )


def where(exc: BaseException) -> tuple[str | None, int | None]:
    """(file, line) of an exception in this repository's code: a SyntaxError's own location, else the
    innermost traceback frame that lies in the repository."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    ours = [f for f in traceback.extract_tb(exc.__traceback__) if repo_path(f.filename)]
    return (ours[-1].filename, ours[-1].lineno) if ours else (None, None)
