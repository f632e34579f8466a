"""The "Run it yourself" notebooks as pages of the site: the MkDocs side of lessons_code/notebooks.py.

Generation, the checks, execution and its cache, and the Markdown of a notebook page all live in the
library, which runs without MkDocs (``python -m lessons_code notebooks [--check] [--execute]``). This hook:

- under ``mkdocs serve`` regenerates a stale ``notebooks/NAME.ipynb`` in place (edit a lesson section and
  its notebook follows); under ``mkdocs build`` a stale notebook stops the build, naming the fix;
- executes what the cache does not hold (a cell that raises stops the build, naming notebook and cell);
- adds one generated Markdown page per notebook, ``notebooks/NAME.md``, with its plots and the executed
  ``.ipynb`` for download beside it, and lists those pages in the nav after ``run-it-yourself.md``;
- points each notebook page's edit button at its template.

Lesson pages link to their notebook with ``{{ run_it_yourself() }}`` and docs/run-it-yourself.md lists all
of them with ``{{ notebook_table() }}`` (hooks/macros.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from lessons_code import notebooks, snippets
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.notebooks")

#: The nav section whose list gets one entry per notebook, after this page.
INDEX_PAGE = "run-it-yourself.md"


class NotebookPages:
    """The hook's one piece of state: whether `mkdocs serve` runs (regenerate) or a build (refuse stale)."""

    def __init__(self) -> None:
        self.serving = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.serving = command == "serve"

    def on_config(self, config):
        root = _root(config)
        folder = str(root / notebooks.NOTEBOOK_DIR)
        if folder not in config.watch:
            config.watch.append(folder)  # `mkdocs serve` rebuilds when a template changes
        section = _nav_section(config.nav or [])
        listed = {
            page
            for entry in section
            for page in (entry.values() if isinstance(entry, dict) else [entry])
        }
        for nb in notebooks.discover(root):
            if nb.page not in listed:
                section.append({f"Notebook {nb.lesson_number}": nb.page})
        return config

    def on_pre_build(self, config) -> None:
        found = notebooks.discover(_root(config))
        try:
            stale = notebooks.stale(found)
            if stale and self.serving:
                notebooks.write(stale)
                log.info("notebooks: regenerated %s", ", ".join(nb.rel for nb in stale))
            elif stale:
                raise PluginError(notebooks.stale_message(stale))
            problems = [
                p for nb in found for p in notebooks.standalone_problems(notebooks.read(nb), nb.rel)
            ]
            problems += [p for nb in found if (p := notebooks.committable_problem(nb))]
            if problems:
                raise PluginError("notebooks:\n  " + "\n  ".join(problems))
            runs = notebooks.execute_uncached(found, log=log.info)
        except (notebooks.NotebookError, notebooks.NotebookFailed, snippets.SnippetError) as exc:
            raise PluginError(str(exc)) from None
        executed = [f"{r.notebook} {r.seconds:.1f} s" for r in runs if not r.cached]
        log.info(
            "notebooks: %d ready (%d from the cache)%s",
            len(runs),
            len(runs) - len(executed),
            f"; executed {', '.join(executed)}" if executed else "",
        )

    def on_files(self, files, config):
        repo, branch = _repo(config)
        for nb in notebooks.discover(_root(config)):
            executed = notebooks.executed(nb)
            # on_pre_build executed it; only a cache removed since then gets here
            if executed is None:
                raise PluginError(
                    f"{nb.rel} is not in the notebook cache {notebooks.cache_dir(nb.root)}"
                )
            lesson = files.get_file_from_path(nb.lesson_page)
            links = (
                [f"[Read lesson {nb.lesson_number}](../{nb.lesson_page})"] if lesson else []
            ) + [
                f"[Open in Colab]({notebooks.colab_url(nb, repo, branch)}){{ .gtt-colab }}",
                f'[Download the notebook (.ipynb, with outputs)]({nb.name}/{nb.name}.ipynb){{ download="{nb.name}.ipynb" }}',
                f"[Template (.py)]({notebooks.template_url(nb, repo, branch)})",
            ]
            header = (
                " · ".join(links) + "\n{ .gtt-nb-links }\n\n"
                f"Needs only {notebooks.needs(executed)} (preinstalled on Colab). "
                "The outputs below were produced when this site was built.\n{ .gtt-nb-note }\n"
            )
            try:
                markdown, images = notebooks.markdown_page(nb, executed, header)
            except notebooks.NotebookError as exc:
                raise PluginError(str(exc)) from None
            files.append(File.generated(config, nb.page, content=markdown))
            files.append(
                File.generated(config, nb.download, content=notebooks.download_text(executed))
            )
            for path, data in images.items():
                files.append(File.generated(config, path, content=data))
        return files

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        nb = _notebook_of(page, config)
        if nb is not None:  # edit the template, not the generated page
            repo, branch = _repo(config)
            page.edit_url = notebooks.template_url(nb, repo, branch, "edit")
        return markdown


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _repo(config) -> tuple[str, str]:
    try:
        return notebooks.github_repo(config.repo_url, config.edit_uri)
    except notebooks.NotebookError as exc:
        raise PluginError(str(exc)) from None


def _nav_section(nav: list) -> list:
    """The nav list that holds INDEX_PAGE, where the notebook pages are listed after it."""
    for entry in nav:
        children = (
            next(iter(entry.values())) if isinstance(entry, dict) and len(entry) == 1 else None
        )
        if isinstance(children, list):
            if INDEX_PAGE in children or any(
                isinstance(c, dict) and INDEX_PAGE in c.values() for c in children
            ):
                return children
            try:
                return _nav_section(children)
            except PluginError:
                continue
    raise PluginError(
        f"mkdocs.yml: the nav needs a section that lists {INDEX_PAGE}; the notebook pages go after it"
    )


def _notebook_of(page, config) -> notebooks.Notebook | None:
    src = page.file.src_uri
    folder, _, name = src.rpartition("/")
    if (
        page.file.generated_by is None
        or folder != notebooks.NOTEBOOK_DIR
        or not name.endswith(".md")
    ):
        return None
    name = name.removesuffix(".md")
    return notebooks.Notebook(name, _root(config)) if notebooks.NAME.match(name) else None


_pages = NotebookPages()
on_startup = _pages.on_startup
on_config = _pages.on_config
on_pre_build = _pages.on_pre_build
on_files = _pages.on_files
on_page_markdown = _pages.on_page_markdown
