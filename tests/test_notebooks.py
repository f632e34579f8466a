"""The "Run it yourself" notebooks: paired and in sync, standalone, fast, executed by the build, linked right."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from conftest import REPO, load_hook

hook = load_hook("notebooks")
NOTEBOOKS = hook.discover(REPO)
IDS = [nb.name for nb in NOTEBOOKS]
PAGE_WEIGHT_LIMIT = 400_000  # bytes: the page (gzip) and its plots (PNG files beside it)


def repo_url() -> str:
    return re.search(r"^repo_url:\s*(\S+)", (REPO / "mkdocs.yml").read_text(), re.M).group(1)


def test_every_lesson_has_a_notebook_and_every_notebook_a_lesson() -> None:
    lessons = {p.name for p in (REPO / "docs").glob("[0-9][0-9]-*.md")}
    notebooks = {nb.lesson_page for nb in NOTEBOOKS}
    assert "02-repeated-multiplication.md" in notebooks
    assert notebooks <= lessons, f"notebooks without a lesson page: {sorted(notebooks - lessons)}"
    assert lessons <= notebooks, f"lesson pages without a notebook in notebooks/: {sorted(lessons - notebooks)}"


# ---------------------------------------------------------------- the pair: .py reviewed, .ipynb committed


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_ipynb_is_in_sync_with_its_py_source_and_has_no_outputs(nb) -> None:
    assert hook.sync_problems(nb) == []


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_notebook_is_standalone(nb) -> None:
    assert hook.standalone_problems(nb) == []
    assert "lessons_code" not in nb.py.read_text(encoding="utf-8")


def test_an_edited_py_or_ipynb_is_reported_out_of_sync(tmp_path) -> None:
    nb = NOTEBOOKS[0]
    copy = hook.Notebook(nb.name, tmp_path / nb.py.name, tmp_path / nb.ipynb.name)
    shutil.copy(nb.py, copy.py)
    shutil.copy(nb.ipynb, copy.ipynb)
    assert hook.sync_problems(copy) == []
    copy.py.write_text(copy.py.read_text(encoding="utf-8") + "\n# %%\nprint('added')\n", encoding="utf-8")
    (problem,) = hook.sync_problems(copy)
    assert "out of sync" in problem and "jupytext --sync" in problem and nb.name in problem
    shutil.copy(nb.py, copy.py)
    executed = nbformat.read(copy.ipynb, as_version=4)
    executed.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    nbformat.write(executed, copy.ipynb)
    assert any("has outputs" in p for p in hook.sync_problems(copy))
    copy.ipynb.unlink()
    assert "missing" in hook.sync_problems(copy)[0]


def test_imports_beyond_numpy_torch_matplotlib_and_magics_are_refused(tmp_path) -> None:
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nimport numpy as np"),
                                             nbformat.v4.new_code_cell("from lessons_code import plotting"),
                                             nbformat.v4.new_code_cell("import pandas"),
                                             nbformat.v4.new_code_cell("%matplotlib inline")])
    nbformat.write(source, tmp_path / "l99_x.ipynb")
    problems = hook.standalone_problems(hook.Notebook("l99_x", tmp_path / "l99_x.py", tmp_path / "l99_x.ipynb"))
    assert len(problems) == 3
    assert "cell 2" in problems[0] and "lessons_code" in problems[0]
    assert "cell 3" in problems[1] and "pandas" in problems[1] and "magics" in problems[2]


# ---------------------------------------------------------------- each notebook runs, fresh and fast


@pytest.fixture(scope="session")
def executed(fast_site) -> dict:
    """Every notebook as the build executed it, read back from the build's cache with the record of its run.

    hooks/notebooks.py runs each committed .ipynb top to bottom with nbclient, in a fresh kernel and its own
    empty temporary directory, two at a time with one thread each, and records the time and any files the
    notebook left in that directory. A cached run counts: its key is the notebook's bytes and the versions
    of everything that runs it, so an edited notebook is run again (tested below).
    """
    out = hook.cache_dir(REPO)
    runs = {}
    for nb in NOTEBOOKS:
        assert hook.cached(nb, out), f"{nb.name}: the build did not execute it"
        record = json.loads((out / f"{nb.name}.key").read_text(encoding="utf-8"))
        runs[nb.name] = {"notebook": nbformat.read(out / f"{nb.name}.ipynb", as_version=4),
                         "seconds": record["seconds"], "left_behind": record["left_behind"]}
    return runs


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_a_fresh_kernel_in_a_temporary_directory_within_budget(executed, nb) -> None:
    run = executed[nb.name]
    assert run["seconds"] <= hook.BUDGET_S, f"{nb.name} took {run['seconds']:.0f} s; the budget is {hook.BUDGET_S:.0f} s"
    code = [cell for cell in run["notebook"].cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), f"{nb.name}: not every cell ran"
    outputs = [o for cell in code for o in cell.outputs]
    assert outputs and not any(o.output_type == "error" for o in outputs)
    assert run["left_behind"] == [], f"{nb.name} left files behind: {run['left_behind']}"


def test_notebook_run_times(executed, capsys) -> None:
    with capsys.disabled():
        total = sum(run["seconds"] for run in executed.values())
        print(f"\nnotebooks: {len(executed)} executed by the build, {total:.1f} s of kernel time (two at a time, one thread each)")
        for name, run in executed.items():
            print(f"  {run['seconds']:5.1f} s  {name}")
    assert total <= 3 * 60, "all notebooks together must run within the build's 3-minute budget"


# ---------------------------------------------------------------- in the built site


def notebook_page(site: Path, nb) -> str:
    return (site / hook.NOTEBOOK_DIR / nb.name / "index.html").read_text(encoding="utf-8")


def test_every_notebook_is_executed_and_cached_by_the_build(fast_site, tmp_path) -> None:
    for nb in NOTEBOOKS:
        assert hook.cached(nb, hook.cache_dir(REPO)), f"{nb.name} is not in the build's cache"
    # The key follows the notebook's bytes: an edited notebook is executed again, an unchanged one is not.
    nb = NOTEBOOKS[0]
    copy = hook.Notebook(nb.name, nb.py, tmp_path / nb.ipynb.name)
    shutil.copy(nb.ipynb, copy.ipynb)
    assert hook.cache_key(copy) == hook.cache_key(nb) and hook.cached(copy, hook.cache_dir(REPO))
    copy.ipynb.write_text(copy.ipynb.read_text(encoding="utf-8").replace("import", "import ", 1), encoding="utf-8")
    assert hook.cache_key(copy) != hook.cache_key(nb) and not hook.cached(copy, hook.cache_dir(REPO))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_the_download_is_the_executed_notebook(fast_site, nb) -> None:
    site, _ = fast_site
    html = notebook_page(site, nb)
    link = re.search(r'<a href="([^"]+\.ipynb)" download', html)
    assert link, f"no download link on the page of {nb.name}"
    downloaded = nbformat.read(site / hook.NOTEBOOK_DIR / nb.name / link.group(1), as_version=4)
    committed = nbformat.read(nb.ipynb, as_version=4)
    assert [c.source for c in downloaded.cells] == [c.source for c in committed.cells]
    assert all(c.execution_count for c in downloaded.cells if c.cell_type == "code")


def test_colab_and_download_links_point_at_files_that_exist(fast_site) -> None:
    site, _ = fast_site
    repo = urlparse(repo_url()).path.strip("/")
    colab = re.compile(r'href="https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/([^"]+)"')
    seen = set()
    for page in sorted(site.rglob("index.html")):
        html = page.read_text(encoding="utf-8")
        for owner_repo, branch, path in colab.findall(html):
            where = f"{page.parent.relative_to(site)}/ links to Colab {path}"
            assert owner_repo == repo, f"{where}: repository {owner_repo}, repo_url says {repo}"
            assert (REPO / path).is_file(), f"{where}, which does not exist in the repository"
            ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0
            assert not ignored, f"{where}, which git ignores, so GitHub (and Colab) will not have it"
            seen.add(path)
        for target in re.findall(r'<a href="([^"]+)" download', html):
            assert (page.parent / target).is_file(), f"{page.parent.relative_to(site)}/: download {target} is missing"
    assert seen == {f"{hook.NOTEBOOK_DIR}/{nb.name}.ipynb" for nb in NOTEBOOKS}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_each_lesson_page_links_to_its_notebook_and_back(fast_site, nb) -> None:
    site, _ = fast_site
    lesson = (site / nb.lesson_page.removesuffix(".md") / "index.html").read_text(encoding="utf-8")
    assert f'href="../{hook.NOTEBOOK_DIR}/{nb.name}/"' in lesson and "colab.research.google.com" in lesson
    assert f'href="../../{nb.lesson_page.removesuffix(".md")}/"' in notebook_page(site, nb)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_notebook_page_is_lean_and_renders_maths_with_the_site_katex(fast_site, nb) -> None:
    site, _ = fast_site
    html = notebook_page(site, nb)
    plots = sum(p.stat().st_size for p in (site / hook.NOTEBOOK_DIR / nb.name).glob("output-*.png"))
    weight = len(gzip.compress(html.encode(), 9)) + plots
    assert weight <= PAGE_WEIGHT_LIMIT, f"{nb.name}: {weight / 1000:.0f} KB gzip, limit {PAGE_WEIGHT_LIMIT / 1000:.0f} KB"
    styles = re.findall(r"<style\b[^>]*>(.*?)</style>", html, re.S)
    assert max(map(len, styles)) < 3000, "a large stylesheet is inlined (mkdocs-jupyter's JupyterLab CSS?)"
    for leftover in ("MathJax", "mathjax", "mermaid", "clipboard-copy", "jp-OutputArea", "cdnjs", "require.js"):
        assert leftover not in html, f"{nb.name}: {leftover!r} left in the page"
    article = re.search(r"<article\b.*?</article>", html, re.S).group(0)
    prose = re.sub(r"<(pre|code|style|script)\b.*?</\1>", "", article, flags=re.S)
    assert "$" not in re.sub(r"<[^>]+>", "", prose), f"{nb.name}: unrendered $...$ maths"
    assert 'class="katex"' in html
    # Code cells are ordinary highlighted blocks, so Material gives them its copy button and palette.
    assert re.search(r'<div class="language-python highlight"(?: style="[^"]*")?><pre><code>', html)
    # Plots are PNG files beside the page, sized and lazy, not base64 inside it.
    images = re.findall(r"<img [^>]*>", article)
    assert images and "data:image" not in html
    for img in images:
        src = re.search(r'src="(output-[0-9a-f]{12}\.png)"', img)
        assert src and (site / hook.NOTEBOOK_DIR / nb.name / src.group(1)).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", img
        assert re.search(r'alt="[^"]{30,}"', img) and 'loading="lazy"' in img, img
        assert re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img), img


# ---------------------------------------------------------------- a cell that raises stops the build


@pytest.fixture
def scratch_project(tmp_path, fast_site) -> Path:
    """A copy of the site sources and notebooks (with the build's notebook cache), safe to break."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("docs", "hooks", "overrides", hook.NOTEBOOK_DIR):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "mkdocs.yml", root)
    for name in ("lessons_code", "node_modules"):
        (root / name).symlink_to(REPO / name)
    shutil.copytree(hook.cache_dir(REPO), root / "build" / hook.NOTEBOOK_DIR)
    return root


def test_a_notebook_cell_that_raises_fails_the_build_naming_notebook_and_cell(scratch_project, fast_figures) -> None:
    nb = NOTEBOOKS[0]  # the first one executed, so the build reaches it at once
    broken = hook.Notebook(nb.name, scratch_project / nb.py.relative_to(REPO), scratch_project / nb.ipynb.relative_to(REPO))
    notebook = nbformat.read(broken.ipynb, as_version=4)
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell("ratio = 1 / 0  # a deliberate error"))
    nbformat.write(notebook, broken.ipynb)
    import jupytext

    broken.py.write_text(jupytext.writes(notebook, fmt="py:percent"), encoding="utf-8")
    assert hook.sync_problems(broken) == []  # a valid, in-sync pair: only the execution can fail
    env = {**os.environ, "GTT_PRESET": "fast", "GTT_FIGURES_DIR": str(fast_figures), "NO_MKDOCS_2_WARNING": "1",
           hook.CACHE_ENV: str(scratch_project / "build")}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(scratch_project / "site")],
                          capture_output=True, text=True, cwd=scratch_project, env=env)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, "the build accepted a notebook whose cell raises"
    assert f"notebooks/{nb.name}.ipynb: cell {first_code + 2}" in log and "ZeroDivisionError" in log, log[-3000:]
