"""The "Run it yourself" notebooks: execute them (cached), let mkdocs-jupyter render them, make the pages lean.

Source of truth: ``notebooks/lNN_slug.py`` (jupytext percent format, easy to review), paired with
``notebooks/lNN_slug.ipynb`` (outputs stripped). The ``.ipynb`` is committed because Colab opens
notebooks from a path in the GitHub repository; the build refuses a pair that is out of sync.

On every build:

1. ``on_pre_build`` checks each pair and executes each ``.ipynb`` with nbclient in a fresh kernel and
   a temporary directory (two kernels at a time, one thread each), into ``build/notebooks/NAME.ipynb``.
   Like the figures, the result is cached:
   the key is the notebook's bytes plus the versions of everything that runs it, so an unchanged
   notebook is not executed again. A cell that raises (or a notebook past 3x its 60 s budget) stops
   the build with the notebook and the cell named.
2. ``on_files`` adds the executed notebooks to the site as ``notebooks/NAME.ipynb``; mkdocs-jupyter
   (``execute: false``, it gets them executed) renders them, and ``include_source`` puts the
   executed ``.ipynb`` next to the page for download.
3. ``on_page_content`` rewrites mkdocs-jupyter's HTML into plain Material markup: its ~600 KB of
   inlined JupyterLab CSS, its clipboard script, its CDN MathJax and Mermaid loaders go; code cells
   become ``pre > code`` blocks that Material highlights in both palettes and gives its copy button;
   ``$...$`` maths becomes arithmatex markup that hooks/maths.py renders with KaTeX like every page.
   The page gets links to its lesson, to Colab (built from ``repo_url``) and to the download.
4. Each lesson page ``NN-slug.md`` whose notebook exists gets a short "Run it yourself" section.
5. ``on_post_build`` checks that every download and Colab link points at a file that exists.

Environment: GTT_NOTEBOOK_CACHE=DIR keeps the executed notebooks in DIR/notebooks/ (default build/notebooks/).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import posixpath
import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from lessons_code import fingerprint
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.notebooks")

NOTEBOOK_DIR = "notebooks"  # next to mkdocs.yml; site path of the rendered pages too
CACHE_ENV = "GTT_NOTEBOOK_CACHE"
NAME = re.compile(r"^l(\d\d)_[a-z0-9_]+$")
BUDGET_S = 60.0  # each notebook must run within this on a 2-core CPU (tests/test_notebooks.py asserts it)
HARD_LIMIT_S = 3 * BUDGET_S  # past this the build fails, as for figures
KERNEL = "python3"
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # one core per kernel ...
PARALLEL = 2  # ... and two kernels at a time
#: Everything that can change what an executed notebook contains, besides the notebook itself.
VERSIONED = ("numpy", "torch", "matplotlib", "ipykernel", "nbclient", "nbformat", "matplotlib-inline")
ALLOWED_IMPORTS = {"numpy", "torch", "matplotlib"}  # plus the standard library: notebooks are standalone


# ---------------------------------------------------------------- the notebooks and their sync


@dataclass(frozen=True)
class Notebook:
    name: str  # l02_repeated_multiplication
    py: Path  # notebooks/NAME.py, the reviewed source
    ipynb: Path  # notebooks/NAME.ipynb, committed with outputs stripped; what Colab and the build run

    @property
    def lesson_number(self) -> int:
        return int(self.name[1:3])

    @property
    def lesson_page(self) -> str:
        """docs-relative path of the lesson page: l02_repeated_multiplication -> 02-repeated-multiplication.md"""
        return self.name[1:].replace("_", "-") + ".md"

    @property
    def site_src(self) -> str:
        return f"{NOTEBOOK_DIR}/{self.name}.ipynb"


def project_root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def discover(root: Path) -> list[Notebook]:
    """Every ``notebooks/lNN_slug.py`` (the source); its ``.ipynb`` pair must exist beside it."""
    folder = root / NOTEBOOK_DIR
    return [Notebook(p.stem, p, p.with_suffix(".ipynb")) for p in sorted(folder.glob("l[0-9][0-9]_*.py"))
            if NAME.match(p.stem)]


def sync_problems(nb: Notebook) -> list[str]:
    """Why the committed .ipynb is not a faithful, output-free copy of its .py source (empty if it is)."""
    import jupytext
    import nbformat

    rel = f"{NOTEBOOK_DIR}/{nb.name}"
    fix = f"run `jupytext --sync {rel}.py` (the pair is set up by the formats line in its header)"
    if not nb.ipynb.is_file():
        return [f"{rel}.ipynb is missing: {fix}"]
    problems = []
    notebook = nbformat.read(nb.ipynb, as_version=4)
    if jupytext.writes(notebook, fmt="py:percent") != nb.py.read_text(encoding="utf-8"):
        problems.append(f"{rel}.ipynb is out of sync with {rel}.py: {fix}")
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"{rel}.ipynb cell {index} has outputs: commit it with outputs stripped ({fix})")
            break
    return problems


def packages(nb: Notebook) -> list[str]:
    """The PyPI packages the notebook imports (a subset of numpy, torch, matplotlib), in that order."""
    text = nb.py.read_text(encoding="utf-8")
    return [p for p in ("numpy", "torch", "matplotlib") if re.search(rf"^\s*(?:import|from)\s+{p}\b", text, re.M)]


def _needs(nb: Notebook) -> str:
    names = packages(nb)
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names) or "the standard library"


def standalone_problems(nb: Notebook) -> list[str]:
    """Imports outside numpy/torch/matplotlib and the standard library, and IPython magics."""
    import ast
    import sys

    import nbformat

    problems = []
    for index, cell in enumerate(nbformat.read(nb.ipynb, as_version=4).cells, start=1):
        if cell.cell_type != "code":
            continue
        where = f"{NOTEBOOK_DIR}/{nb.name}.ipynb cell {index}"
        if re.search(r"^\s*[%!]", cell.source, re.M):
            problems.append(f"{where}: IPython magics and shell escapes break the notebook as a script")
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            problems.append(f"{where}: {exc}")
            continue
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                if top not in ALLOWED_IMPORTS and top not in sys.stdlib_module_names:
                    problems.append(f"{where} imports {name!r}: notebooks may use only numpy, torch, "
                                    "matplotlib and the standard library")
    return problems


# ---------------------------------------------------------------- execution, cached


def cache_root(root: Path) -> Path:
    """Executed notebooks live in ``<cache root>/notebooks/`` (so the site path is the cache path)."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).resolve() if override else root / "build"


def cache_dir(root: Path) -> Path:
    return cache_root(root) / NOTEBOOK_DIR


def cache_key(nb: Notebook) -> str:
    digest = hashlib.sha256()
    digest.update(nb.ipynb.read_bytes())
    settings = {"versions": fingerprint.versions(VERSIONED), "kernel": KERNEL, "env": KERNEL_ENV, "limit": HARD_LIMIT_S,
                "record": 2}  # the .key record's fields: 2 added "left_behind"
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def cached(nb: Notebook, out_dir: Path) -> bool:
    """True if out_dir holds this notebook executed from exactly these bytes with these versions."""
    try:
        record = json.loads((out_dir / f"{nb.name}.key").read_text())
        executed = (out_dir / f"{nb.name}.ipynb").read_bytes()
    except (OSError, ValueError):
        return False
    return record.get("key") == cache_key(nb) and record.get("sha256") == hashlib.sha256(executed).hexdigest()


class NotebookFailed(RuntimeError):
    pass


def execute(nb: Notebook, out_dir: Path) -> float:
    """Run the notebook top to bottom in a fresh kernel and a temporary directory; write it executed.

    Returns the run time in seconds. Raises NotebookFailed naming the notebook and the cell.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    rel = f"{NOTEBOOK_DIR}/{nb.name}.ipynb"
    notebook = nbformat.read(nb.ipynb, as_version=4)
    current = {"index": 0}

    def started(cell, cell_index):
        current["index"] = cell_index

    started_at = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"gtt-{nb.name}-") as workdir:
        client = NotebookClient(
            notebook, kernel_name=KERNEL, timeout=int(HARD_LIMIT_S), allow_errors=False,
            record_timing=False, resources={"metadata": {"path": workdir}}, on_cell_execute=started,
        )
        # The kernel's own stderr (e.g. its notice about unencrypted local TCP) would read as a build
        # warning; it is kept in a file and shown only when the notebook fails.
        kernel_log = Path(workdir) / "kernel-stderr.txt"
        try:
            with kernel_log.open("w") as stderr:
                client.execute(stderr=stderr, env={**os.environ, **KERNEL_ENV})
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            index = current["index"]
            cell = notebook.cells[index]
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            reason = _error_summary(cell) or str(exc).strip().splitlines()[-1]
            if isinstance(exc, DeadKernelError):
                reason += "\n" + kernel_log.read_text(errors="replace")[-2000:]
            raise NotebookFailed(f"{rel}: cell {index + 1} (starting {first!r}) failed: {reason}") from None
        # What the notebook wrote into its working directory (a reader's folder); tests/test_notebooks.py wants none.
        left_behind = sorted(p.name for p in Path(workdir).iterdir() if p != kernel_log)
    seconds = time.perf_counter() - started_at
    if seconds > HARD_LIMIT_S:
        raise NotebookFailed(f"{rel} ran {seconds:.0f} s, past 3x its {BUDGET_S:.0f} s budget")
    # What readers download: outputs kept, kernel metadata as executed, nothing machine-specific added.
    text = nbformat.writes(notebook) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{nb.name}.ipynb").write_text(text, encoding="utf-8")
    record = {"key": cache_key(nb), "sha256": hashlib.sha256(text.encode()).hexdigest(), "seconds": round(seconds, 2),
              "left_behind": left_behind}
    (out_dir / f"{nb.name}.key").write_text(json.dumps(record, indent=1) + "\n")  # written last
    return seconds


def _error_summary(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return ""


# ---------------------------------------------------------------- links: Colab, download, source


def github_repo(config) -> tuple[str, str]:
    """(owner/name, branch) from repo_url and edit_uri ("edit/BRANCH/docs/")."""
    url = urlparse(config.repo_url or "")
    parts = [p for p in url.path.split("/") if p]
    if url.netloc != "github.com" or len(parts) < 2:
        raise PluginError(f"repo_url must be a GitHub repository for the Colab links, got {config.repo_url!r}")
    match = re.match(r"^(?:edit|blob)/([^/]+)/", (config.edit_uri or "").lstrip("/"))
    return f"{parts[0]}/{parts[1].removesuffix('.git')}", match.group(1) if match else "main"


def colab_url(config, nb: Notebook) -> str:
    repo, branch = github_repo(config)
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/{NOTEBOOK_DIR}/{nb.name}.ipynb"


def source_url(config, nb: Notebook, action: str = "blob") -> str:
    repo, branch = github_repo(config)
    return f"https://github.com/{repo}/{action}/{branch}/{NOTEBOOK_DIR}/{nb.name}.py"


# ---------------------------------------------------------------- MkDocs events

_notebooks: dict[str, Notebook] = {}  # by site src_uri (notebooks/NAME.ipynb)
_by_lesson_page: dict[str, Notebook] = {}
_timings: dict[str, tuple[str, float]] = {}
_images: dict[str, bytes] = {}  # notebook plots to write, by path in the site


def on_config(config):
    root = project_root(config)
    folder = str(root / NOTEBOOK_DIR)
    if folder not in config.watch and (root / NOTEBOOK_DIR).is_dir():
        config.watch.append(folder)  # `mkdocs serve` rebuilds when a notebook changes
    return config


def on_pre_build(config) -> None:
    root = project_root(config)
    found = discover(root)
    problems = [p for nb in found for p in sync_problems(nb) + standalone_problems(nb)]
    if problems:
        raise PluginError("notebooks:\n  " + "\n  ".join(problems))
    out_dir = cache_dir(root)
    _notebooks.clear()
    _by_lesson_page.clear()
    _timings.clear()
    _images.clear()
    stale = [nb for nb in found if not cached(nb, out_dir)]
    for nb in found:
        if nb not in stale:
            _timings[nb.name] = ("cached", json.loads((out_dir / f"{nb.name}.key").read_text())["seconds"])
        _notebooks[nb.site_src] = nb
        _by_lesson_page[nb.lesson_page] = nb
    if stale:
        log.info("notebooks: executing %s", ", ".join(str(nb.ipynb.relative_to(root)) for nb in stale))
        # Two kernels at a time with one thread each: this pair of cores does twice the work, and a
        # notebook's 60 s budget holds on one core. The first failure (in file order) stops the build.
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            outcomes = list(pool.map(_execute_or_error, stale, [out_dir] * len(stale)))
        for nb, outcome in zip(stale, outcomes):
            if isinstance(outcome, NotebookFailed):
                raise PluginError(str(outcome))
            _timings[nb.name] = ("executed", outcome)
    executed = [f"{n} {s:.1f} s" for n, (status, s) in _timings.items() if status == "executed"]
    log.info("notebooks: %d ready (%d from the cache)%s", len(found), len(found) - len(executed),
             f"; executed {', '.join(executed)}" if executed else "")


def _execute_or_error(nb: Notebook, out_dir: Path) -> float | NotebookFailed:
    try:
        return execute(nb, out_dir)
    except NotebookFailed as exc:
        return exc


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files, config):
    # A plain File rooted at the cache (not File.generated): mkdocs-jupyter's NotebookFile wrapper
    # finds the source of a generated file through src_dir, which a generated file does not have.
    src_dir = str(cache_root(project_root(config)))
    for src in _notebooks:
        files.append(File(src, src_dir, config.site_dir, config.use_directory_urls))
    return files


@event_priority(100)  # before mkdocs-macros: a notebook's "Markdown" is its JSON, which is no template
def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri in _notebooks:
        return ""  # mkdocs-jupyter renders the notebook itself; nothing reads this text
    if LIST_MARKER in markdown:
        return markdown.replace(LIST_MARKER, notebook_table(page, config, files))
    nb = _by_lesson_page.get(page.file.src_uri)
    if nb is None:
        return markdown
    target = posixpath.relpath(nb.site_src, posixpath.dirname(page.file.src_uri) or ".")
    return markdown.rstrip() + (
        "\n\n## Run it yourself\n\n"
        f"Everything on this page also comes as a [notebook]({target}) that needs only {_needs(nb)}: "
        "change the settings and watch the results move. "
        f"[Open it in Colab]({colab_url(config, nb)}){{ .gtt-colab }} or download it from its page.\n"
    )


#: Where a page wants the table of every notebook (docs/run-it-yourself.md).
LIST_MARKER = "<!-- gtt:notebooks -->"


def notebook_table(page, config, files) -> str:
    """A Markdown table: lesson, its notebook page, Colab, what it needs. Built from what exists."""
    here = posixpath.dirname(page.file.src_uri) or "."
    rows = ["| Lesson | Notebook | Colab | Needs |", "|---|---|---|---|"]
    for nb in sorted(_notebooks.values(), key=lambda n: n.name):
        lesson = files.get_file_from_path(nb.lesson_page)
        if lesson is None:  # a lesson still being written: list its notebook, link no page
            title = f"Lesson {nb.lesson_number}"
        else:
            title = next((line[2:].strip() for line in lesson.content_string.splitlines() if line.startswith("# ")),
                         f"Lesson {nb.lesson_number}")
            title = f"[{title}]({posixpath.relpath(nb.lesson_page, here)})"
        rows.append(f"| {title} "
                    f"| [{nb.name}.ipynb]({posixpath.relpath(nb.site_src, here)}) "
                    f"| [Open in Colab]({colab_url(config, nb)}) | {_needs(nb)} |")
    return "\n".join(rows) + "\n"


@event_priority(50)  # before glightbox (which would copy every inline image into a link) and search
def on_page_content(content: str, page, config, files) -> str:
    nb = _notebooks.get(page.file.src_uri)
    if nb is None:
        return content
    lesson = _lesson_link(page, files, nb)
    page.edit_url = source_url(config, nb, "edit")  # edit the reviewed .py, not the generated .ipynb
    images: dict[str, bytes] = {}
    body, description = lean_notebook_html(content, nb, _header(config, nb, lesson), images)
    folder = PurePosixPath(page.file.dest_uri).parent
    _images.update({str(folder / name): data for name, data in images.items()})
    page.meta.setdefault("description", description)
    # Keep notebooks out of the search index: they repeat their lesson's code, and the index is loaded on
    # every first visit (excluding them saves ~17 KB gzip on every page). Search reads meta after this event.
    page.meta["search"] = {"exclude": True}
    return body


def on_post_build(config) -> None:
    site, root = Path(config.site_dir), project_root(config)
    for path, data in _images.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(data)
    missing = []
    for nb in _notebooks.values():
        download = site / NOTEBOOK_DIR / nb.name / f"{nb.name}.ipynb"
        if not config.use_directory_urls:
            download = site / NOTEBOOK_DIR / f"{nb.name}.ipynb"
        if not download.is_file():
            missing.append(f"download link of {nb.site_src} points at {download.relative_to(site)}, which was not written")
        if not nb.ipynb.is_file() or _git_ignored(root, nb.ipynb):
            missing.append(f"Colab link of {nb.site_src} points at {nb.ipynb.relative_to(root)}, "
                           "which is not a committable file of the repository")
    if missing:
        raise PluginError("notebooks: broken links:\n  " + "\n  ".join(missing))


def _git_ignored(root: Path, path: Path) -> bool:
    try:
        proc = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=root, capture_output=True)
    except OSError:
        return False
    return proc.returncode == 0  # 1: not ignored; 128: not a git checkout (a scratch copy)


# ---------------------------------------------------------------- the lean page


def _lesson_link(page, files, nb: Notebook) -> str | None:
    lesson = files.get_file_from_path(nb.lesson_page)
    if lesson is None:
        return None
    return lesson.url_relative_to(page.file)


def _header(config, nb: Notebook, lesson_url: str | None) -> str:
    items = []
    if lesson_url:
        items.append(f'<a href="{html.escape(lesson_url)}">Read lesson {nb.lesson_number}</a>')
    items += [
        f'<a class="gtt-colab" href="{html.escape(colab_url(config, nb))}">Open in Colab</a>',
        f'<a href="{nb.name}.ipynb" download>Download the notebook (.ipynb, with outputs)</a>',
        f'<a href="{html.escape(source_url(config, nb))}">Source (.py, jupytext)</a>',
    ]
    return ('<p class="gtt-nb-links">' + " · ".join(items) + "</p>\n"
            f'<p class="gtt-nb-note">Needs only {_needs(nb)} (preinstalled on Colab). '
            "The outputs below were produced when this site was built.</p>\n")


#: Small stylesheet for the notebook markup, in Material's colour variables so both palettes work.
#: Inline in the content (not in <head>): Material's instant navigation swaps the content, not the head.
STYLE = """<style>
.gtt-nb-links{font-size:.75rem}
.gtt-nb-note{font-size:.7rem;color:var(--md-default-fg-color--light)}
.gtt-nb-output{margin:-.6em 0 1.2em;padding-left:.8em;border-left:.2rem solid var(--md-default-fg-color--lightest)}
.gtt-nb-output pre{margin:0;padding:.5em .2em;font-size:.75em;line-height:1.45;white-space:pre-wrap;
overflow-wrap:anywhere;color:var(--md-default-fg-color--light);background:none}
.gtt-nb-output img{display:block;max-width:100%;height:auto;margin:.4em 0;border-radius:.1rem}
[data-md-color-scheme=slate] .gtt-nb-output img{background:#fff}
</style>
"""

INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)((?:\\.|[^$\\])+?)(?<!\s)\$(?!\$)")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)


def maths_to_arithmatex(fragment: str) -> str:
    """``$...$`` / ``$$...$$`` (as nbconvert leaves them) -> the markup pymdownx.arithmatex emits.

    hooks/maths.py then renders it with KaTeX exactly as on every other page. The TeX stays
    HTML-escaped, as arithmatex leaves it.
    """
    fragment = re.sub(r"<p>\s*\$\$(.+?)\$\$\s*</p>", lambda m: f'<div class="arithmatex">\\[{m.group(1)}\\]</div>',
                      fragment, flags=re.S)
    fragment = DISPLAY_MATH.sub(lambda m: f'<span class="arithmatex">\\({m.group(1)}\\)</span>', fragment)
    return INLINE_MATH.sub(lambda m: f'<span class="arithmatex">\\({m.group(1)}\\)</span>', fragment)


def lean_notebook_html(content: str, nb: Notebook, header: str, images: dict[str, bytes]) -> tuple[str, str]:
    """Material-native markup for mkdocs-jupyter's notebook HTML, and a one-sentence page description.

    Keeps: markdown cells (headings keep their ids, so the table of contents still works), code cells
    as ``div.language-python.highlight > pre > code`` with the Pygments spans mkdocs-jupyter made,
    stream/text outputs and images (with the alt text from the cell's metadata). Drops everything
    else mkdocs-jupyter inlined: stylesheets, scripts, CDN loaders, its clipboard widget. Plots become
    files beside the page (added to ``images``, {file name: PNG bytes}) rather than inline data.
    """
    import nbformat
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    cells = soup.select("div.jp-Notebook > div.jp-Cell")
    source = nbformat.read(nb.ipynb, as_version=4).cells
    if len(cells) != len(source):
        raise PluginError(f"{nb.site_src}: mkdocs-jupyter rendered {len(cells)} cells, the notebook has {len(source)}")
    parts, description, header_done = [STYLE], "", False
    for index, (cell, src) in enumerate(zip(cells, source), start=1):
        where = f"{nb.site_src} cell {index}"
        if src.cell_type == "markdown":
            rendered = cell.select_one(".jp-RenderedMarkdown")
            for anchor in rendered.select("a.anchor-link"):
                anchor.attrs = {"class": "headerlink", "href": anchor["href"], "title": "Link to this section"}
            if not description:
                description = _description(rendered)
            markup = maths_to_arithmatex(rendered.decode_contents().strip())
            if not header_done and "</h1>" in markup:
                markup = markup.replace("</h1>", "</h1>\n" + header, 1)
                header_done = True
            parts.append(markup + "\n")
        elif src.cell_type == "code":
            code = cell.select_one(".highlight-ipynb > pre")
            if code is None:
                raise PluginError(f"{where}: mkdocs-jupyter rendered no source for this code cell")
            spans = code.decode_contents()
            parts.append(f'<div class="language-python highlight"><pre><code>{spans}</code></pre></div>\n')
            parts.append(_outputs(cell, src, where, images))
    if not header_done:
        parts.insert(1, header)
    return "".join(parts), description


def _outputs(cell, src, where: str, images: dict[str, bytes]) -> str:
    pieces = []
    for area in cell.select(".jp-OutputArea-output"):
        image = area.find("img")
        if image is not None:
            alt = src.metadata.get("alt")
            if not alt:
                raise PluginError(f"{where} draws a figure but has no alt text: give the cell an alt, "
                                  "e.g. `# %% alt=\"What the figure shows\"` in the .py source")
            # A file of its own, named by its content, rather than ~30-60 KB of base64 in the page: the text
            # arrives (and paints) sooner, and the plot loads when the reader scrolls to it. Width and
            # height reserve its box. "off-glb": no lightbox, the plot is already shown at full size.
            src = image["src"]
            size = _png_size(src)
            if size:
                data = base64.b64decode(src.split(",", 1)[1])
                src = f"output-{hashlib.sha256(data).hexdigest()[:12]}.png"
                images[src] = data
            image.attrs = {"src": src, "alt": alt, "class": "off-glb", "loading": "lazy", "decoding": "async", **size}
            pieces.append(str(image))
        elif area.find("pre") is not None:
            pieces.append(str(area.find("pre")))
        else:
            pieces.append(area.decode_contents())  # rich HTML output (none of our notebooks has one)
    return f'<div class="gtt-nb-output">{"".join(pieces)}</div>\n' if pieces else ""


def _png_size(src: str) -> dict[str, str]:
    """width/height attributes of an inline PNG, read from its header; none for anything else."""
    import struct

    prefix = "data:image/png;base64,"
    if not src.startswith(prefix):
        return {}
    header = base64.b64decode(src[len(prefix): len(prefix) + 32])
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        return {}
    width, height = struct.unpack(">II", header[16:24])
    return {"width": str(width), "height": str(height)}


def _description(rendered) -> str:
    """The first paragraph after the title, as plain text of at most ~160 characters."""
    first = rendered.find("p")
    if first is None:
        return ""
    text = re.sub(r"\s+", " ", first.get_text()).replace("$", "").strip()
    if len(text) > 160:
        text = text[:157].rsplit(" ", 1)[0] + "…"
    return text
