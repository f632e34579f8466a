"""What a change does to the figures and to the numbers the pages quote: a Markdown report for review.

    python -m lessons_code diff BASE_DIR HEAD_DIR [--out report.md] [--images DIR] [--docs DIR]

BASE_DIR and HEAD_DIR are two figure builds (``python -m lessons_code figures --out DIR``). The report
lists the figures added, removed, recomputed (their cache key changed) and unchanged; for each recomputed
figure the facts that moved beyond a tolerance, the facts added and removed, alt text, image, plotted
data and configuration changes, and its run time from HEAD's ``timings.json``. Then it renders every
``{{ fact(...) }}`` of the pages in ``--docs`` once with BASE's facts and once with HEAD's, with the
site's own formatting rule, and lists each sentence whose text differs, with page and line.

It reads only the builds' files and the pages, with the standard library and Jinja (MkDocs' template
engine): no lesson module, numpy or torch is imported, and a report on the whole site takes well under a
second.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lessons_code import paths
from lessons_code.facts import DEFAULT_FORMAT, format_value

#: Default tolerances: the facts JSON keeps 7 significant digits, so a relative change below 1e-6 is
#: float noise from a different summation order, not a change a reader could see.
REL_TOL = 1e-6
ABS_TOL = 1e-12


class DiffError(RuntimeError):
    """The two builds cannot be compared; the message names the file and the cause."""


# ------------------------------------------------------------------------------ the two builds


@dataclass(frozen=True)
class Tolerance:
    rel: float = REL_TOL
    abs: float = ABS_TOL

    def same(self, old: Any, new: Any) -> bool:
        """Equal, with numbers compared to the tolerance and containers compared element by element."""
        if _is_number(old) and _is_number(new):
            return math.isclose(old, new, rel_tol=self.rel, abs_tol=self.abs)
        if isinstance(old, dict) and isinstance(new, dict):
            return old.keys() == new.keys() and all(self.same(old[k], new[k]) for k in old)
        if isinstance(old, list) and isinstance(new, list):
            return len(old) == len(new) and all(self.same(a, b) for a, b in zip(old, new))
        return type(old) is type(new) and old == new


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class Entry:
    """One figure of a build: its cache key, its facts document and the hash of its image."""

    key: str
    doc: dict[str, Any]
    svg: Path
    svg_sha256: str


@dataclass
class Build:
    directory: Path
    entries: dict[str, Entry]
    failed: list[str]
    timings: dict[str, dict[str, Any]]
    preset: str | None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DiffError(f"{path}: cannot be read as JSON ({exc})") from exc


def load_build(directory: Path) -> Build:
    """A figures directory as written by the CLI. Its figure list is ``timings.json`` (written by every run):
    the CLI never deletes the files of a figure that no longer exists, so leftovers are not counted."""
    if not directory.is_dir():
        raise DiffError(
            f"{directory}: no such figures directory (build it with `python -m lessons_code figures --out DIR`)"
        )
    timings_path = directory / "timings.json"
    timings: dict[str, dict[str, Any]] = {}
    preset = None
    if timings_path.is_file():
        record = _read_json(timings_path)
        timings, preset = record.get("figures", {}), record.get("preset")
        names = list(timings)
    else:  # a directory filled by other means: every complete entry (the key file is written last)
        names = sorted(p.stem for p in directory.glob("*.key"))
    entries, failed = {}, []
    for name in names:
        if timings.get(name, {}).get("status") == "failed":
            failed.append(name)
            continue
        key_path = directory / f"{name}.key"
        if not key_path.is_file():
            raise DiffError(
                f"{key_path}: missing, so {name} is not a complete entry; rerun the figures command"
            )
        record = _read_json(key_path)
        json_path, svg_path = directory / f"{name}.json", directory / f"{name}.svg"
        for path, recorded in (
            (json_path, record.get("json_sha256")),
            (svg_path, record.get("svg_sha256")),
        ):
            # The key file vouches for both files; a mismatch means a hand edit or a crash, never compare it.
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != recorded:
                raise DiffError(
                    f"{path}: does not match the hash in {key_path.name}; rerun the figures command"
                )
        entries[name] = Entry(record["key"], _read_json(json_path), svg_path, record["svg_sha256"])
        preset = preset or entries[name].doc.get("preset")
    return Build(directory, entries, failed, timings, preset)


# ------------------------------------------------------------------------------ figures


@dataclass
class FactMove:
    name: str
    old: Any
    new: Any


@dataclass
class FigureChange:
    """A figure present in both builds whose cache key changed, and what the recomputation moved."""

    name: str
    moved: list[FactMove] = field(default_factory=list)
    facts_added: dict[str, Any] = field(default_factory=dict)
    facts_removed: dict[str, Any] = field(default_factory=dict)
    alt: tuple[str, str] | None = None
    image_changed: bool = False
    data_changed: list[str] = field(default_factory=list)
    config_changed: list[FactMove] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        """Did anything change that a reader could see or that the page could quote?"""
        return bool(
            self.moved
            or self.facts_added
            or self.facts_removed
            or self.alt
            or self.image_changed
            or self.data_changed
        )


def compare_figure(name: str, base: Entry, head: Entry, tol: Tolerance) -> FigureChange:
    change = FigureChange(name)
    old_facts, new_facts = base.doc.get("facts", {}), head.doc.get("facts", {})
    for fact in sorted(old_facts.keys() & new_facts.keys()):
        if not tol.same(old_facts[fact], new_facts[fact]):
            change.moved.append(FactMove(fact, old_facts[fact], new_facts[fact]))
    change.facts_added = {k: new_facts[k] for k in sorted(new_facts.keys() - old_facts.keys())}
    change.facts_removed = {k: old_facts[k] for k in sorted(old_facts.keys() - new_facts.keys())}
    if base.doc.get("alt") != head.doc.get("alt"):
        change.alt = (base.doc.get("alt", ""), head.doc.get("alt", ""))
    change.image_changed = base.svg_sha256 != head.svg_sha256
    old_data, new_data = base.doc.get("data", {}), head.doc.get("data", {})
    change.data_changed = sorted(
        k
        for k in old_data.keys() | new_data.keys()
        if k not in old_data or k not in new_data or not tol.same(old_data[k], new_data[k])
    )
    old_config, new_config = base.doc.get("config", {}), head.doc.get("config", {})
    change.config_changed = [
        FactMove(k, old_config.get(k, "(none)"), new_config.get(k, "(none)"))
        for k in sorted(old_config.keys() | new_config.keys())
        if old_config.get(k) != new_config.get(k)
    ]
    return change


# ------------------------------------------------------------------------------ pages

# Every {{ ... }} of a page that calls fact() is evaluated with Jinja, the template engine mkdocs-macros
# uses, once with BASE's facts and once with HEAD's: a plain {{ fact(...) }} and a figure caption built
# with ~ fact(...) ~ alike. Expressions without fact() read the same in both builds and stay as written.
EXPRESSION = re.compile(r"\{\{-?(?P<source>.*?)-?\}\}", re.S)
RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
CALLS_FACT = re.compile(r"\bfact\s*\((?P<args>[^()]*)\)")
PLAIN_FACT = re.compile(r"\s*fact\s*\((?P<args>[^()]*)\)\s*")  # the whole expression is one call
FACT_PARAMETERS = ("figure", "name", "fmt")  # the signature of fact() in hooks/macros.py

# Placeholders for those expressions while a page is cut into sentences: no space and no full stop, so
# they never end a sentence, and each carries the index of its expression. LINE_FILLER keeps the line
# numbers right when an expression spans several lines.
MARK = "\x00"
LINE_FILLER = "\x01"
PLACEHOLDER = re.compile(f"{MARK}(\\d+){MARK}")


@dataclass(frozen=True)
class FactCall:
    figure: str
    name: str
    fmt: str


@dataclass(frozen=True)
class Expression:
    source: str  # between {{ and }}
    where: str  # page:line, for messages
    calls: tuple[FactCall, ...]  # its fact() calls with literal arguments
    plain: bool  # nothing but one fact() call: rendered directly (compiling 270 Jinja expressions takes ~0.5 s)


@dataclass
class Sentence:
    page: str
    line: int
    text: str  # with a PLACEHOLDER for each expression
    expressions: list[Expression]


def parse_fact_call(args: str, where: str) -> FactCall:
    """fact(ARGS) bound the way the macro binds them; the arguments must be literals."""
    try:
        call = ast.parse(f"fact({args})", mode="eval").body
        values = [ast.literal_eval(a) for a in call.args]
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError) as exc:
        raise DiffError(
            f"{where}: fact({args}) must have literal arguments to be compared ({exc})"
        ) from exc
    bound = dict(zip(FACT_PARAMETERS, values))
    if (
        len(values) > len(FACT_PARAMETERS)
        or set(keywords) - set(FACT_PARAMETERS)
        or set(bound) & set(keywords)
    ):
        raise DiffError(
            f"{where}: fact({args}) does not match fact(figure, name, fmt={DEFAULT_FORMAT!r})"
        )
    bound.update(keywords)
    if not {"figure", "name"} <= bound.keys():
        raise DiffError(f"{where}: fact({args}) needs a figure and a fact name")
    return FactCall(bound["figure"], bound["name"], bound.get("fmt", DEFAULT_FORMAT))


def _mask_expressions(text: str, page: str) -> tuple[str, list[Expression]]:
    # {% raw %} shows template syntax as it is: nothing to render
    raw = [m.span() for m in RAW.finditer(text)]
    expressions: list[Expression] = []

    def replace(match: re.Match) -> str:
        source = match.group("source")
        if any(start <= match.start() < end for start, end in raw) or not CALLS_FACT.search(source):
            return match.group(0)
        where = f"{page}:{text.count(chr(10), 0, match.start()) + 1}"
        calls = tuple(parse_fact_call(m.group("args"), where) for m in CALLS_FACT.finditer(source))
        expressions.append(
            Expression(source, where, calls, PLAIN_FACT.fullmatch(source) is not None)
        )
        return f"{MARK}{len(expressions) - 1}{MARK}" + f"\n{LINE_FILLER}" * match.group(0).count(
            "\n"
        )

    return EXPRESSION.sub(replace, text), expressions


# A Markdown line that begins a block of its own: heading, table row, list item, admonition, details, maths.
_BLOCK_START = re.compile(r"(#{1,6}\s|\||[-*+]\s|\d+[.)]\s|!!!|\?\?\?|\$\$)")
_FENCE = re.compile(r"(`{3,}|~{3,})")
# A sentence ends at . ! or ? (perhaps followed by a closing bracket, quote or emphasis) and whitespace,
# when the next one starts like a sentence: a capital, maths, a bracket, emphasis or an expression.
_BOUNDARY = re.compile(r"[.!?][)\]\"'*_]*\s+(?=[A-Z$(\[*_\"`\x00])")
_ABBREVIATIONS = (" al.", "e.g.", "i.e.", "cf.", "vs.", "approx.", "Fig.", "Eq.")


def _blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    """Consecutive lines that form one paragraph, list item, table row or heading; a code line alone.

    Hand-rolled rather than a Markdown parser: all that is needed is which source lines make one run of
    prose, with their line numbers, and the site's Markdown extensions (admonitions, snippets, macros)
    are not what a plain CommonMark parser knows anyway.
    """
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    fence = ""
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(LINE_FILLER):  # the rest of a line whose expression spanned lines
            if current:
                current.append((number, stripped))
            continue
        opener = _FENCE.match(stripped)
        if fence or opener:
            if current:
                blocks.append(current)
                current = []
            if not fence:
                fence = opener.group(1)
            elif stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = ""
            else:
                blocks.append([(number, stripped)])
            continue
        if not stripped or _BLOCK_START.match(stripped):
            if current:
                blocks.append(current)
            current = [(number, stripped)] if stripped else []
            if stripped.startswith(("|", "#")):  # a table row or a heading joins no other line
                blocks.append(current)
                current = []
            continue
        current.append((number, stripped))
    if current:
        blocks.append(current)
    return blocks


def _split(block: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(line, text) of each sentence of a block."""
    text, starts = "", []
    for number, line in block:
        text += " " if text and not line.startswith(LINE_FILLER) else ""
        starts.append((len(text), number))
        text += line.lstrip(LINE_FILLER)
    sentences, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        if text[start : boundary.start() + 1].endswith(_ABBREVIATIONS):
            continue
        sentences.append((start, text[start : boundary.end()].strip()))
        start = boundary.end()
    sentences.append((start, text[start:].strip()))
    return [(max(n for offset, n in starts if offset <= s), t) for s, t in sentences if t]


def page_sentences(path: Path, page: str) -> list[Sentence]:
    """Every sentence of a page that shows at least one fact."""
    masked, expressions = _mask_expressions(path.read_text(encoding="utf-8"), page)
    found = []
    for block in _blocks(masked.split("\n")):
        for line, text in _split(block):
            indices = [int(i) for i in PLACEHOLDER.findall(text)]
            if indices:
                found.append(Sentence(page, line, text, [expressions[i] for i in indices]))
    return found


class Renderer:
    """Renders sentences with BASE's or HEAD's facts; a number that reads differently is set in bold.

    A HEAD fact within the tolerance of BASE's is shown as BASE's: float noise that happens to cross a
    rounding boundary (-0.10535 against -0.10535001 shown with ".4f") is not a change of the page.
    """

    def __init__(
        self, base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]], tol: Tolerance
    ) -> None:
        import jinja2  # mkdocs' own dependency; imported here so the rest of the module needs only the stdlib

        self.facts = {"base": base, "head": head}
        self.tol = tol
        self.env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
        self.error = jinja2.TemplateError
        self._compiled: dict[str, Any] = {}

    def shown(self, side: str, call: FactCall) -> str:
        figure = self.facts[side].get(call.figure)
        if figure is None:
            return f"⟨no figure {call.figure}⟩"
        if call.name not in figure:
            return f"⟨no fact {call.figure}.{call.name}⟩"
        value = figure[call.name]
        old = self.facts["base"].get(call.figure, {}).get(call.name)
        if side == "head" and old is not None and self.tol.same(old, value):
            value = old
        return format_value(value, call.fmt)

    def expression(self, e: Expression, side: str, bold: bool) -> str:
        def fact(figure: str, name: str, fmt: str = DEFAULT_FORMAT) -> str:
            call = FactCall(figure, name, fmt)
            text = self.shown(side, call)
            return (
                f"**{text}**"
                if bold and text != self.shown("head" if side == "base" else "base", call)
                else text
            )

        def figure(name: str, caption: str = "") -> str:  # noqa: ARG001 - what a reader reads is the caption
            return caption

        if e.plain:
            return fact(e.calls[0].figure, e.calls[0].name, e.calls[0].fmt)
        try:
            if e.source not in self._compiled:
                self._compiled[e.source] = self.env.compile_expression(e.source)
            compiled = self._compiled[e.source]
            return str(compiled(fact=fact, figure=figure))
        except self.error as exc:
            raise DiffError(
                f"{e.where}: {{{{{e.source}}}}} cannot be rendered here: {exc}"
            ) from exc

    def sentence(self, s: Sentence, side: str, bold: bool = False) -> str:
        pieces = PLACEHOLDER.split(s.text)  # text, index, text, index, ..., text
        for k in range(1, len(pieces), 2):
            pieces[k] = self.expression(s.expressions[k // 2], side, bold)
        return "".join(pieces)


@dataclass
class SentenceChange:
    page: str
    line: int
    before: str
    after: str


def sentence_changes(
    docs: Path,
    base: dict[str, dict[str, Any]],
    head: dict[str, dict[str, Any]],
    tol: Tolerance = Tolerance(),
) -> list[SentenceChange]:
    """Every sentence of the pages under `docs` that reads differently with BASE's facts and with HEAD's."""
    renderer = Renderer(base, head, tol)
    changes = []
    for path in sorted(docs.rglob("*.md")):
        page = path.relative_to(docs.parent).as_posix()
        for s in page_sentences(path, page):
            if renderer.sentence(s, "base") != renderer.sentence(s, "head"):
                changes.append(
                    SentenceChange(
                        page,
                        s.line,
                        renderer.sentence(s, "base", bold=True),
                        renderer.sentence(s, "head", bold=True),
                    )
                )
    return changes


def quoted_on(docs: Path) -> dict[tuple[str, str], list[str]]:
    """(figure, fact) -> the page:line places that show it."""
    places: dict[tuple[str, str], list[str]] = {}
    for path in sorted(docs.rglob("*.md")):
        for e in _mask_expressions(
            path.read_text(encoding="utf-8"), path.relative_to(docs.parent).as_posix()
        )[1]:
            for call in e.calls:
                places.setdefault((call.figure, call.name), []).append(e.where)
    return places


# ------------------------------------------------------------------------------ the comparison


@dataclass
class Comparison:
    base: Build
    head: Build
    tolerance: Tolerance
    added: list[str]
    removed: list[str]
    recomputed: list[FigureChange]
    unchanged: list[str]
    failed: list[str]
    sentences: list[SentenceChange]
    quoted: dict[tuple[str, str], list[str]]


def compare(
    base: Build, head: Build, docs: Path | None, tol: Tolerance = Tolerance()
) -> Comparison:
    both = [n for n in head.entries if n in base.entries]
    recomputed = [
        compare_figure(n, base.entries[n], head.entries[n], tol)
        for n in both
        if base.entries[n].key != head.entries[n].key
    ]
    return Comparison(
        base=base,
        head=head,
        tolerance=tol,
        added=[n for n in head.entries if n not in base.entries],
        removed=[n for n in base.entries if n not in head.entries and n not in head.failed],
        recomputed=recomputed,
        unchanged=[n for n in both if base.entries[n].key == head.entries[n].key],
        failed=list(head.failed),
        sentences=sentence_changes(docs, _facts(base), _facts(head), tol) if docs else [],
        quoted=quoted_on(docs) if docs else {},
    )


def _facts(build: Build) -> dict[str, dict[str, Any]]:
    return {name: entry.doc.get("facts", {}) for name, entry in build.entries.items()}


# ------------------------------------------------------------------------------ the report


def _value(value: Any) -> str:
    if isinstance(value, float):
        return format(value, ".7g")  # every digit the facts file keeps
    return (
        json.dumps(value, ensure_ascii=False) if not isinstance(value, (int, str)) else str(value)
    )


def _relative(old: Any, new: Any) -> str:
    if not (_is_number(old) and _is_number(new)):
        return ""
    if old == 0:
        return "from 0"
    return f"{100 * (new - old) / abs(old):+.3g} %"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _seconds(build: Build, name: str) -> str:
    timing = build.timings.get(name)
    if not timing:
        return "no timing"
    if timing.get("status") != "computed":
        return f"{timing.get('status', '?')} in HEAD's last run"
    return f"{timing['seconds']:.2f} s"


def render_report(c: Comparison, base_label: str = "BASE", head_label: str = "HEAD") -> str:
    visible = [f for f in c.recomputed if f.visible]
    silent = [f.name for f in c.recomputed if not f.visible]
    lines = [f"## Figures and numbers: {base_label} → {head_label}", ""]
    preset = c.head.preset or "unknown"
    if c.base.preset and c.head.preset and c.base.preset != c.head.preset:
        lines += [
            f"> **Warning:** BASE was built with the {c.base.preset} preset and HEAD with {c.head.preset}; "
            "every figure differs for that reason alone.",
            "",
        ]
    computed = [
        f for f in c.recomputed if c.head.timings.get(f.name, {}).get("status") == "computed"
    ]
    total = sum(c.head.timings[f.name]["seconds"] for f in computed)
    lines += [
        f"{len(c.head.entries)} figures in HEAD ({preset} preset): **{len(c.added)} added, {len(c.removed)} removed, "
        f"{len(c.recomputed)} recomputed, {len(c.unchanged)} unchanged**"
        + (f", **{len(c.failed)} failed**" if c.failed else "")
        + f". {len(c.sentences)} sentence(s) on the pages show different numbers. Recomputing took {total:.1f} s. "
        f"Facts count as moved beyond a relative change of {c.tolerance.rel:g} (absolute {c.tolerance.abs:g}).",
        "",
    ]
    if c.failed:
        lines += [
            "### Failed in HEAD",
            "",
            *(f"- `{n}`: see the figures step's log and annotations" for n in c.failed),
            "",
        ]
    if visible or silent:
        lines += [
            "### Recomputed figures",
            "",
            "| figure | facts moved | added / removed | image | alt text | run time |",
            "|---|---:|---|---|---|---:|",
        ]
        for f in c.recomputed:
            lines.append(
                f"| `{f.name}` | {len(f.moved)} | "
                f"{len(f.facts_added)} / {len(f.facts_removed)} | {'changed' if f.image_changed else 'same'} | "
                f"{'changed' if f.alt else 'same'} | {_seconds(c.head, f.name)} |"
            )
        lines.append("")
        for f in visible:
            lines += _figure_section(f, c)
        if silent:
            lines += [
                "Recomputed with nothing a reader sees changed (same facts, data, image and alt text): "
                + ", ".join(f"`{n}`" for n in silent)
                + ".",
                "",
            ]
    for title, names, build in (
        ("Added figures", c.added, c.head),
        ("Removed figures", c.removed, c.base),
    ):
        if names:
            lines += [f"### {title}", ""]
            for n in names:
                facts = build.entries[n].doc.get("facts", {})
                lines.append(
                    f"- `{n}` ({len(facts)} facts"
                    + (f", {_seconds(c.head, n)}" if build is c.head else "")
                    + ")"
                )
            lines.append("")
    lines += ["### Sentences whose numbers changed", ""]
    if not c.sentences:
        lines += ["None: every number the pages quote reads the same.", ""]
    for s in c.sentences:
        lines += [
            f"- **`{s.page}`, line {s.line}**",
            f"  - before: {s.before}",
            f"  - after: {s.after}",
        ]
    if c.sentences:
        lines.append("")
    if c.unchanged:
        lines += [
            "<details><summary>"
            + f"{len(c.unchanged)} unchanged figures (same cache key)"
            + "</summary>",
            "",
            ", ".join(f"`{n}`" for n in c.unchanged),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def _figure_section(f: FigureChange, c: Comparison) -> list[str]:
    lines = [
        f"#### {f.name}",
        "",
        f"Run time in HEAD: {_seconds(c.head, f.name)}. Image "
        + ("changed" if f.image_changed else "unchanged")
        + "."
        + (
            f" Plotted data changed: {', '.join(f'`{k}`' for k in f.data_changed)}."
            if f.data_changed
            else ""
        ),
        "",
    ]
    if f.config_changed:
        lines += [
            "Configuration: "
            + "; ".join(f"`{m.name}` {_value(m.old)} → {_value(m.new)}" for m in f.config_changed)
            + ".",
            "",
        ]
    if f.moved:
        lines += ["| fact | BASE | HEAD | change | quoted on |", "|---|---:|---:|---:|---|"]
        for m in f.moved:
            places = ", ".join(c.quoted.get((f.name, m.name), [])) or "no page"
            lines.append(
                f"| `{m.name}` | {_cell(_value(m.old))} | {_cell(_value(m.new))} | {_relative(m.old, m.new)} | {places} |"
            )
        lines.append("")
    for label, facts in (("Facts added", f.facts_added), ("Facts removed", f.facts_removed)):
        if facts:
            lines += [
                f"{label}: " + ", ".join(f"`{k}` = {_value(v)}" for k, v in facts.items()) + ".",
                "",
            ]
    if f.alt:
        lines += ["Alt text changed:", "", f"- before: {f.alt[0]}", f"- after: {f.alt[1]}", ""]
    return lines


def copy_images(c: Comparison, dest: Path) -> list[Path]:
    """NAME.base.svg and NAME.head.svg for every figure whose image differs, was added or was removed."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in [*dest.glob("*.base.svg"), *dest.glob("*.head.svg")]:
        old.unlink()  # images of an earlier report would pass for changes of this one
    copied = []
    for f in c.recomputed:
        if f.image_changed:
            copied += [
                _copy(c.base.entries[f.name].svg, dest / f"{f.name}.base.svg"),
                _copy(c.head.entries[f.name].svg, dest / f"{f.name}.head.svg"),
            ]
    copied += [_copy(c.head.entries[n].svg, dest / f"{n}.head.svg") for n in c.added]
    copied += [_copy(c.base.entries[n].svg, dest / f"{n}.base.svg") for n in c.removed]
    return copied


def _copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


# ------------------------------------------------------------------------------ command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "base", type=Path, metavar="BASE_DIR", help="figures directory before the change"
    )
    parser.add_argument(
        "head", type=Path, metavar="HEAD_DIR", help="figures directory after the change"
    )
    parser.add_argument(
        "--out", type=Path, help="write the Markdown report here (default: standard output)"
    )
    parser.add_argument(
        "--images", type=Path, metavar="DIR", help="copy old/new SVGs of each changed figure here"
    )
    parser.add_argument(
        "--docs",
        type=Path,
        default=paths.REPO_ROOT / "docs",
        help="pages whose fact() sentences are compared (default: this checkout's docs/)",
    )
    parser.add_argument(
        "--rel-tol",
        type=float,
        default=REL_TOL,
        help=f"relative tolerance for facts (default {REL_TOL:g})",
    )
    parser.add_argument(
        "--abs-tol",
        type=float,
        default=ABS_TOL,
        help=f"absolute tolerance for facts (default {ABS_TOL:g})",
    )
    parser.add_argument("--base-label", default="BASE", help="name of BASE in the report's title")
    parser.add_argument("--head-label", default="HEAD", help="name of HEAD in the report's title")


def run(args: argparse.Namespace) -> int:
    try:
        if not args.docs.is_dir():
            raise DiffError(f"{args.docs}: no such docs directory")
        comparison = compare(
            load_build(args.base),
            load_build(args.head),
            args.docs,
            Tolerance(args.rel_tol, args.abs_tol),
        )
        report = render_report(comparison, args.base_label, args.head_label)
        if args.images:
            copy_images(comparison, args.images)
    except DiffError as exc:
        print(f"diff: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", encoding="utf-8")
    else:
        print(report)
    return 0
