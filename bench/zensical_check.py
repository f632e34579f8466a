"""Build the site with Zensical, Material for MkDocs' successor, and list what it lacks next to the MkDocs build.

    .venv/bin/python bench/zensical_check.py [--zensical-version X] [--mkdocs-site DIR] [--out build/zensical]
    make zensical                       (the same, with the Makefile's pinned ZENSICAL_VERSION)

Zensical reads mkdocs.yml, but it runs no MkDocs hooks and silently ignores the plugins it has no
replacement for, so a build "succeeds" while figures, maths, notebooks and more are missing. This script:

1. runs the CLI steps that the MkDocs hooks run, so the sources are complete: `python -m lessons_code figures`
   (GTT_PRESET=fast: `--fast`) and, once the notebook pipeline has one, its execution step;
2. installs Zensical, pinned, into a virtual environment of its own (build/zensical-venv) and builds a copy of
   the sources with it into build/zensical/zensical-site; if the build stops, it is built again with the
   settings that turn stops into listed findings (strict off, macro errors shown on their page, a template
   override that Zensical's template engine cannot render set aside), each named in the report;
3. builds the MkDocs site into build/zensical/mkdocs-site (or reads the one --mkdocs-site names);
4. compares the two and writes a Markdown report to build/zensical/report.md (and prints it): pages,
   figures, maths, notebooks, facts, snippets, search, glossary links, citation box, PDF and more, plus the
   project logic that is still MkDocs-only and its portable form.

It never fails because Zensical lacks a feature: listing those is its job. It fails (exit 1, the report
says why) only when Zensical cannot be installed, when Zensical's build crashes even with those settings,
or when a step it needs (figures, notebooks, the MkDocs build it compares against) fails.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "build" / "zensical"
# Zensical goes into a virtual environment of its own, never into .venv or the lock files: it pins its own
# Markdown stack (Python-Markdown, pymdown-extensions, Jinja, Pygments...), whose versions could conflict with
# what MkDocs, Material and the plugins are locked to, and a change of Zensical must never move the site's build.
VENV = REPO / "build" / "zensical-venv"
# Zensical's `build` has no --site-dir and requires site_dir inside the folder of its config file, and it keeps a
# .cache/ there: the sources are copied into build/zensical/project, so the working tree gets nothing new.
SKIP_TOP = {".git", ".venv", "node_modules", "build", "site", ".cache"}
SKIP_ANYWHERE = ("__pycache__", "*.egg-info", ".pytest_cache", ".ipynb_checkpoints")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TEMPLATE_ERROR = re.compile(r"\(in ([\w./-]+\.html):(\d+)\)")
# an unrendered {{ fact(...) }}, {{ figure(...) }}, ...
MACRO_CALL = re.compile(r"\{\{\s*[\w.]+\s*\(")
DOLLAR_MATHS = re.compile(r"(?<![\\$\w])\$[^$\s][^$]*?(?<!\\)\$(?!\w)")  # $...$ left as text

# Which MkDocs-only mechanism does what, and the form that every static-site tool (Zensical included) could
# run. Kept by hand: the report shows it beside the measured differences that each line explains.
MKDOCS_ONLY = [
    (
        "hooks/figures.py",
        "runs `python -m lessons_code figures` before the build; adds build/figures/PRESET/"
        "*.svg, *.json and *.png to the site as figures/",
        "the same CLI step run before any build (make, CI), "
        "writing into a folder the site tool reads: a docs/figures/ that git ignores, or the tool's extra-files setting",
    ),
    (
        "hooks/notebooks.py",
        "executes the notebooks (cached), adds their pages and the .ipynb downloads, "
        'appends a "Run it yourself" section to each lesson',
        "`python -m lessons_code notebooks --execute` plus a "
        "step that writes each notebook's Markdown page and .ipynb under docs/notebooks/ (ignored by git); the lesson's "
        "section written in its Markdown source or included with a snippet",
    ),
    (
        "hooks/maths.py",
        "renders $...$ with KaTeX in node at build time and copies KaTeX's CSS and fonts",
        "a Python-Markdown extension (an arithmatex formatter, or a postprocessor) that calls the same renderer: "
        "Zensical runs Python-Markdown extensions; KaTeX's dist files copied by the same step as the figures",
    ),
    (
        "hooks/glossary.py",
        "turns the first <abbr> of each glossary term into a link to its entry",
        "a Python-Markdown treeprocessor after abbr (the same selection rules, on the element tree)",
    ),
    (
        "hooks/macros.py + hooks/citation.py + hooks/print_pdf.py",
        "fact(), figure() are defined in the macros "
        "module (Zensical's macros extension runs them); cite_this_chapter() and read_offline() are registered by "
        "hooks in on_config",
        "define every macro in the macros module (define_env), which reads CITATION.cff itself; "
        "no registration from a hook",
    ),
    (
        "hooks/page_speed.py",
        "data-search-exclude on every <pre>, code line counts, no lightbox on pages without images",
        "a Python-Markdown treeprocessor for the attributes; glightbox off per page in front matter",
    ),
    (
        "hooks/print_pdf.py + mkdocs-print-site",
        "the one-page chapter (print_page/) and the PDF from it",
        "a step after any build that joins the built pages and prints them with Chromium (Playwright)",
    ),
    (
        "hooks/social.py",
        "link-preview cards (figure PNGs, the site card) and og:image",
        "the figure step "
        "already writes the PNGs; the site card drawn by the same step; the tags in the template override",
    ),
    (
        "hooks/vendor_patch_material.py",
        "patches Material 9.8.1's palette stylesheet",
        "none needed: Zensical "
        "ships its own stylesheets (check whether the costly rule is still there)",
    ),
    (
        "mkdocs-jupyter",
        "renders the executed notebooks as pages",
        "nbconvert's MarkdownExporter writing Markdown pages before the build (no plugin)",
    ),
    (
        "git-revision-date-localized",
        '"Last updated" from git',
        "nothing to move: Zensical 0.1.3 replaces it natively (0.0.73 ignores it)",
    ),
]


def log(message: str) -> None:
    print(f"zensical_check: {message}", file=sys.stderr, flush=True)


def run(
    command: list[str], *, env: dict | None = None, cwd: Path = REPO
) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)
    return time.perf_counter() - started, proc


class CheckFailed(Exception):
    """A failure that stops the check: the message says which step and why."""


def tail(proc: subprocess.CompletedProcess, lines: int = 25) -> str:
    return "\n".join(
        ANSI.sub("", (proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[-lines:]
    )


# ---------------------------------------------------------------------------------------------- the steps


def install_zensical(version: str) -> tuple[str, float]:
    zensical = VENV / "bin" / "zensical"
    if zensical.exists():
        _, proc = run([str(zensical), "--version"])
        if proc.returncode == 0 and proc.stdout.strip() == version:
            return version, 0.0
    seconds = 0.0
    if not (VENV / "bin" / "python").exists():
        seconds, proc = run([sys.executable, "-m", "venv", "--clear", str(VENV)])
        if proc.returncode:
            raise CheckFailed(f"could not create {VENV}:\n{tail(proc)}")
    # Wheels only: no package's build code runs. Zensical's own dependencies float (its metadata pins them).
    more, proc = run(
        [
            str(VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "--only-binary",
            ":all:",
            f"zensical=={version}",
        ]
    )
    if proc.returncode:
        raise CheckFailed(
            f"could not install zensical=={version} into {VENV.relative_to(REPO)} "
            f"(pip exit {proc.returncode}):\n{tail(proc)}"
        )
    return version, seconds + more


def prerequisites(preset: str, env: dict) -> list[tuple[str, float, str]]:
    """The CLI steps that the MkDocs hooks run; Zensical runs no hooks, so they run here first."""
    steps = [
        [sys.executable, "-m", "lessons_code", "figures", *(["--fast"] if preset == "fast" else [])]
    ]
    _, proc = run([sys.executable, "-m", "lessons_code", "notebooks", "--help"], env=env)
    if proc.returncode == 0 and "--execute" in proc.stdout:
        steps.append([sys.executable, "-m", "lessons_code", "notebooks", "--check", "--execute"])
    done = []
    for command in steps:
        seconds, proc = run(command, env=env)
        shown = " ".join(["python", *command[1:]])
        if proc.returncode:
            raise CheckFailed(f"`{shown}` failed (exit {proc.returncode}):\n{tail(proc)}")
        done.append((shown, seconds, tail(proc, 1)))
    if len(steps) == 1:
        done.append(
            (
                "(no notebook step)",
                0.0,
                "`python -m lessons_code notebooks --execute` does not exist yet: "
                "notebooks run only inside hooks/notebooks.py",
            )
        )
    return done


def build_mkdocs(site: Path, env: dict) -> tuple[float, list[str]]:
    # --no-strict: the strict build is the test job's; here MkDocs is only the yardstick, and its warnings
    # are listed rather than allowed to stop the comparison.
    seconds, proc = run(
        [sys.executable, "-m", "mkdocs", "build", "--no-strict", "--site-dir", str(site)], env=env
    )
    if proc.returncode:
        raise CheckFailed(
            f"the MkDocs build that the Zensical build is compared with failed (exit {proc.returncode}):"
            f"\n{tail(proc)}"
        )
    warnings = [
        line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("WARNING")
    ]
    return seconds, warnings


def stage(project: Path) -> None:
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    for entry in sorted(REPO.iterdir()):
        if entry.name in SKIP_TOP:
            continue
        if entry.is_dir():
            shutil.copytree(
                entry, project / entry.name, ignore=shutil.ignore_patterns(*SKIP_ANYWHERE)
            )
        else:
            shutil.copy2(entry, project / entry.name)


def _set_false(text: str, key: str) -> tuple[str, bool]:
    new, count = re.subn(rf"^(\s*{key}:\s*)true\b", r"\1false", text, flags=re.M)
    return new, count > 0


@dataclass
class Attempt:
    settings: str
    seconds: float
    returncode: int
    error: str
    output: str


@dataclass
class ZensicalBuild:
    attempts: list[Attempt] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    theme_variant: str = ""


def first_error(output: str, project: Path) -> str:
    lines = output.splitlines()
    error = next((line for line in lines if line.startswith("RuntimeError:")), None)
    error = error or next(
        (line for line in reversed(lines) if re.match(r"^\w*(Error|Exception|panicked)\b", line)),
        lines[-1] if lines else "no output",
    )
    # the project's own code
    frames = [i for i, line in enumerate(lines) if f'File "{project}/' in line]
    if frames:
        where = lines[frames[-1]].strip().replace(f"{project}/", "")
        error += (
            f" — raised at {where}: `{lines[frames[-1] + 1].strip()}`"
            if frames[-1] + 1 < len(lines)
            else ""
        )
    return error


def build_zensical(project: Path, site: Path, env: dict, max_attempts: int = 8) -> ZensicalBuild:
    result = ZensicalBuild()
    config = project / "mkdocs.yml"
    custom_dir = project / (
        load_mkdocs_yml(config).get("theme", {}).get("custom_dir") or "overrides"
    )
    for number in range(max_attempts):
        if (project / "site").exists():
            shutil.rmtree(project / "site")
        seconds, proc = run([str(VENV / "bin" / "zensical"), "build"], env=env, cwd=project)
        output = ANSI.sub("", proc.stdout + proc.stderr)
        error = first_error(output, project) if proc.returncode else ""
        settings = (
            "mkdocs.yml as it is"
            if number == 0
            else "mkdocs.yml with " + "; ".join(result.relaxed + result.set_aside)
        )
        result.attempts.append(Attempt(settings, seconds, proc.returncode, error, output))
        if proc.returncode == 0:
            result.warnings = zensical_warnings(output)
            break
        # turn stops into findings: warnings listed, a failing macro shown on its page
        if number == 0:
            text = config.read_text(encoding="utf-8")
            text, strict = _set_false(text, "strict")
            text, macros = _set_false(text, "on_error_fail")
            config.write_text(text, encoding="utf-8")
            result.relaxed += (["`strict: false`"] if strict else []) + (
                ["macros `on_error_fail: false`"] if macros else []
            )
            if strict or macros:
                continue
        template = TEMPLATE_ERROR.search(error)
        if template and (custom_dir / template[1]).is_file():
            aside = project / "set-aside" / template[1]
            aside.parent.mkdir(parents=True, exist_ok=True)
            (custom_dir / template[1]).rename(aside)
            result.set_aside.append(
                f"template override `{custom_dir.name}/{template[1]}` (line {template[2]} fails)"
            )
            continue
        break
    if result.attempts[-1].returncode:
        raise CheckFailed(
            f"Zensical's build crashed (exit {result.attempts[-1].returncode}): "
            f"{result.attempts[-1].error}\n{result.attempts[-1].output.strip()[-3000:]}"
        )
    if site.exists():
        shutil.rmtree(site)
    (project / "site").rename(site)
    result.theme_variant = theme_variant(project / "mkdocs.yml")
    return result


def zensical_warnings(output: str) -> list[str]:
    """Each "Warning: what" with the place ("[ page.md:line:col ]") that Zensical draws under it."""
    found, lines = [], output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Warning:"):
            where = next(
                (
                    m[1]
                    for m in map(re.compile(r"\[ (\S+:\d+:\d+) \]").search, lines[i + 1 : i + 4])
                    if m
                ),
                "",
            )
            found.append(f"{line.strip()} ({where})" if where else line.strip())
        elif "Macro rendering failed" in line:
            found.append(line.strip())
    return found


class _Loader:
    """mkdocs.yml with its !ENV tags (read as their default) through PyYAML's safe loader."""

    @staticmethod
    def load(path: Path) -> dict:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def env_tag(loader, node):
            values = (
                loader.construct_sequence(node)
                if isinstance(node, yaml.SequenceNode)
                else [loader.construct_scalar(node)]
            )
            return next(
                (os.environ[v] for v in values[:-1] if v in os.environ),
                values[-1] if len(values) > 1 else None,
            )

        Loader.add_constructor("!ENV", env_tag)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}


load_mkdocs_yml = _Loader.load


def theme_variant(config: Path) -> str:
    variant = (load_mkdocs_yml(config).get("theme") or {}).get("variant")
    return (
        variant
        or "modern (Zensical's default when mkdocs.yml names none; `variant: classic` keeps Material's look)"
    )


def plugin_support(config: dict) -> list[tuple[str, str]]:
    """For each plugin in mkdocs.yml: supported by this Zensical, which of our settings it ignores, or ignored.

    Zensical has no public list: it drops unknown plugins without a word. Its table of replaced plugins
    (private, `zensical.config._PLUGIN_UNSUPPORTED_OPTIONS`: plugin -> settings it ignores) is read from its
    own environment; if a release renames it, the report says that support could not be read."""
    code = (
        "import json, zensical.config as c; "
        "print(json.dumps({k: list(v) for k, v in c._PLUGIN_UNSUPPORTED_OPTIONS.items()}))"
    )
    _, proc = run([str(VENV / "bin" / "python"), "-c", code])
    table = json.loads(proc.stdout) if proc.returncode == 0 else None
    rows = []
    for item in config.get("plugins") or []:
        name, settings = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        if table is None:
            rows.append((name, "could not be read from this Zensical release"))
        elif name not in table:
            rows.append((name, "**ignored** (no Zensical replacement: not run, no warning)"))
        else:
            ignored = sorted(set(settings or {}) & set(table[name]))
            rows.append(
                (
                    name,
                    "supported"
                    + (f"; ignores our {', '.join(f'`{s}`' for s in ignored)}" if ignored else ""),
                )
            )
    return rows


# ---------------------------------------------------------------------------------------------- comparing


@dataclass
class Page:
    words: int = 0
    katex: int = 0  # formulas rendered by KaTeX
    raw_maths: int = (
        0  # formulas left as TeX source: arithmatex's \( \) / \[ \] wrappers, $...$ in the text
    )
    images: int = 0
    images_resolving: int = 0
    # site paths that links, stylesheets, scripts point at, absent
    broken: list[str] = field(default_factory=list)
    # stylesheets, scripts, images from other hosts
    external_loads: list[str] = field(default_factory=list)
    headings: set[str] = field(default_factory=set)
    macro_calls: int = 0
    macro_errors: int = 0
    snippets: int = 0
    glossary_links: int = 0
    abbr: int = 0
    code_blocks: int = 0
    search_excluded: int = 0
    lightbox: int = 0
    explorer: bool = False
    explorer_script: bool = False
    og_image: bool = False
    last_updated: bool = False
    cite_box: bool = False
    read_offline: bool = False


def _target(site: Path, page_file: Path, target: str, base: str = "/") -> Path | None:
    """The file a link from the page points at (None: the same page); `base` is site_url's path, which absolute
    links (the 404 page's) start with."""
    path = unquote(urlsplit(target).path)
    if not path:
        return None  # "#anchor" or "?query" on the same page
    if path.startswith("/"):
        return (site / (path[len(base) :] if path.startswith(base) else path.lstrip("/"))).resolve()
    return (page_file.parent / path).resolve()


def _resolves(site: Path, page_file: Path, target: str, base: str = "/") -> bool:
    resolved = _target(site, page_file, target, base)
    return resolved is None or resolved.is_file() or (resolved / "index.html").is_file()


def analyse_page(site: Path, page_file: Path, base: str = "/") -> Page:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(page_file.read_text(encoding="utf-8"))
    page = Page()
    content = tree.css_first("article") or tree.body
    for node in tree.css("link[href], script[src], img[src], a[href]"):
        target = node.attributes.get("href") or node.attributes.get("src") or ""
        scheme = urlsplit(target).scheme
        loads = node.tag != "a" and (
            node.tag != "link"
            or (node.attributes.get("rel") or "") in ("stylesheet", "preload", "icon")
        )
        if scheme in ("http", "https") or target.startswith("//"):
            if loads:
                page.external_loads.append(target)
        elif (
            not scheme
            and not _resolves(site, page_file, target, base)
            and not target.startswith("mailto:")
        ):
            resolved = _target(site, page_file, target, base)
            page.broken.append(
                str(resolved.relative_to(site.resolve()))
                if resolved.is_relative_to(site.resolve())
                else target
            )
    if content is None:
        return page
    page.katex = len(content.css("span.katex"))
    page.raw_maths = sum(
        1 for node in content.css(".arithmatex") if node.css_first(".katex") is None
    )
    page.images = len(content.css("img"))
    page.images_resolving = sum(
        1
        for img in content.css("img[src]")
        if _resolves(site, page_file, img.attributes["src"], base)
    )
    page.headings = {h.attributes.get("id") for h in content.css("h2[id], h3[id]")}
    page.glossary_links = sum(
        1 for a in content.css("a[href]") if "glossary/#" in (a.attributes["href"] or "")
    )
    page.abbr = len(content.css("abbr"))
    page.code_blocks = len(content.css("pre"))
    page.search_excluded = len(content.css("pre[data-search-exclude]"))
    page.lightbox = len(content.css("a.glightbox"))
    page.explorer = content.css_first("div.gtt-explorer") is not None
    page.explorer_script = any(
        "explorer.js" in (s.attributes.get("src") or "") for s in tree.css("script[src]")
    )
    page.og_image = tree.css_first('meta[property="og:image"]') is not None
    page.last_updated = tree.css_first(".md-source-file") is not None
    page.read_offline = content.css_first(".gtt-read-offline") is not None
    # the BibTeX entry, whatever the highlighter made of it
    page.cite_box = "@misc{" in content.text(separator="")
    for node in content.css("pre, code, script, style, .arithmatex, .katex"):
        node.decompose()
    # what a reader sees as prose: code may show these markers on purpose
    text = content.text(separator=" ")
    page.macro_errors = text.count("Macro Rendering Error") + text.count("Macro Syntax Error")
    page.snippets = text.count("--8<--")
    page.words = len(text.split())
    page.macro_calls = len(MACRO_CALL.findall(text))
    page.raw_maths += len(DOLLAR_MATHS.findall(text))
    return page


def analyse_site(site: Path, base: str = "/") -> dict[str, Page]:
    return {
        str(f.relative_to(site)): analyse_page(site, f, base) for f in sorted(site.rglob("*.html"))
    }


def search_entries(site: Path) -> tuple[str, int] | None:
    # MkDocs / Zensical
    for name, key in (
        ("search/search_index.json", "docs"),
        ("search.json", "items"),
    ):
        path = site / name
        if path.is_file():
            return name, len(json.loads(path.read_text(encoding="utf-8")).get(key, []))
    return None


def files(site: Path, pattern: str) -> set[str]:
    return {str(p.relative_to(site)) for p in site.rglob(pattern)}


@dataclass
class Finding:
    what: str
    mkdocs: str
    zensical: str
    status: str  # "missing", "partial", "broken", "same"


def status(mkdocs: int, zensical: int) -> str:
    return "same" if zensical >= mkdocs else ("missing" if zensical == 0 else "partial")


def compare(
    mk_site: Path, zs_site: Path, base: str = "/"
) -> tuple[list[Finding], dict[str, Page], dict[str, Page]]:
    """What the Zensical site lacks; page-level counts are over the pages both sites have (a missing page,
    the one-page chapter included, is listed once, under Pages, and does not count again)."""
    mk, zs = analyse_site(mk_site, base), analyse_site(zs_site, base)
    common = sorted(set(mk) & set(zs))

    def total(pages: dict[str, Page], attr: str) -> int:
        return sum(int(getattr(pages[p], attr)) for p in common)

    findings = []
    add = findings.append
    missing_pages = sorted(set(mk) - set(zs))
    add(
        Finding(
            "Pages",
            f"{len(mk)} HTML files",
            f"{len(zs)}" + (f"; missing: {', '.join(missing_pages)}" if missing_pages else ""),
            "missing" if missing_pages else "same",
        )
    )
    mk_svg, zs_svg = files(mk_site, "figures/*.svg"), files(zs_site, "figures/*.svg")
    add(
        Finding(
            "Figures (SVG files under figures/)",
            str(len(mk_svg)),
            str(len(zs_svg & mk_svg)),
            status(len(mk_svg), len(zs_svg & mk_svg)),
        )
    )
    mk_img, zs_img = total(mk, "images_resolving"), total(zs, "images_resolving")
    add(
        Finding(
            "Images that resolve (<img>)",
            f"{mk_img} of {total(mk, 'images')}",
            f"{zs_img} of {total(zs, 'images')}",
            status(mk_img, zs_img),
        )
    )
    mk_k, zs_k, zs_raw = total(mk, "katex"), total(zs, "katex"), total(zs, "raw_maths")
    add(
        Finding(
            "Maths rendered with KaTeX (formulas)",
            f"{mk_k} (raw TeX left: {total(mk, 'raw_maths')})",
            f"{zs_k} (raw TeX left: {zs_raw})",
            "missing" if zs_k == 0 and mk_k else ("partial" if zs_raw else "same"),
        )
    )
    mk_nb, zs_nb = (
        [p for p in mk if p.startswith("notebooks/")],
        [p for p in zs if p.startswith("notebooks/")],
    )
    add(Finding("Notebook pages", str(len(mk_nb)), str(len(zs_nb)), status(len(mk_nb), len(zs_nb))))
    mk_ipynb, zs_ipynb = files(mk_site, "*.ipynb"), files(zs_site, "*.ipynb")
    add(
        Finding(
            "Downloadable notebooks (.ipynb)",
            str(len(mk_ipynb)),
            str(len(zs_ipynb)),
            status(len(mk_ipynb), len(zs_ipynb)),
        )
    )
    calls, errors = total(zs, "macro_calls"), [p for p in zs if zs[p].macro_errors]
    add(
        Finding(
            "Facts and macros rendered",
            f"{total(mk, 'macro_calls')} `{{{{ name(` left",
            f"{calls} `{{{{ name(` left; macro errors on {', '.join(errors) or 'no page'}",
            "broken" if calls > total(mk, "macro_calls") or errors else "same",
        )
    )
    add(
        Finding(
            "Snippets included (`--8<--` left in the output)",
            str(total(mk, "snippets")),
            str(total(zs, "snippets")),
            "broken" if total(zs, "snippets") > total(mk, "snippets") else "same",
        )
    )
    mk_code, zs_code = total(mk, "code_blocks"), total(zs, "code_blocks")
    add(Finding("Code blocks", str(mk_code), str(zs_code), status(mk_code, zs_code)))
    mk_s, zs_s = search_entries(mk_site), search_entries(zs_site)
    add(
        Finding(
            "Search index",
            f"{mk_s[0]}, {mk_s[1]} entries" if mk_s else "none",
            f"{zs_s[0]}, {zs_s[1]} entries" if zs_s else "none",
            "same" if zs_s or not mk_s else "missing",
        )
    )
    mk_ex, zs_ex = total(mk, "search_excluded"), total(zs, "search_excluded")
    add(
        Finding(
            "Code left out of the search index (`data-search-exclude`)",
            str(mk_ex),
            str(zs_ex),
            status(mk_ex, zs_ex),
        )
    )
    mk_g, zs_g = total(mk, "glossary_links"), total(zs, "glossary_links")
    add(
        Finding(
            "Glossary links (first use of a term)",
            f"{mk_g} (hover marks: {total(mk, 'abbr')})",
            f"{zs_g} (hover marks: {total(zs, 'abbr')})",
            status(mk_g, zs_g),
        )
    )
    add(
        Finding(
            '"Cite this chapter" box (home page)',
            yes(mk, "cite_box"),
            yes(zs, "cite_box"),
            status(any_(mk, "cite_box"), any_(zs, "cite_box")),
        )
    )
    add(
        Finding(
            '"Read offline" links (home page)',
            yes(mk, "read_offline"),
            yes(zs, "read_offline"),
            status(any_(mk, "read_offline"), any_(zs, "read_offline")),
        )
    )
    mk_pdf, zs_pdf = files(mk_site, "*.pdf"), files(zs_site, "*.pdf")
    add(
        Finding(
            "PDF and one-page chapter (print_page/)",
            f"{', '.join(sorted(mk_pdf)) or 'no PDF'}; "
            f"print_page/ {'yes' if 'print_page/index.html' in mk else 'no'}",
            f"{', '.join(sorted(zs_pdf)) or 'no PDF'}; "
            f"print_page/ {'yes' if 'print_page/index.html' in zs else 'no'}",
            status(len(mk_pdf), len(zs_pdf)),
        )
    )
    for attr, label in (
        ("og_image", "Link previews (pages with og:image)"),
        ("last_updated", '"Last updated" dates (pages)'),
        ("explorer_script", "Gradient explorer's script (pages)"),
    ):
        add(
            Finding(
                label,
                str(total(mk, attr)),
                str(total(zs, attr)),
                status(total(mk, attr), total(zs, attr)),
            )
        )
    mk_lb, zs_lb = total(mk, "lightbox"), total(zs, "lightbox")
    add(Finding("Figures that open in the lightbox", str(mk_lb), str(zs_lb), status(mk_lb, zs_lb)))
    lost = {
        p: sorted(mk[p].headings - zs[p].headings)
        for p in common
        if mk[p].headings - zs[p].headings
    }
    add(
        Finding(
            "Sections (h2/h3 ids) missing",
            "",
            "; ".join(f"{p}: {', '.join(h)}" for p, h in lost.items()) or "none",
            "missing" if lost else "same",
        )
    )
    broken = sorted(
        {t for p in zs.values() for t in p.broken} - {t for p in mk.values() for t in p.broken}
    )
    folders: dict[str, list[str]] = {}
    for target in broken:
        folders.setdefault(posixpath.dirname(target) + "/", []).append(posixpath.basename(target))
    add(
        Finding(
            "Links, stylesheets and scripts that point nowhere (new in Zensical's build)",
            "",
            f"{len(broken)} files: "
            + "; ".join(
                f"`{folder}` {len(names)} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                for folder, names in sorted(folders.items())
            )
            if broken
            else "none",
            "broken" if broken else "same",
        )
    )
    external = sorted({t for p in zs.values() for t in p.external_loads})
    add(
        Finding(
            "Files loaded from other hosts",
            ", ".join(sorted({t for p in mk.values() for t in p.external_loads})) or "none",
            ", ".join(external) or "none",
            "broken" if external else "same",
        )
    )
    return findings, mk, zs


def yes(pages: dict[str, Page], attr: str) -> str:
    return "yes" if any_(pages, attr) else "no"


def any_(pages: dict[str, Page], attr: str) -> int:
    return int(any(getattr(p, attr) for p in pages.values()))


# ---------------------------------------------------------------------------------------------- the report


def versions(version: str) -> list[str]:
    ours = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions")
    )
    code = (
        "import importlib.metadata as m; print(', '.join(f'{n} {m.version(n)}' for n in "
        "('markdown', 'pymdown-extensions', 'jinja2')))"
    )
    _, proc = run([str(VENV / "bin" / "python"), "-c", code])
    return [
        f"Zensical {version} ({proc.stdout.strip() or 'its packages unknown'}), in {VENV.relative_to(REPO)}",
        f"MkDocs side: {ours}",
        f"Python {platform.python_version()}",
    ]


def report(
    *,
    preset: str,
    version: str,
    steps,
    install_s: float,
    mkdocs: tuple[float, list[str]] | str,
    zensical: ZensicalBuild,
    findings: list[Finding],
    mk: dict[str, Page],
    zs: dict[str, Page],
    plugins: list[tuple[str, str]],
    hooks: list[str],
) -> str:
    out = [
        "# Zensical build compared with the MkDocs build",
        "",
        f"Preset `{preset}`. " + "; ".join(versions(version)) + ".",
        "",
    ]
    lacking = [f for f in findings if f.status != "same"]
    out += ["## What Zensical's build lacks", ""]
    out += [
        f"- **Build of {a.settings}** (stops): MkDocs builds; Zensical: {a.error}"
        for a in zensical.attempts
        if a.returncode
    ]
    out += [
        f"- **{f.what}** ({f.status}): MkDocs {f.mkdocs or '-'}; Zensical {f.zensical}"
        for f in lacking
    ] or ["- nothing"]
    out += ["", "## How the builds went", ""]
    out += [f"- `{cmd}`: {seconds:.1f} s — {last}" for cmd, seconds, last in steps]
    out.append(
        f"- install Zensical: {install_s:.1f} s"
        if install_s
        else "- Zensical was already installed at that version"
    )
    if isinstance(mkdocs, str):
        out.append(f"- MkDocs site read from {mkdocs} (not built here)")
    else:
        out.append(
            f"- MkDocs build: {mkdocs[0]:.1f} s, {len(mkdocs[1])} warning(s)"
            + "".join(f"\n  - {w}" for w in mkdocs[1])
        )
    for attempt in zensical.attempts:
        out.append(
            f"- Zensical build, {attempt.settings}: {attempt.seconds:.1f} s, "
            + ("built" if attempt.returncode == 0 else f"**stopped**: {attempt.error}")
        )
    out.append(f"- Zensical theme variant: {zensical.theme_variant}")
    out += [f"- Zensical warning: {w}" for w in zensical.warnings]
    out += [
        "",
        "## Configuration that Zensical does not act on",
        "",
        f"- `hooks:` ({len(hooks)}): none runs under Zensical: "
        + ", ".join(f"`{h}`" for h in hooks),
    ]
    out += [f"- plugin `{name}`: {what}" for name, what in plugins]
    out += [
        "",
        "## Page by page",
        "",
        "| page | words MkDocs / Zensical | images resolving | KaTeX / raw TeX in Zensical | glossary links | broken refs in Zensical |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(set(mk) | set(zs)):
        m, z = mk.get(name), zs.get(name)
        if m is None or z is None:
            out.append(
                f"| {name} | {'only in MkDocs' if z is None else 'only in Zensical'} | | | | |"
            )
            continue
        out.append(
            f"| {name} | {m.words} / {z.words} | {m.images_resolving}/{m.images} → {z.images_resolving}/{z.images} "
            f"| {m.katex} → {z.katex} / {z.raw_maths} | {m.glossary_links} → {z.glossary_links} | {len(z.broken)} |"
        )
    out += [
        "",
        "## Project logic that is still MkDocs-only, and its portable form",
        "",
        "| where | what it does | portable form |",
        "|---|---|---|",
    ]
    out += [f"| {where} | {what} | {portable} |" for where, what, portable in MKDOCS_ONLY]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--zensical-version", required=True, help="the exact version to install, e.g. 0.0.73"
    )
    parser.add_argument(
        "--mkdocs-site", type=Path, help="compare with this MkDocs site instead of building one"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / "report.md"
    sys.path.insert(0, str(REPO))
    from lessons_code import paths

    preset = paths.build_preset()  # GTT_PRESET, checked
    env = {**os.environ, "GTT_PRESET": preset, "NO_MKDOCS_2_WARNING": "1"}
    try:
        log(f"installing zensical=={args.zensical_version} into {VENV.relative_to(REPO)}")
        version, install_s = install_zensical(args.zensical_version)
        log(f"running the steps the MkDocs hooks run ({preset} preset)")
        steps = prerequisites(preset, env)
        project = out / "project"
        stage(project)
        # The macros module imports lessons_code (standard library only): the copy is put on the path. The figures
        # are read where the figure step wrote them, not from the copy (which has no build/ folder).
        zensical_env = {
            **env,
            "PYTHONPATH": str(project),
            paths.FIGURES_ENV: str(paths.figures_dir(preset)),
        }
        log("building with Zensical")
        zensical = build_zensical(project, out / "zensical-site", zensical_env)
        if args.mkdocs_site:
            mk_site, mkdocs = args.mkdocs_site.resolve(), str(args.mkdocs_site)
        else:
            mk_site = out / "mkdocs-site"
            log("building with MkDocs")
            mkdocs = build_mkdocs(mk_site, env)
        config = load_mkdocs_yml(REPO / "mkdocs.yml")
        base = urlsplit(config.get("site_url") or "/").path or "/"
        findings, mk, zs = compare(
            mk_site, out / "zensical-site", base if base.endswith("/") else base + "/"
        )
        text = report(
            preset=preset,
            version=version,
            steps=steps,
            install_s=install_s,
            mkdocs=mkdocs,
            zensical=zensical,
            findings=findings,
            mk=mk,
            zs=zs,
            plugins=plugin_support(config),
            hooks=[str(h) for h in config.get("hooks") or []],
        )
    except CheckFailed as failure:
        text = f"# Zensical check failed\n\n```\n{failure}\n```\n"
        report_path.write_text(text, encoding="utf-8")
        print(text, file=sys.stderr)
        return 1
    report_path.write_text(text, encoding="utf-8")
    print(text)
    print(
        f"report: {report_path.relative_to(REPO) if report_path.is_relative_to(REPO) else report_path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
