"""The figure diff (`python -m lessons_code diff`) and the GitHub annotations of failed figures.

Synthetic builds (hand-written facts, key and timings files) check the report's logic; a scratch copy of
the repository with one constant changed in lesson 2 checks it end to end, against the real figures,
cache and pages.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from lessons_code import diff, github
from test_pipeline import run_sandbox, sandbox, write_lesson  # noqa: F401 - sandbox is a fixture

# ---------------------------------------------------------------- synthetic builds


def write_build(
    directory: Path, figures: dict[str, dict], statuses: dict[str, tuple[str, float]] | None = None
) -> Path:
    """A figures directory as the CLI writes it: NAME.json, NAME.svg, NAME.key (with true hashes), timings.json."""
    directory.mkdir(parents=True)
    for name, spec in figures.items():
        doc = {
            "figure": name,
            "source": f"lessons_code.fake:compute_{name}",
            "seed": 0,
            "preset": "fast",
            "config": spec.get("config", {"type": "Config", "n": 5}),
            "versions": {"python": "3.11"},
            "alt": spec.get("alt", f"A line for {name}, rising from left to right."),
            "facts": spec["facts"],
            "data": spec.get("data", {"y": [1.0, 2.0, 3.0]}),
        }
        facts_json = (json.dumps(doc, indent=1) + "\n").encode()
        svg = spec.get("svg", f"<svg>{name}</svg>").encode()
        (directory / f"{name}.json").write_bytes(facts_json)
        (directory / f"{name}.svg").write_bytes(svg)
        (directory / f"{name}.key").write_text(
            json.dumps(
                {
                    "key": spec["key"],
                    "svg_sha256": hashlib.sha256(svg).hexdigest(),
                    "json_sha256": hashlib.sha256(facts_json).hexdigest(),
                }
            )
        )
    statuses = statuses or {}
    timings = {
        name: {
            "status": statuses.get(name, ("cached", 0.01))[0],
            "seconds": statuses.get(name, ("cached", 0.01))[1],
        }
        for name in figures
    }
    (directory / "timings.json").write_text(json.dumps({"preset": "fast", "figures": timings}))
    return directory


PAGE = """\
# A page

A factor of 0.9 leaves {{ fact("l90_a", "third") }} after ten steps. This sentence quotes nothing.
The next one wraps over
two lines and quotes {{ fact("l90_a", "big", ".1f") }} at its end. Then a third
sentence, e.g. a short one, quotes {{ fact("l90_a", "share", fmt=".0%") }}.

| setting | value |
|---|---|
| steps | {{ fact("l90_a", "steps") }} |
| unchanged | {{ fact("l91_b", "same") }} |

- Pascanu et al. (2013) would quote {{ fact("l90_a", "third", ".2f") }} here.

{{ figure("l90_a", "The curve over " ~ fact("l90_a", "steps") ~ " steps.") }}

{% raw %}
An example of the syntax, not a fact: {{ fact("l90_a", "third") }}.
{% endraw %}

A call over two lines: {{ fact("l90_a",
"big", ".1f") }}. And the rest of line 22: {{ fact("l90_a", "share", ".0%") }}.
"""


@pytest.fixture
def builds(tmp_path) -> tuple[Path, Path, Path]:
    """BASE and HEAD: l90_a recomputed (facts moved, added, removed, noise), l91_b unchanged,
    l92_gone removed, l93_new added; and a docs folder with one page."""
    base = write_build(
        tmp_path / "base",
        {
            "l90_a": {
                "key": "k90",
                "facts": {
                    "third": 0.3486784,
                    "big": 117.3909,
                    "share": 0.25,
                    "steps": 10,
                    "noise": 1.0,
                    "dropped": 5,
                },
                "svg": "<svg>old</svg>",
            },
            "l91_b": {"key": "k91", "facts": {"same": 2.5}},
            "l92_gone": {"key": "k92", "facts": {"x": 1}},
        },
    )
    head = write_build(
        tmp_path / "head",
        {
            "l90_a": {
                "key": "k90-new",
                "facts": {
                    "third": 0.3874205,
                    "big": 117.3912,
                    "share": 0.5,
                    "steps": 10,
                    "noise": 1.0 + 1e-9,
                    "fresh": 7,
                },
                "svg": "<svg>new</svg>",
                "alt": "A steeper line for l90_a.",
                "config": {"type": "Config", "n": 6},
            },
            "l91_b": {"key": "k91", "facts": {"same": 2.5}},
            "l93_new": {"key": "k93", "facts": {"y": 3}},
        },
        statuses={"l90_a": ("computed", 1.234), "l93_new": ("computed", 0.5)},
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text(PAGE)
    return base, head, docs


def test_figures_are_sorted_into_added_removed_recomputed_and_unchanged(builds) -> None:
    base, head, docs = builds
    c = diff.compare(diff.load_build(base), diff.load_build(head), docs)
    assert c.added == ["l93_new"] and c.removed == ["l92_gone"] and c.unchanged == ["l91_b"]
    assert [f.name for f in c.recomputed] == ["l90_a"]
    f = c.recomputed[0]
    # "big" moved by 2.6e-6 (relative): beyond the default tolerance; "noise" by 1e-9: within it
    assert [(m.name, m.old, m.new) for m in f.moved] == [
        ("big", 117.3909, 117.3912),
        ("share", 0.25, 0.5),
        ("third", 0.3486784, 0.3874205),
    ]
    assert f.facts_added == {"fresh": 7} and f.facts_removed == {"dropped": 5}
    assert f.alt == ("A line for l90_a, rising from left to right.", "A steeper line for l90_a.")
    assert f.image_changed and f.data_changed == []
    assert [(m.name, m.old, m.new) for m in f.config_changed] == [("n", 5, 6)]


def test_the_tolerance_decides_what_counts_as_moved(builds) -> None:
    base, head, docs = builds
    strict = diff.compare(
        diff.load_build(base), diff.load_build(head), docs, diff.Tolerance(rel=1e-12, abs=0)
    )
    assert "noise" in [m.name for m in strict.recomputed[0].moved]
    loose = diff.compare(
        diff.load_build(base), diff.load_build(head), docs, diff.Tolerance(rel=1e-3)
    )
    # 117.3909 -> 117.3912 is noise now
    assert [m.name for m in loose.recomputed[0].moved] == [
        "share",
        "third",
    ]
    tol = diff.Tolerance()
    assert tol.same(0.0, 1e-13) and not tol.same(0.0, 1e-11)  # absolute tolerance near zero
    assert not tol.same(1, "1") and tol.same("nan", "nan") and not tol.same([1.0, 2.0], [1.0])


def test_sentences_whose_numbers_changed_are_listed_with_page_line_before_and_after(builds) -> None:
    base, head, docs = builds
    c = diff.compare(diff.load_build(base), diff.load_build(head), docs)
    found = [(s.page, s.line, s.before, s.after) for s in c.sentences]
    assert found == [
        (
            "docs/page.md",
            3,
            "A factor of 0.9 leaves **0.349** after ten steps.",
            "A factor of 0.9 leaves **0.387** after ten steps.",
        ),
        # "big" moved in the 7th digit: shown with ".1f" it reads 117.4 in both, so its sentence is not listed
        (
            "docs/page.md",
            5,
            "Then a third sentence, e.g. a short one, quotes **25%**.",
            "Then a third sentence, e.g. a short one, quotes **50%**.",
        ),
        (
            "docs/page.md",
            13,
            "- Pascanu et al. (2013) would quote **0.35** here.",
            "- Pascanu et al. (2013) would quote **0.39** here.",
        ),
        (
            "docs/page.md",
            22,
            "And the rest of line 22: **25%**.",
            "And the rest of line 22: **50%**.",
        ),
    ]
    assert c.quoted[("l90_a", "big")] == ["docs/page.md:5", "docs/page.md:21"]
    # the raw block is no call
    assert c.quoted[("l90_a", "steps")] == [
        "docs/page.md:10",
        "docs/page.md:15",
    ]


def test_noise_across_a_rounding_boundary_is_not_a_changed_sentence(tmp_path) -> None:
    base = write_build(tmp_path / "base", {"l90_a": {"key": "1", "facts": {"slope": -0.10535}}})
    head = write_build(
        tmp_path / "head", {"l90_a": {"key": "2", "facts": {"slope": -0.1053500001}}}
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "p.md").write_text('The slope is {{ fact("l90_a", "slope", ".4f") }}.\n')
    assert f"{-0.10535:.4f}" != f"{-0.1053500001:.4f}"  # the two do read differently on a page
    c = diff.compare(diff.load_build(base), diff.load_build(head), docs)
    assert c.recomputed[0].moved == [] and c.sentences == []
    strict = diff.compare(
        diff.load_build(base), diff.load_build(head), docs, diff.Tolerance(rel=0, abs=0)
    )
    assert [s.line for s in strict.sentences] == [1]


def test_the_report_names_every_change_and_the_run_time(builds) -> None:
    base, head, docs = builds
    report = diff.render_report(
        diff.compare(diff.load_build(base), diff.load_build(head), docs), "main", "this PR"
    )
    assert report.startswith("## Figures and numbers: main → this PR")
    assert "**1 added, 1 removed, 1 recomputed, 1 unchanged**" in report
    assert "4 sentence(s) on the pages show different numbers" in report
    assert "| `l90_a` | 3 | 1 / 1 | changed | changed | 1.23 s |" in report
    assert (
        "| `third` | 0.3486784 | 0.3874205 | +11.1 % | docs/page.md:3, docs/page.md:13 |" in report
    )
    assert "| `share` | 0.25 | 0.5 | +100 % |" in report
    assert "Facts added: `fresh` = 7." in report and "Facts removed: `dropped` = 5." in report
    assert "Configuration: `n` 5 → 6." in report
    assert (
        "- before: A line for l90_a, rising from left to right.\n- after: A steeper line for l90_a."
        in report
    )
    assert "### Added figures\n\n- `l93_new` (1 facts, 0.50 s)" in report
    assert "### Removed figures\n\n- `l92_gone` (1 facts)" in report
    assert "  - before: A factor of 0.9 leaves **0.349** after ten steps." in report
    assert "1 unchanged figures (same cache key)" in report and "`l91_b`" in report
    assert "noise" not in report


def test_images_of_changed_added_and_removed_figures_are_copied(builds, tmp_path) -> None:
    base, head, docs = builds
    images = tmp_path / "images"
    images.mkdir()
    (images / "l99_stale.head.svg").write_text("<svg>from an earlier report</svg>")
    c = diff.compare(diff.load_build(base), diff.load_build(head), docs)
    diff.copy_images(c, images)
    assert sorted(p.name for p in images.iterdir()) == [
        "l90_a.base.svg",
        "l90_a.head.svg",
        "l92_gone.base.svg",
        "l93_new.head.svg",
    ]
    assert (images / "l90_a.base.svg").read_text() == "<svg>old</svg>"
    assert (images / "l90_a.head.svg").read_text() == "<svg>new</svg>"


def test_a_figure_only_left_over_in_the_directory_is_not_counted(builds) -> None:
    base, head, _ = builds
    timings = json.loads((head / "timings.json").read_text())
    # as when a lesson drops a figure: its files stay, the CLI no longer lists it
    del timings["figures"]["l91_b"]
    (head / "timings.json").write_text(json.dumps(timings))
    c = diff.compare(diff.load_build(base), diff.load_build(head), None)
    assert "l91_b" in c.removed and "l91_b" not in c.unchanged


def test_failed_figures_in_head_are_reported(builds) -> None:
    base, head, docs = builds
    timings = json.loads((head / "timings.json").read_text())
    timings["figures"]["l92_gone"] = {"status": "failed", "seconds": 0.1}
    (head / "timings.json").write_text(json.dumps(timings))
    c = diff.compare(diff.load_build(base), diff.load_build(head), docs)
    assert c.failed == ["l92_gone"] and "l92_gone" not in c.removed
    assert "**1 failed**" in diff.render_report(c) and "### Failed in HEAD" in diff.render_report(c)


def test_a_damaged_entry_or_a_missing_directory_stops_the_diff_naming_the_file(
    builds, tmp_path
) -> None:
    base, head, docs = builds
    (head / "l90_a.json").write_text((head / "l90_a.json").read_text().replace("0.5", "0.6"))
    with pytest.raises(diff.DiffError, match=r"l90_a\.json: does not match the hash in l90_a\.key"):
        diff.load_build(head)
    with pytest.raises(diff.DiffError, match="no such figures directory"):
        diff.load_build(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("expression", "cause"),
    [
        ('{{ fact(figure_name, "x") }}', "must have literal arguments"),
        ('{{ fact("l90_a") }}', "needs a figure and a fact name"),
        ('{{ fact("l90_a", "x", ".1f", "extra") }}', "does not match fact"),
        # a name only MkDocs defines
        (
            '{{ fact("l90_a", "third") ~ page_variable }}',
            "cannot be rendered here",
        ),
    ],
)
def test_a_fact_call_the_diff_cannot_render_is_an_error_naming_page_and_line(
    builds, expression, cause
) -> None:
    base, head, docs = builds
    (docs / "bad.md").write_text(f"# Bad\n\nIt shows {expression}.\n")
    with pytest.raises(diff.DiffError, match=rf"docs/bad\.md:3: .*{cause}"):
        diff.compare(diff.load_build(base), diff.load_build(head), docs)


def test_the_command_line_writes_the_report_without_importing_torch(builds, tmp_path) -> None:
    base, head, docs = builds
    out = tmp_path / "report.md"
    code = (
        "import sys; from lessons_code.cli import main; "
        f"rc = main(['diff', {str(base)!r}, {str(head)!r}, '--docs', {str(docs)!r}, '--out', {str(out)!r}, "
        f"'--images', {str(tmp_path / 'img')!r}, '--base-label', 'main']); "
        "print(rc, 'torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.stdout.split() == ["0", "False"], proc.stdout + proc.stderr
    assert out.read_text().startswith("## Figures and numbers: main → HEAD")
    assert (tmp_path / "img" / "l90_a.head.svg").is_file()
    proc = run_cli("diff", str(base), str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "nowhere: no such figures directory" in proc.stderr


# ---------------------------------------------------------------- GitHub annotations


def test_workflow_commands_escape_what_github_requires() -> None:
    line = github.error(
        "50% done\nthen: failed, badly", REPO / "lessons_code" / "l02_x.py", 7, "figure a,b: x"
    )
    assert (
        line
        == "::error file=lessons_code/l02_x.py,line=7,title=figure a%2Cb%3A x::50%25 done%0Athen: failed, badly"
    )
    # outside the repository
    assert github.error("no place", "/elsewhere/x.py", 3) == "::error::no place"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["in-process", "worker-processes"])
@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("raise RuntimeError('the optimiser diverged')", "raise RuntimeError"),
        # found by the runner's check: the function
        (
            "values = np.array([1.0, np.nan, 3.0])",
            "def compute",
        ),
    ],
    ids=["raises", "nan"],
)
def test_on_github_actions_a_failed_figure_is_annotated_on_its_file_and_line(
    sandbox, jobs, body, where
) -> None:
    write_lesson(sandbox, "l91_plain", body=body)
    lesson = sandbox / "lessons_code" / "l91_fake.py"
    # Both fake lessons are stale, so with --jobs 2 they really run in worker processes.
    proc, statuses = run_sandbox(sandbox, "--jobs", jobs, env={"GITHUB_ACTIONS": "true"})
    assert proc.returncode == 1 and statuses == {
        "l90_uses_helper": "computed",
        "l91_plain": "failed",
    }
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1, proc.stdout
    prefix = f"::error file=lessons_code/l91_fake.py,line={_line_of(lesson, where)},title=figure l91_plain failed::"
    assert annotations[0].startswith(prefix), annotations[0]
    assert (
        "lesson l91, figure l91_plain: compute function lessons_code.l91_fake:compute failed"
        in annotations[0]
    )

    # elsewhere: the message, and no workflow command
    proc, _ = run_sandbox(sandbox, env={"GITHUB_ACTIONS": ""})
    assert (
        proc.returncode == 1
        and "::error" not in proc.stdout + proc.stderr
        and "l91_plain" in proc.stderr
    )


def test_on_github_actions_a_lesson_that_does_not_import_is_annotated(sandbox) -> None:
    lesson = sandbox / "lessons_code" / "l91_fake.py"
    lesson.write_text(lesson.read_text().replace("def plot(result, ax):", "def plot(result, ax)"))
    proc, _ = run_sandbox(sandbox, env={"GITHUB_ACTIONS": "true"})
    assert proc.returncode == 1
    line = _line_of(lesson, "def plot(result, ax)")
    assert (
        f"::error file=lessons_code/l91_fake.py,line={line},title=lesson modules failed to import::"
        in proc.stdout
    )


# ---------------------------------------------------------------- done when: one constant, one lesson

CONSTANT = "NONNORMAL_EXAMPLE = np.array([[0.9, 4.0], [0.0, 0.9]])"


def test_changing_one_constant_in_a_lesson_reports_exactly_its_figures_facts_and_sentences(
    fast_figures, tmp_path
) -> None:
    scratch = tmp_path / "repo"
    for folder in ("lessons_code", "docs", "hooks"):
        shutil.copytree(
            REPO / folder, scratch / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "mkdocs.yml", scratch / "mkdocs.yml")
    lesson = scratch / "lessons_code" / "l02_repeated_multiplication.py"
    source = lesson.read_text()
    assert CONSTANT in source, (
        "this test changes lesson 2's non-normal example matrix; point it at the new place"
    )

    # BASE: the session's figures, brought up to date with the scratch copy's code before the change (a no-op
    # unless someone edits a lesson while the tests run). HEAD starts from BASE, as CI starts from main's cache.
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(fast_figures, base)
    env = {"PYTHONPATH": str(scratch)}
    proc = run_cli("figures", "--fast", "--out", str(base), cwd=scratch, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.copytree(base, head)
    lesson.write_text(source.replace(CONSTANT, CONSTANT.replace("4.0", "6.0")))
    proc = run_cli("figures", "--fast", "--out", str(head), cwd=scratch, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    statuses = {
        k: v["status"]
        for k, v in json.loads((head / "timings.json").read_text())["figures"].items()
    }
    lesson2 = {name for name in statuses if name.startswith("l02_")}
    # the cache at work
    assert lesson2 and {name for name, s in statuses.items() if s == "computed"} == lesson2

    # What moved, found independently of the diff: a plain comparison of the two builds' facts.
    def facts(directory: Path, name: str) -> dict:
        return json.loads((directory / f"{name}.json").read_text())["facts"]

    moved = {
        (name, k): (v, facts(head, name)[k])
        for name in lesson2
        for k, v in facts(base, name).items()
        if v != facts(head, name)[k]
    }
    assert ("l02_gradient_vs_lag", "nonnormal_peak_norm") in moved
    # the only figure that uses the matrix
    assert {name for name, _ in moved} == {"l02_gradient_vs_lag"}
    svg_changed = {
        name
        for name in lesson2
        if (base / f"{name}.svg").read_bytes() != (head / f"{name}.svg").read_bytes()
    }

    report_path, images = tmp_path / "report.md", tmp_path / "images"
    started = time.perf_counter()
    proc = run_cli(
        "diff",
        str(base),
        str(head),
        "--docs",
        str(scratch / "docs"),
        "--out",
        str(report_path),
        "--images",
        str(images),
        cwd=scratch,
        env=env,
    )
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert seconds < 10, f"the report took {seconds:.1f} s; the budget is 10 s for the whole site"
    report = report_path.read_text()

    counts = f"**0 added, 0 removed, {len(lesson2)} recomputed, {len(statuses) - len(lesson2)} unchanged**"
    assert counts in report, report
    recomputed = report.split("### Recomputed figures")[1].split("### Sentences")[0]
    assert set(re.findall(r"^\| `(l\d\d_\w+)` \|", recomputed, re.M)) == lesson2
    assert set(re.findall(r"^\| `(\w+)` \| [-\d.e+]+ \| [-\d.e+]+ \|", recomputed, re.M)) == {
        k for _, k in moved
    }
    assert (
        "#### l02_gradient_vs_lag" in recomputed
        and "Plotted data changed: `nonnormal_norms`" in recomputed
    )

    sentences = report.split("### Sentences whose numbers changed")[1].split("<details>")[0]
    items = re.findall(
        r"^- \*\*`(.+?)`, line (\d+)\*\*\n  - before: (.*)\n  - after: (.*)$", sentences, re.M
    )
    assert items, sentences
    page = "docs/02-repeated-multiplication.md"
    assert {item[0] for item in items} == {page}
    old, new = moved[("l02_gradient_vs_lag", "nonnormal_peak_norm")]
    assert any(
        f"**{old:.1f}**" in before and f"**{new:.1f}**" in after for _, _, before, after in items
    ), items
    # Every listed sentence quotes a moved fact of the lesson on the lines it spans, and nothing else moved.
    lines = (scratch / "docs" / "02-repeated-multiplication.md").read_text().splitlines()
    for _, line, before, after in items:
        window = "\n".join(lines[int(line) - 1 : int(line) + 3])
        assert any(f'fact("{name}", "{k}"' in window for name, k in moved), window
        assert before != after and "**" in after

    assert sorted(p.name for p in images.iterdir()) == sorted(
        f"{n}.{side}.svg" for n in svg_changed for side in ("base", "head")
    )
