"""GitHub workflows: zizmor and actionlint find nothing; least privilege, SHA pins of actions that run on
GitHub's current Node, installs from the lock files, deploys from main only and only what passed the tests;
Dependabot keeps all of it current."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_zizmor_reports_no_findings() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")
    proc = subprocess.run(
        [str(zizmor), "--offline", "--persona", "pedantic", str(REPO / ".github")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_actionlint_reports_no_findings() -> None:
    node = shutil.which("node")
    assert node, "node is required (see the README)"
    proc = subprocess.run(
        [node, str(REPO / "tests" / "support" / "actionlint.cjs"), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 finding(s)" in proc.stdout


def test_actionlint_does_catch_a_broken_workflow(tmp_path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    proc = subprocess.run(
        [shutil.which("node"), str(REPO / "tests" / "support" / "actionlint.cjs"), str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 1 and "potentially untrusted" in proc.stdout


def _uses(workflow: Path) -> list[tuple[str, str]]:
    """(what, the rest of the line) for every `uses:`, except calls of this repository's own workflows
    (`./.github/workflows/...`, which run at the caller's commit and have nothing to pin)."""
    uses = re.findall(r"uses:\s*(\S+)(.*)", workflow.read_text())
    local = [what for what, _ in uses if what.startswith("./")]
    for what in local:
        assert (
            re.fullmatch(r"\./\.github/workflows/[\w.-]+\.yml", what) and (REPO / what).is_file()
        ), what
    return [(what, rest) for what, rest in uses if not what.startswith("./")]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_full_sha_with_a_version_comment(workflow: Path) -> None:
    uses = _uses(workflow)
    assert uses
    for action, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}", action), action
        assert re.search(r"#\s*v\d", rest), f"{action} has no version comment"


# The first major version of each action that runs on Node 24 (their release notes): GitHub-hosted runners
# have deprecated Node 20 actions. An action missing here must be looked up and added, not assumed.
NODE24_SINCE = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-node": 5,
    "actions/cache": 5,
    "actions/configure-pages": 6,
    "actions/upload-pages-artifact": 5,  # a composite action; from v5 on it uploads with upload-artifact v7
    "actions/deploy-pages": 5,
    "actions/upload-artifact": 6,
}


def test_every_action_is_a_version_that_runs_on_node_24() -> None:
    for workflow in WORKFLOWS:
        for action, rest in _uses(workflow):
            repo = "/".join(action.split("@")[0].split("/")[:2])
            assert repo in NODE24_SINCE, f"{workflow.name}: {repo} is not in NODE24_SINCE"
            major = int(re.search(r"#\s*v(\d+)", rest)[1])
            assert major >= NODE24_SINCE[repo], f"{workflow.name}: {action} is v{major}, Node 20"


def test_node_is_a_supported_lts_and_every_checkout_has_the_history_and_no_token() -> None:
    for workflow in WORKFLOWS:
        steps = _steps(_workflow(workflow.name))
        nodes = [
            s["with"]["node-version"]
            for s in steps
            if s.get("uses", "").startswith("actions/setup-node@")
        ]
        # Node 20 ended in 2026
        assert nodes and all(str(v) in ("22", "24") for v in nodes), (
            workflow.name,
            nodes,
        )
        checkouts = [s["with"] for s in steps if s.get("uses", "").startswith("actions/checkout@")]
        assert checkouts, workflow.name
        for options in checkouts:
            # full history: "Last updated" dates come from git log; no token left behind in .git/config
            assert (
                options.get("fetch-depth") == 0 and options.get("persist-credentials") is False
            ), (workflow.name, options)


def test_python_packages_come_from_the_lock_files_only() -> None:
    """Each job installs with `make install` (the lock files, hashes checked, torch from the PyTorch CPU
    index) before anything else runs, never with a pip command of its own; the pip cache follows the locks."""
    for workflow in WORKFLOWS:
        parsed = _workflow(workflow.name)
        for name, job in parsed["jobs"].items():
            if not any(
                s.get("uses", "").startswith("actions/setup-python@") for s in job.get("steps", [])
            ):
                continue  # no Python here: the deploy job, or a call of another workflow of this repository
            runs = [s["run"] for s in job["steps"] if "run" in s]
            assert not any(re.search(r"\bpip\b", run) for run in runs), (workflow.name, name)
            makes = [m for run in runs for m in re.findall(r"^make (\S+)", run, re.M)]
            assert makes and makes[0] == "install", (workflow.name, name, makes)
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/setup-python@"):
                    assert step["with"]["cache-dependency-path"] == "requirements/*.txt", (
                        workflow.name,
                        name,
                    )
    makefile = (REPO / "Makefile").read_text()
    assert "TORCH_INDEX := https://download.pytorch.org/whl/cpu" in makefile


def test_permissions_are_least_privilege_and_deploys_come_from_main_only() -> None:
    for workflow in WORKFLOWS:
        top = workflow.read_text().split("\njobs:")[0]
        assert re.search(r"^permissions:\n  contents: read\b", top, re.M), workflow.name
    pages = (REPO / ".github" / "workflows" / "pages.yml").read_text()
    build, deploy = pages.split("\n  deploy:")
    assert "pages: write" not in build and "id-token: write" not in build
    assert "pages: write" in deploy and "id-token: write" in deploy
    assert "branches: [main]" in pages and "if: github.ref == 'refs/heads/main'" in deploy
    assert "concurrency:" in pages


def test_pages_deploys_only_after_the_tests_of_the_same_commit_passed() -> None:
    """pages.yml's first job is ci.yml itself (a call runs at the caller's commit); the build needs it and
    the deploy needs the build, so a failed test, or a skipped one, means nothing is uploaded or deployed."""
    pages, ci = _workflow("pages.yml"), _workflow("ci.yml")
    jobs = pages["jobs"]
    callers = [
        name for name, job in jobs.items() if job.get("uses") == "./.github/workflows/ci.yml"
    ]
    assert callers == ["test"], callers
    # no always(): a failed test stops it
    assert jobs["build"]["needs"] == "test" and "if" not in jobs["build"]
    assert jobs["deploy"]["needs"] == "build"
    uploads = [
        s
        for s in jobs["build"]["steps"]
        if s.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert len(uploads) == 1 and all(
        "uses" not in job for name, job in jobs.items() if name != "test"
    )
    ci_triggers = ci.get("on", ci.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_call" in ci_triggers and "pull_request" in ci_triggers
    # main's commits are tested by that call, not a second time by a push run of ci.yml
    assert ci_triggers["push"] == {"branches-ignore": ["main"]}
    runs = "\n".join(s.get("run", "") for s in ci["jobs"]["test"]["steps"])
    assert "make test" in runs and "make site-fast" in runs


def test_dependabot_updates_pip_npm_and_the_actions_weekly_in_groups() -> None:
    import yaml  # mkdocs' own dependency

    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"pip", "npm", "github-actions"}
    for ecosystem, update in updates.items():
        assert update["directory"] == "/" and update["schedule"]["interval"] == "weekly", ecosystem
        assert [group["patterns"] for group in update["groups"].values()] == [["*"]], ecosystem


def _workflow(name: str) -> dict:
    import yaml  # mkdocs' own dependency

    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def _steps(workflow: dict) -> list[dict]:
    # a call has none
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_preview_workflow_is_safe_for_pull_requests_from_forks() -> None:
    # without comments
    text = re.sub(r"#.*", "", (REPO / ".github" / "workflows" / "preview.yml").read_text())
    preview = _workflow("preview.yml")
    triggers = preview.get("on", preview.get(True))  # YAML 1.1 reads a bare `on` as true
    # never pull_request_target, which runs with write access
    assert set(triggers) == {"pull_request"}, triggers
    assert "pull_request_target" not in text and "secrets." not in text
    assert preview["permissions"] == {"contents": "read"}
    assert "write" not in text.split("\njobs:")[1] and all(
        "permissions" not in job for job in preview["jobs"].values()
    )
    uses = [step["uses"].split("@")[0] for step in _steps(preview) if "uses" in step]
    # main's figure cache is read, never written: restore only, no actions/cache (which saves) or cache/save
    assert (
        "actions/cache/restore" in uses
        and "actions/cache" not in uses
        and "actions/cache/save" not in uses
    )
    assert all(
        s["with"]["persist-credentials"] is False
        for s in _steps(preview)
        if s.get("uses", "").startswith("actions/checkout@")
    )


def test_the_preview_restores_exactly_the_cache_that_pages_saves_and_reports_it() -> None:
    def cache_step(workflow: dict, action: str) -> dict:
        (step,) = [s for s in _steps(workflow) if s.get("uses", "").startswith(f"{action}@")]
        return step

    saved = cache_step(_workflow("pages.yml"), "actions/cache")["with"]
    restored = cache_step(_workflow("preview.yml"), "actions/cache/restore")["with"]
    for field in ("path", "key", "restore-keys"):
        assert restored[field] == saved[field], field
    runs = "\n".join(s.get("run", "") for s in _steps(_workflow("preview.yml")))
    assert (
        "make diff BASE=HEAD^1" in runs and 'build/diff/report.md >> "$GITHUB_STEP_SUMMARY"' in runs
    )
    assert "make site" in runs
    uploads = {
        s["with"]["name"]: s["with"]["path"]
        for s in _steps(_workflow("preview.yml"))
        if s.get("uses", "").startswith("actions/upload-artifact@")
    }
    assert (
        uploads.keys() == {"figure-changes", "site-preview"}
        and "build/diff/images/" in uploads["figure-changes"]
    )


def test_an_action_used_by_several_workflows_is_pinned_to_one_commit() -> None:
    pins: dict[str, set[str]] = {}
    for workflow in WORKFLOWS:
        for action, _ in _uses(workflow):
            repo, sha = action.split("@")
            # actions/cache/restore is actions/cache
            pins.setdefault("/".join(repo.split("/")[:2]), set()).add(sha)
    assert all(len(shas) == 1 for shas in pins.values()), {
        k: v for k, v in pins.items() if len(v) > 1
    }


def test_the_zensical_job_reports_and_never_blocks() -> None:
    """ci.yml's zensical job builds the site with Zensical too (make zensical) and puts the list of what that
    build lacks in the run's summary; it can fail neither the run nor, through pages.yml's call, a deploy."""
    ci = _workflow("ci.yml")
    job = ci["jobs"]["zensical"]
    assert job["continue-on-error"] is True and job["permissions"] == {"contents": "read"}
    assert job["env"]["GTT_PRESET"] == "fast"
    assert all("needs" not in other for other in ci["jobs"].values())  # nothing waits for it
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[:2] == ["make install", "make zensical"]
    (summary,) = [
        s
        for s in job["steps"]
        if 'build/zensical/report.md >> "$GITHUB_STEP_SUMMARY"' in s.get("run", "")
    ]
    assert summary["if"].startswith("always()")  # a crash's report reaches the summary too
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^ZENSICAL_VERSION \?= \d+\.\d+\.\d+$", makefile, re.M)  # one pinned release
    assert "bench/zensical_check.py --zensical-version $(ZENSICAL_VERSION)" in makefile
