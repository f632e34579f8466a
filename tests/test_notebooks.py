"""The "Run it yourself" notebooks: generated from their templates, showing the pages' code byte for byte,
standalone, executed by the build (cached on their code cells), rendered with every formula, linked right."""

from __future__ import annotations

import argparse
import ast
import gzip
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import nbformat
import pytest

from conftest import REPO, built_pages, load_hook
from lessons_code import notebooks, snippets

hook = load_hook("notebooks")
NOTEBOOKS = notebooks.discover(REPO)
IDS = [nb.name for nb in NOTEBOOKS]
PAGE_WEIGHT_LIMIT = 400_000  # bytes: the page (gzip) and its plots (PNG files beside it)
#: Modules whose functions and classes a template must include rather than copy.
CORE = ("activations", "models", "tasks", "training")
DEFINING_MODULES = sorted((REPO / "lessons_code").glob("l[0-9][0-9]_*.py")) + [
    REPO / "lessons_code" / f"{name}.py" for name in CORE
]


def repo_url() -> str:
    return re.search(r"^repo_url:\s*(\S+)", (REPO / "mkdocs.yml").read_text(), re.M).group(1)


def scratch(tmp_path: Path, names=IDS) -> Path:
    """A copy of notebooks/ (the named ones) with the real lessons_code linked in, safe to edit."""
    root = tmp_path / "project"
    (root / notebooks.NOTEBOOK_DIR).mkdir(parents=True)
    for name in names:
        for suffix in (".py", ".ipynb"):
            shutil.copy(
                REPO / notebooks.NOTEBOOK_DIR / f"{name}{suffix}", root / notebooks.NOTEBOOK_DIR
            )
    (root / "lessons_code").symlink_to(REPO / "lessons_code")
    return root


def test_every_lesson_has_a_notebook_and_every_notebook_a_lesson() -> None:
    lessons = {p.name for p in (REPO / "docs").glob("[0-9][0-9]-*.md")}
    pages = {nb.lesson_page for nb in NOTEBOOKS}
    assert "02-repeated-multiplication.md" in pages
    assert pages <= lessons, f"notebooks without a lesson page: {sorted(pages - lessons)}"
    assert lessons <= pages, (
        f"lesson pages without a notebook template in notebooks/: {sorted(lessons - pages)}"
    )


# ---------------------------------------------------------------- one source: templates and generation


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_the_committed_notebook_is_what_its_template_generates(nb) -> None:
    assert nb.ipynb.read_text(encoding="utf-8") == notebooks.generated_text(nb), (
        f"{nb.rel} is stale: run `make notebooks` and commit it"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_a_generated_notebook_says_where_it_comes_from_and_carries_no_outputs(nb) -> None:
    notebook = notebooks.read(nb)
    assert notebook.cells[0].cell_type == "markdown"
    assert (
        f"`python -m lessons_code notebooks` from `{nb.template_rel}`" in notebook.cells[0].source
    )
    assert "edit those, not this file" in notebook.cells[0].source
    assert notebook.metadata == notebooks.METADATA
    assert [c.id for c in notebook.cells] == [f"cell-{i:02d}" for i in range(len(notebook.cells))]
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and not any(c.outputs or c.execution_count for c in code)
    assert not any("--8<--" in c.source for c in code), "an include was left unexpanded"
    assert "formats:" not in nb.template.read_text(encoding="utf-8"), (
        "templates are not jupytext-paired any more"
    )


def test_check_names_a_stale_notebook_writes_nothing_and_the_generator_fixes_it(
    tmp_path, capsys
) -> None:
    root = scratch(tmp_path)
    nb = notebooks.Notebook(NOTEBOOKS[1].name, root)
    nb.template.write_text(
        nb.template.read_text(encoding="utf-8") + "\n# %%\nprint('added')\n", encoding="utf-8"
    )
    before = nb.ipynb.read_bytes()
    check = argparse.Namespace(check=True, execute=False)
    assert notebooks.run(check, root) == 1
    assert f"{nb.rel} is stale" in capsys.readouterr().err and nb.ipynb.read_bytes() == before
    assert notebooks.run(argparse.Namespace(check=False, execute=False), root) == 0
    assert f"wrote {nb.rel}" in capsys.readouterr().out
    assert notebooks.read(nb).cells[-1].source == "print('added')"
    assert notebooks.run(check, root) == 0 and notebooks.stale(notebooks.discover(root)) == []


def test_the_check_on_the_command_line_passes_for_the_committed_notebooks() -> None:
    from conftest import run_cli

    proc = run_cli("notebooks", "--check")
    assert proc.returncode == 0 and f"{len(NOTEBOOKS)} up to date" in proc.stdout, (
        proc.stdout + proc.stderr
    )


def defined_names(path: Path) -> set[str]:
    return {
        node.name
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


LESSON_NAMES = {name: path.name for path in DEFINING_MODULES for name in defined_names(path)}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_a_template_defines_nothing_that_lesson_code_defines(nb) -> None:
    copied = {
        name: LESSON_NAMES[name]
        for name in notebooks.template_definitions(nb)
        if name in LESSON_NAMES
    }
    assert not copied, (
        f"{nb.template_rel} defines {copied}: include the section instead of copying it"
    )


def test_a_copied_function_in_a_template_is_caught(tmp_path) -> None:
    root = scratch(tmp_path, ["l05_taming_explosions"])
    nb = notebooks.Notebook("l05_taming_explosions", root)
    nb.template.write_text(
        nb.template.read_text(encoding="utf-8") + "\n# %%\ndef clip_by_norm(g, max_norm):\n"
        "    return g\n",
        encoding="utf-8",
    )
    copied = [name for name in notebooks.template_definitions(nb) if name in LESSON_NAMES]
    assert copied == ["clip_by_norm"] and LESSON_NAMES["clip_by_norm"] == "l05_taming_explosions.py"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_every_include_names_an_existing_section_and_its_code_is_in_the_notebook(nb) -> None:
    template = nb.template.read_text(encoding="utf-8")
    includes = [
        (m["path"], m["name"]) for m in map(snippets.INCLUDE.match, template.splitlines()) if m
    ]
    assert includes, f"{nb.template_rel} includes no lesson code"
    code = "\n".join(c.source for c in notebooks.read(nb).cells if c.cell_type == "code")
    for path, name in includes:
        assert snippets.section(path, name) in code, (
            f"{nb.rel} does not show {path}:{name} as it is"
        )


def test_an_include_of_a_missing_section_names_the_template_file_and_section(tmp_path) -> None:
    root = scratch(tmp_path, ["l02_repeated_multiplication"])
    nb = notebooks.Notebook("l02_repeated_multiplication", root)
    nb.template.write_text(
        nb.template.read_text(encoding="utf-8") + "\n# %%\n# --8<-- "
        '"lessons_code/l02_repeated_multiplication.py:no_such_section"\n',
        encoding="utf-8",
    )
    with pytest.raises(snippets.SnippetError) as error:
        notebooks.generate(nb)
    message = str(error.value)
    assert (
        nb.template_rel in message
        and "l02_repeated_multiplication.py has no section 'no_such_section'" in message
    )
    assert "powers" in message  # the sections that do exist


def test_snippets_reads_every_section_exactly_as_pymdownx_does() -> None:
    import markdown

    md = markdown.Markdown(
        extensions=["pymdownx.snippets"],
        extension_configs={
            "pymdownx.snippets": {
                "base_path": [str(REPO)],
                "check_paths": True,
                "dedent_subsections": True,
            }
        },
    )
    reader = md.preprocessors["snippet"]
    compared = 0
    for path in sorted((REPO / "lessons_code").rglob("*.py")):
        for name in snippets.sections(path):
            # the lines as pymdownx reads a file: newlines stripped, a final newline leaving one empty line
            lines = path.read_text(encoding="utf-8").replace("\r", "").split("\n")
            expected = "\n".join(reader.extract_section(name, lines))
            assert snippets.section(path, name) == expected, f"{path.relative_to(REPO)}:{name}"
            compared += 1
    assert compared > 50


def test_snippets_drops_nested_markers_unescapes_and_dedents(tmp_path) -> None:
    source = tmp_path / "code.py"
    source.write_text(
        "# --8<-- [start:outer]\nclass A:\n    # --8<-- [start:inner]\n    def f(self):\n"
        "        return ';--8<-- [end:x]'\n    # --8<-- [end:inner]\n# --8<-- [end:outer]\n"
    )
    assert (
        snippets.section(source, "outer")
        == "class A:\n    def f(self):\n        return '--8<-- [end:x]'"
    )
    assert snippets.section(source, "inner") == "def f(self):\n    return '--8<-- [end:x]'"
    with pytest.raises(
        snippets.SnippetError, match="has no section 'nope'; its sections: inner, outer"
    ):
        snippets.section(source, "nope")
    with pytest.raises(snippets.SnippetError, match="cannot read it"):
        snippets.section(tmp_path / "missing.py", "outer")


FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?:python|py)\b[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)


def test_included_code_is_byte_identical_to_what_the_built_pages_show(fast_site) -> None:
    """Every fence of a page that embeds a section, expanded by lessons_code/snippets.py, is one of the code
    blocks of the built page, as the copy button copies it: so what a notebook includes is what a page shows."""
    from test_copy_paste import python_blocks

    site, _ = fast_site
    checked = set()
    for page in sorted((REPO / "docs").glob("*.md")):
        fences = [
            m for m in FENCE.finditer(page.read_text(encoding="utf-8")) if "--8<--" in m["body"]
        ]
        if not fences:
            continue
        html = (site / page.stem / "index.html") if page.stem != "index" else site / "index.html"
        shown = {block.text for block in python_blocks(html.read_text(encoding="utf-8"))}
        for fence in fences:
            body = "\n".join(
                line.removeprefix(fence["indent"]) for line in fence["body"].split("\n")
            )
            expanded, included = snippets.expand(body.rstrip("\n"), form=snippets.PAGE_INCLUDE)
            # an include shown as text (escaped, or a template's comment form) in a docs example
            if not included:
                continue
            assert expanded.rstrip() in shown, (
                f"{page.name}: the block with {included} differs on the built page"
            )
            checked.update(included)
    notebook_sections = {
        (m["path"], m["name"])
        for nb in NOTEBOOKS
        for m in map(snippets.INCLUDE.match, nb.template.read_text(encoding="utf-8").splitlines())
        if m
    }
    assert len(checked) > 30 and notebook_sections <= checked, (
        f"not on any page: {sorted(notebook_sections - checked)}"
    )


# ---------------------------------------------------------------- standalone


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_a_generated_notebook_is_standalone(nb) -> None:
    assert notebooks.standalone_problems(notebooks.read(nb), nb.rel) == []


def test_imports_beyond_numpy_torch_matplotlib_magics_and_lessons_code_are_refused() -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import os\nimport numpy as np"),
            nbformat.v4.new_code_cell("from lessons_code import plotting"),
            nbformat.v4.new_code_cell("import pandas"),
            nbformat.v4.new_code_cell("%matplotlib inline"),
        ]
    )
    problems = notebooks.standalone_problems(notebook, "notebooks/l99_x.ipynb")
    assert len(problems) == 4, problems
    assert all("lessons_code" in p and "cell 2" in p for p in problems[:2])
    assert "cell 3" in problems[2] and "pandas" in problems[2] and "magics" in problems[3]


# ---------------------------------------------------------------- execution, cached on the code cells


@pytest.fixture(scope="session")
def runs(fast_site) -> dict:
    """The record of each notebook's run, as the build made it: a fresh kernel and an empty temporary
    directory per notebook, two at a time with one thread each. Read through the library's record API."""
    found = {nb.name: notebooks.run_record(nb.name, REPO) for nb in NOTEBOOKS}
    missing = [name for name, run in found.items() if run is None]
    assert not missing, f"the build did not execute {missing}"
    return found


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_notebook_ran_top_to_bottom_without_error_and_left_nothing_behind(runs, nb) -> None:
    run = runs[nb.name]
    executed = notebooks.executed(nb)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        f"{nb.name}: not every cell ran"
    )
    outputs = [o for cell in code for o in cell.outputs]
    assert outputs and not any(o.output_type == "error" for o in outputs)
    assert run.left_behind == [], f"{nb.name} left files behind: {run.left_behind}"
    assert 0 < run.seconds < run.limit_s


def test_notebook_run_times(runs, capsys) -> None:
    total = sum(run.seconds for run in runs.values())
    with capsys.disabled():
        print(
            f"\nnotebooks: {len(runs)} executed by the build, {total:.1f} s of kernel time "
            f"(two at a time, one thread each; each expected within {notebooks.EXPECTED_S:.0f} s)"
        )
        for name, run in runs.items():
            slow = "  slow" if run.seconds > notebooks.EXPECTED_S else ""
            print(f"  {run.seconds:5.1f} s  {name}{slow}")


def test_a_prose_edit_runs_nothing_again_and_a_code_edit_does(runs, tmp_path, monkeypatch) -> None:
    # the build's cache, from the scratch copy
    monkeypatch.setenv(notebooks.CACHE_ENV, str(REPO / "build"))
    root = scratch(tmp_path, [IDS[0]])
    nb = notebooks.Notebook(IDS[0], root)
    text = nb.template.read_text(encoding="utf-8")
    prose = text.replace("# # Notebook:", "# # Notebook, reworded:", 1).replace(
        'alt="Line chart', 'alt="A line chart', 1
    )
    assert prose != text and prose.count("reworded") == 1
    nb.template.write_text(prose, encoding="utf-8")
    notebooks.write([nb])
    record = notebooks.run_record(nb.name, root)
    assert record is not None and record.seconds == runs[nb.name].seconds
    logged = []
    assert notebooks.execute_uncached([nb], log=logged.append)[0].cached and logged == []
    merged = notebooks.executed(nb)
    assert "reworded" in merged.cells[1].source  # the new prose, with the cached outputs
    assert any(
        cell.get("metadata", {}).get("alt", "").startswith("A line chart") for cell in merged.cells
    )
    assert all(
        cell.outputs
        for cell in merged.cells
        if cell.cell_type == "code" and "plt.show()" in cell.source
    )
    nb.template.write_text(
        prose.replace("rng = np.random.default_rng(0)", "rng = np.random.default_rng(1)"),
        encoding="utf-8",
    )
    notebooks.write([nb])
    assert notebooks.run_record(nb.name, root) is None and notebooks.executed(nb) is None


def broken_notebook(tmp_path, code: str) -> notebooks.Notebook:
    root = scratch(tmp_path, [IDS[1]])
    nb = notebooks.Notebook(IDS[1], root)
    text = nb.template.read_text(encoding="utf-8")
    # the template's first code cell (its first cell is the title)
    first_code = text.index("# %%\n")
    nb.template.write_text(
        text[:first_code] + f"# %%\n{code}\n\n" + text[first_code:], encoding="utf-8"
    )
    notebooks.write([nb])
    return nb


def test_a_cell_that_raises_fails_naming_notebook_and_cell(tmp_path) -> None:
    nb = broken_notebook(tmp_path, "ratio = 1 / 0  # a deliberate error")
    with pytest.raises(notebooks.NotebookFailed) as error:
        notebooks.execute(nb)
    assert (
        f"{nb.rel}: cell 3 (starting 'ratio = 1 / 0  # a deliberate error') failed: ZeroDivisionError"
        in str(error.value)
    )


def test_a_hung_cell_fails_on_the_hang_guard_naming_notebook_and_cell(
    tmp_path, monkeypatch
) -> None:
    # a run expected to take 0.1 s may take 3; the cell sleeps 60
    monkeypatch.setenv("GTT_HANG_GUARD_S", "3")
    nb = broken_notebook(tmp_path, "import time\ntime.sleep(60)")
    with pytest.raises(notebooks.NotebookFailed) as error:
        notebooks.execute(nb, expected_s=0.1)
    message = str(error.value)
    assert (
        f"{nb.rel}: cell 3 (starting 'import time') failed: hung: still running after" in message
    ), message
    assert "GTT_HANG_GUARD_S" in message


# ---------------------------------------------------------------- the hook: stale, broken, serve


def hook_config(root: Path):
    return SimpleNamespace(
        config_file_path=str(root / "mkdocs.yml"),
        watch=[],
        nav=[{"Run it yourself": ["run-it-yourself.md"]}],
    )


def test_the_build_refuses_a_stale_notebook_naming_the_fix_and_serve_regenerates_it(
    tmp_path, monkeypatch
) -> None:
    from mkdocs.exceptions import PluginError

    root = scratch(tmp_path, [IDS[2]])
    nb = notebooks.Notebook(IDS[2], root)
    nb.template.write_text(
        nb.template.read_text(encoding="utf-8").replace("# # Notebook:", "# # Notebook -", 1),
        encoding="utf-8",
    )
    pages = hook.NotebookPages()
    pages.on_startup(command="build", dirty=False)
    with pytest.raises(PluginError, match=rf"{nb.rel} is stale .*run `make notebooks`"):
        pages.on_pre_build(hook_config(root))
    pages.on_startup(command="serve", dirty=False)
    # a prose edit: the build's cached run serves
    monkeypatch.setenv(notebooks.CACHE_ENV, str(REPO / "build"))
    pages.on_pre_build(hook_config(root))
    assert notebooks.stale([nb]) == [] and "# Notebook -" in notebooks.read(nb).cells[1].source


def test_the_hook_lists_a_page_for_every_notebook_after_the_index_page(tmp_path) -> None:
    config = hook_config(scratch(tmp_path, IDS[:2]))
    hook.NotebookPages().on_config(config)
    assert config.nav == [
        {
            "Run it yourself": [
                "run-it-yourself.md",
                {"Notebook 1": f"notebooks/{IDS[0]}.md"},
                {"Notebook 2": f"notebooks/{IDS[1]}.md"},
            ]
        }
    ]
    assert str(tmp_path / "project" / "notebooks") in config.watch


# ---------------------------------------------------------------- in the built site


def notebook_page(site: Path, nb) -> str:
    return (site / notebooks.NOTEBOOK_DIR / nb.name / "index.html").read_text(encoding="utf-8")


def visible(html: str) -> str:
    """The page's text as a reader sees it: no code, scripts, styles or KaTeX's hidden TeX annotation."""
    return re.sub(
        r"<[^>]+>",
        " ",
        re.sub(r"<(pre|code|style|script|annotation)\b.*?</\1>", "", html, flags=re.S),
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_a_notebook_page_leaves_no_formula_unrendered(fast_site, nb) -> None:
    """Every $...$ of the notebook's prose is KaTeX on the page, in the text, the title and the table of contents."""
    site, _ = fast_site
    html = notebook_page(site, nb)
    text = visible(html)
    for raw in ("$", "\\(", "\\[", "\\frac", "\\sigma", "\\gamma"):
        assert raw not in text, (
            f"{nb.name}: unrendered maths {raw!r} near {text[max(text.find(raw) - 80, 0) :][:160]!r}"
        )
    maths = sum(
        len(re.findall(r"(?<!\\)\$", c.source))
        for c in notebooks.read(nb).cells
        if c.cell_type == "markdown"
    )
    assert maths == 0 or 'class="katex"' in html


def test_the_unrendered_maths_check_can_fail() -> None:
    assert "$" in visible(
        "<p>The rule: $\\gamma\\, \\sigma_{\\max}(W) &lt; 1$</p><pre>$ kept</pre>"
    )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_a_notebook_page_is_a_lean_material_page_with_its_plots_beside_it(fast_site, nb) -> None:
    site, _ = fast_site
    html = notebook_page(site, nb)
    folder = site / notebooks.NOTEBOOK_DIR / nb.name
    plots = sum(p.stat().st_size for p in folder.glob("*.png"))
    weight = len(gzip.compress(html.encode(), 9)) + plots
    assert weight <= PAGE_WEIGHT_LIMIT, (
        f"{nb.name}: {weight / 1000:.0f} KB gzip, limit {PAGE_WEIGHT_LIMIT / 1000:.0f} KB"
    )
    for leftover in (
        "MathJax",
        "mathjax",
        "jp-OutputArea",
        "jp-Notebook",
        "cdnjs",
        "require.js",
        "data:image",
    ):
        assert leftover not in html, f"{nb.name}: {leftover!r} in the page"
    article = re.search(r"<article\b.*?</article>", html, re.S).group(0)
    assert "Generated by" not in article  # the note is for the .ipynb's readers, not the page's
    # Code cells are ordinary highlighted blocks (Material's copy button and palette), outputs text blocks.
    assert re.search(r'<div class="language-python highlight"', article)
    assert 'class="gtt-nb-output"' in article
    images = re.findall(r"<img [^>]*>", article)
    assert images
    for img in images:
        src = re.search(r'src="(output_\d+_\d+\.png)"', img)
        assert src and (folder / src.group(1)).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", img
        assert re.search(r'alt="[^"]{30,}"', img) and 'loading="lazy"' in img, img
        assert re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img), img
    assert re.search(r'<meta name="description" content="This notebook goes with lesson \d', html)
    assert f"/edit/main/{nb.template_rel}" in html  # the edit button opens the template


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_the_download_is_the_executed_notebook(fast_site, nb) -> None:
    site, _ = fast_site
    link = re.search(r'<a download="[^"]+" href="([^"]+\.ipynb)"', notebook_page(site, nb))
    assert link, f"no download link on the page of {nb.name}"
    downloaded = nbformat.read(
        site / notebooks.NOTEBOOK_DIR / nb.name / link.group(1), as_version=4
    )
    assert [c.source for c in downloaded.cells] == [c.source for c in notebooks.read(nb).cells]
    assert all(c.execution_count for c in downloaded.cells if c.cell_type == "code")


def test_colab_and_download_links_point_at_files_that_exist(fast_site) -> None:
    site, _ = fast_site
    repo = urlparse(repo_url()).path.strip("/")
    colab = re.compile(
        r'href="https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/([^"]+)"'
    )
    seen = set()
    for page in built_pages(site):
        html = page.read_text(encoding="utf-8")
        for owner_repo, _branch, path in colab.findall(html):
            where = f"{page.parent.relative_to(site)}/ links to Colab {path}"
            assert owner_repo == repo, f"{where}: repository {owner_repo}, repo_url says {repo}"
            assert (REPO / path).is_file(), f"{where}, which does not exist in the repository"
            ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0
            assert not ignored, (
                f"{where}, which git ignores, so GitHub (and Colab) will not have it"
            )
            seen.add(path)
        for target in re.findall(r'<a download="[^"]*" href="([^"]+)"', html):
            assert (page.parent / target).is_file(), (
                f"{page.parent.relative_to(site)}/: download {target} is missing"
            )
    assert seen == {nb.rel for nb in NOTEBOOKS}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_each_lesson_page_ends_with_its_notebook_and_the_notebook_links_back(fast_site, nb) -> None:
    site, _ = fast_site
    lesson = (site / nb.lesson_page.removesuffix(".md") / "index.html").read_text(encoding="utf-8")
    section = lesson[lesson.index('id="run-it-yourself"') :]
    assert (
        f'href="../{notebooks.NOTEBOOK_DIR}/{nb.name}/"' in section
        and "colab.research.google.com" in section
    )
    assert (
        "{{"
        not in (REPO / "docs" / nb.lesson_page)
        .read_text(encoding="utf-8")
        .split("run_it_yourself()")[1]
    )
    assert f'href="../../{nb.lesson_page.removesuffix(".md")}/"' in notebook_page(site, nb)


def test_the_run_it_yourself_page_lists_every_notebook_and_the_nav_has_a_page_for_each(
    fast_site,
) -> None:
    site, _ = fast_site
    html = (site / "run-it-yourself" / "index.html").read_text(encoding="utf-8")
    table = re.search(r"<table>.*?</table>", html, re.S).group(0)
    for nb in NOTEBOOKS:
        assert f'href="../{notebooks.NOTEBOOK_DIR}/{nb.name}/"' in table and nb.rel in table
        assert f'<a href="../{notebooks.NOTEBOOK_DIR}/{nb.name}/" class="md-nav__link">' in html
    assert table.count("<tr>") == len(NOTEBOOKS) + 1
    assert "gtt:notebooks" not in html
