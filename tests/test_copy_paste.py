"""The copy-paste guarantee: every Python block on the built site runs when pasted, page by page, in order.

What is copied is what Material's copy button copies: the ``innerText`` of ``pre > code`` (or the
``data-copy`` attribute of an enclosing element), with code annotations hidden and trailing
whitespace trimmed. Line numbers are not removed here: if a theme setting ever made them part of the
copied text (Pygments' ``inline`` style does), pasted code would break, and so does this test.

Blocks tagged ``python``/``py`` are executed; ``pycon`` blocks (``>>>`` prompts) are run as doctests, so
their shown output must match. A block may be marked as shown but not run with the ``show-only``
class (```` ```{.python .show-only} ````); such blocks are counted and reported, never silently skipped.

Each page runs in a fresh interpreter, in a temporary directory, blocks in page order sharing one
namespace, without ``lessons_code`` importable (a reader does not have it), with a timeout.
Pages run two at a time with one thread each (this machine has two cores).

Notebook pages (``notebooks/NAME/``) are not run a second time: their copied blocks must be exactly
the code cells of ``notebooks/NAME.ipynb``, which tests/test_notebooks.py executes in order in a fresh
kernel. Both numbers are reported.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import REPO

PAGE_TIMEOUT_S = 90
TOTAL_BUDGET_S = 120  # the budget for the whole copy-paste run
PYTHON = {"python", "py", "python3"}
PYCON = {"pycon"}
SHOW_ONLY = "show-only"

# Runs one page's blocks; prints a marker before each block so a failure or a timeout names its block.
DRIVER = r"""
import doctest, json, sys, traceback
sys.modules["lessons_code"] = None  # a reader has numpy, torch and matplotlib, not this repository
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
for block in blocks:
    label = f"block {block['index']} ({block['kind']})"
    print(f"\n##### START {block['index']}", flush=True)
    try:
        if block["kind"] == "pycon":
            test = doctest.DocTestParser().get_doctest(block["text"], namespace, label, None, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test, clear_globs=False)
            if runner.failures:
                raise AssertionError(f"{runner.failures} of {runner.tries} doctest example(s) failed")
        else:
            exec(compile(block["text"], f"<{label}>", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"##### FAILED {block['index']}", flush=True)
        sys.exit(1)
print("##### ALL PASSED", flush=True)
"""


@dataclass
class Block:
    index: int  # 1-based position among the page's Python blocks
    kind: str  # "python" or "pycon"
    text: str  # exactly what the copy button copies
    show_only: bool

    @property
    def first_line(self) -> str:
        return next((line for line in self.text.splitlines() if line.strip()), "")


@dataclass
class PageRun:
    page: str
    blocks: list[Block]
    returncode: int | None = None
    output: str = ""
    seconds: float = 0.0
    failed_block: Block | None = field(default=None)

    @property
    def runnable(self) -> list[Block]:
        return [b for b in self.blocks if not b.show_only]


def copy_text(code) -> str:
    """What Material's copy button copies from this <code> element (see the module docstring)."""
    holder = code.find_parent(attrs={"data-copy": True})
    if holder is not None:
        return holder["data-copy"].rstrip()
    clone = copy.copy(code)
    # display:none / visibility:hidden while copying
    for hidden in clone.select(".md-annotation, a[id]"):
        hidden.decompose()
    return clone.get_text().rstrip()


def language(code) -> tuple[str | None, set[str]]:
    """The block's language (from the language-* class pymdownx.highlight puts on it) and its classes."""
    for element in [code, *code.parents]:
        classes = set(element.get("class") or [])
        for name in classes:
            if name.startswith("language-"):
                return name.removeprefix("language-"), classes
        if element.name == "article":
            break
    return None, set()


def python_blocks(html: str) -> list[Block]:
    soup = BeautifulSoup(html, "html.parser")
    content = soup.select_one("article.md-content__inner") or soup
    blocks: list[Block] = []
    for code in content.select("pre > code"):
        lang, classes = language(code)
        if lang in PYTHON or lang in PYCON:
            kind = "pycon" if lang in PYCON else "python"
            blocks.append(Block(len(blocks) + 1, kind, copy_text(code), SHOW_ONLY in classes))
    return blocks


def run_page(page: str, blocks: list[Block], workdir: Path) -> PageRun:
    run = PageRun(page, blocks)
    if not run.runnable:
        return run
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "driver.py").write_text(DRIVER, encoding="utf-8")
    payload = [{"index": b.index, "kind": b.kind, "text": b.text} for b in run.runnable]
    (workdir / "blocks.json").write_text(json.dumps(payload), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GTT_"))}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "driver.py", "blocks.json"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=PAGE_TIMEOUT_S,
        )
        run.returncode, run.output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        out = (
            exc.stdout.decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else (exc.stdout or "")
        )
        run.returncode, run.output = -1, out + f"\n##### TIMEOUT after {PAGE_TIMEOUT_S} s"
    run.seconds = time.perf_counter() - started
    if run.returncode != 0:
        started_blocks = [
            line.split()[-1] for line in run.output.splitlines() if line.startswith("##### START")
        ]
        index = int(started_blocks[-1]) if started_blocks else run.runnable[0].index
        run.failed_block = next(b for b in blocks if b.index == index)
    return run


def built_pages(site: Path) -> dict[str, str]:
    return {
        str(p.parent.relative_to(site)) + "/": p.read_text(encoding="utf-8")
        for p in sorted(site.rglob("index.html"))
    }


NOTEBOOK_PAGE = "notebooks/"


def notebook_cells(page: str) -> list[str]:
    """The code cells of the committed notebook behind a notebook page, as the copy button would copy them."""
    import nbformat

    name = page.removeprefix(NOTEBOOK_PAGE).strip("/")
    notebook = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    return [cell.source.rstrip() for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="session")
def pasted(fast_site, tmp_path_factory) -> tuple[list[PageRun], float]:
    site, _ = fast_site
    pages = {
        page: python_blocks(html)
        for page, html in built_pages(site).items()
        if not page.startswith(NOTEBOOK_PAGE)
    }
    root = tmp_path_factory.mktemp("paste")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(run_page, page, blocks, root / f"page{i}")
            for i, (page, blocks) in enumerate(pages.items())
        ]
        runs = [f.result() for f in futures]
    return runs, time.perf_counter() - started


# ---------------------------------------------------------------- the guarantee, on the real site


def test_every_python_block_on_every_page_runs_when_pasted(pasted, capsys) -> None:
    runs, seconds = pasted
    failures = []
    for run in runs:
        if run.returncode not in (None, 0):
            block = run.failed_block
            tail = "\n".join(run.output.strip().splitlines()[-15:])
            failures.append(
                f"page {run.page}, block {block.index} ({block.kind}) starting {block.first_line!r} "
                f"failed:\n{tail}"
            )
    blocks = sum(len(r.runnable) for r in runs)
    shown = [(r.page, b.index, b.first_line) for r in runs for b in r.blocks if b.show_only]
    with capsys.disabled():
        print(
            f"\ncopy-paste: {blocks} Python blocks on {sum(bool(r.runnable) for r in runs)} pages ran in "
            f"{seconds:.1f} s; {len(shown)} block(s) marked show-only (not run)"
        )
        for page, index, first in shown:
            print(f"  show-only: {page} block {index}: {first}")
        for run in sorted(runs, key=lambda r: -r.seconds)[:5]:
            if run.runnable:
                print(f"  {run.seconds:5.1f} s  {run.page} ({len(run.runnable)} blocks)")
    assert not failures, "\n\n".join(failures)
    assert blocks > 0, "no Python code block found on the built site"


def test_notebook_pages_copy_exactly_the_cells_that_the_notebook_test_executes(
    fast_site, capsys
) -> None:
    site, _ = fast_site
    pages = {
        page: html for page, html in built_pages(site).items() if page.startswith(NOTEBOOK_PAGE)
    }
    assert pages, "no notebook pages on the built site"
    for page, html in pages.items():
        blocks = python_blocks(html)
        assert not any(b.show_only for b in blocks)
        assert [b.text for b in blocks] == notebook_cells(page), (
            f"{page}: copied code differs from the notebook's cells"
        )
    with capsys.disabled():
        print(
            f"\ncopy-paste: {sum(len(python_blocks(h)) for h in pages.values())} blocks on {len(pages)} notebook "
            "pages are the notebooks' code cells, executed in order by tests/test_notebooks.py"
        )


def test_the_copy_paste_run_stays_within_its_budget(pasted) -> None:
    runs, seconds = pasted
    assert seconds <= TOTAL_BUDGET_S, (
        f"copy-paste run took {seconds:.0f} s, budget {TOTAL_BUDGET_S} s"
    )


def test_lesson_code_blocks_are_found_and_copied_without_markup(fast_site) -> None:
    site, _ = fast_site
    blocks = python_blocks(
        (site / "02-repeated-multiplication" / "index.html").read_text(encoding="utf-8")
    )
    assert len(blocks) >= 4 and blocks[0].text.startswith("import numpy as np")
    assert all(
        "<span" not in b.text and "&gt;" not in b.text and "--8<--" not in b.text for b in blocks
    )


# ---------------------------------------------------------------- the extractor and runner themselves

SAMPLE = """<html><body><article class="md-content__inner md-typeset">
<div class="language-python highlight"><pre><span></span><code><span class="n">x</span> <span class="o">=</span> <span class="mi">2</span>
<span class="k">if</span> <span class="n">x</span> <span class="o">&gt;</span> <span class="mi">1</span><span class="p">:</span>
    <span class="n">y</span> <span class="o">=</span> <span class="n">x</span>  <span class="c1"># (1)</span><span class="md-annotation">1</span>
</code></pre></div>
<div class="language-pycon highlight"><pre><span></span><code><span class="gp">&gt;&gt;&gt; </span><span class="n">y</span> <span class="o">*</span> <span class="mi">3</span>
<span class="go">6</span>
</code></pre></div>
<div class="language-python show-only highlight"><pre><span></span><code>raise SystemExit("never run")
</code></pre></div>
<div class="language-bash highlight"><pre><span></span><code>make test
</code></pre></div>
<p>Inline <code>not_a_block()</code>.</p>
<table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre><span class="normal">1</span></pre></div></td>
<td class="code"><div class="language-python highlight"><pre><span></span><code>z = y + 1
</code></pre></div></td></tr></table>
</article></body></html>"""


def test_extraction_copies_what_the_copy_button_copies() -> None:
    blocks = python_blocks(SAMPLE)
    assert [(b.kind, b.show_only) for b in blocks] == [
        ("python", False),
        ("pycon", False),
        ("python", True),
        ("python", False),
    ]
    # annotation marker hidden, trailing newline trimmed
    assert blocks[0].text == "x = 2\nif x > 1:\n    y = x  # (1)"
    assert blocks[1].text == ">>> y * 3\n6"
    # table-style line numbers live outside <code> and are not copied
    assert blocks[3].text == "z = y + 1"


def test_inline_line_numbers_would_be_copied_and_break_the_paste(tmp_path) -> None:
    html = (
        '<article class="md-content__inner"><div class="language-python highlight"><pre><code>'
        '<span class="linenos">1</span>x = 1\n<span class="linenos">2</span>print(x)\n</code></pre></div></article>'
    )
    (block,) = python_blocks(html)
    assert block.text == "1x = 1\n2print(x)"
    run = run_page("inline-linenos/", [block], tmp_path)
    assert run.returncode == 1 and run.failed_block is block and "SyntaxError" in run.output


def test_runner_runs_blocks_in_order_and_checks_doctest_output(tmp_path) -> None:
    blocks = python_blocks(SAMPLE)
    # the show-only block never ran
    assert run_page("sample/", blocks, tmp_path / "ok").returncode == 0
    wrong = [blocks[0], Block(2, "pycon", ">>> y * 3\n7", False)]
    run = run_page("sample/", wrong, tmp_path / "wrong")
    assert (
        run.returncode == 1
        and run.failed_block.index == 2
        and "doctest example(s) failed" in run.output
    )


def test_runner_names_the_failing_block_and_hides_lessons_code(tmp_path) -> None:
    blocks = [
        Block(1, "python", "a = 1", False),
        Block(2, "python", "from lessons_code import plotting", False),
        Block(3, "python", "b = 2", False),
    ]
    run = run_page("p/", blocks, tmp_path)
    assert (
        run.returncode == 1 and run.failed_block.index == 2 and "ModuleNotFoundError" in run.output
    )


def test_runner_reports_a_timeout_with_its_block(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "PAGE_TIMEOUT_S", 2)
    blocks = [Block(1, "python", "import time", False), Block(2, "python", "time.sleep(30)", False)]
    run = run_page("slow/", blocks, tmp_path)
    assert run.returncode == -1 and run.failed_block.index == 2 and "TIMEOUT" in run.output
