"""GitHub workflows: zizmor and actionlint find nothing; least privilege, SHA pins, deploy from main only."""

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
    proc = subprocess.run([str(zizmor), "--offline", "--persona", "pedantic", str(REPO / ".github")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_actionlint_reports_no_findings() -> None:
    node = shutil.which("node")
    assert node, "node is required (README: Node.js 20)"
    proc = subprocess.run([node, str(REPO / "tests" / "support" / "actionlint.cjs"), *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 finding(s)" in proc.stdout


def test_actionlint_does_catch_a_broken_workflow(tmp_path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.issue.title }}\n")
    proc = subprocess.run([shutil.which("node"), str(REPO / "tests" / "support" / "actionlint.cjs"), str(bad)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1 and "potentially untrusted" in proc.stdout


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_full_sha_with_a_version_comment(workflow: Path) -> None:
    uses = re.findall(r"uses:\s*(\S+)(.*)", workflow.read_text())
    assert uses
    for action, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}", action), action
        assert re.search(r"#\s*v\d", rest), f"{action} has no version comment"


def test_permissions_are_least_privilege_and_deploys_come_from_main_only() -> None:
    for workflow in WORKFLOWS:
        top = workflow.read_text().split("\njobs:")[0]
        assert re.search(r"^permissions:\n  contents: read\b", top, re.M), workflow.name
    pages = (REPO / ".github" / "workflows" / "pages.yml").read_text()
    build, deploy = pages.split("\n  deploy:")
    assert "pages: write" not in build and "id-token: write" not in build
    assert "pages: write" in deploy and "id-token: write" in deploy
    assert "branches: [main]" in pages and "if: github.ref == 'refs/heads/main'" in deploy
    assert "concurrency:" in pages and "download.pytorch.org/whl/cpu" in pages


def _workflow(name: str) -> dict:
    import yaml  # mkdocs' own dependency

    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_preview_workflow_is_safe_for_pull_requests_from_forks() -> None:
    text = re.sub(r"#.*", "", (REPO / ".github" / "workflows" / "preview.yml").read_text())  # without comments
    preview = _workflow("preview.yml")
    triggers = preview.get("on", preview.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request"}, triggers  # never pull_request_target, which runs with write access
    assert "pull_request_target" not in text and "secrets." not in text
    assert preview["permissions"] == {"contents": "read"}
    assert "write" not in text.split("\njobs:")[1] and all("permissions" not in job for job in preview["jobs"].values())
    uses = [step["uses"].split("@")[0] for step in _steps(preview) if "uses" in step]
    # main's figure cache is read, never written: restore only, no actions/cache (which saves) or cache/save
    assert "actions/cache/restore" in uses and "actions/cache" not in uses and "actions/cache/save" not in uses
    assert all(s["with"]["persist-credentials"] is False for s in _steps(preview) if s.get("uses", "").startswith("actions/checkout@"))


def test_the_preview_restores_exactly_the_cache_that_pages_saves_and_reports_it() -> None:
    def cache_step(workflow: dict, action: str) -> dict:
        (step,) = [s for s in _steps(workflow) if s.get("uses", "").startswith(f"{action}@")]
        return step
    saved = cache_step(_workflow("pages.yml"), "actions/cache")["with"]
    restored = cache_step(_workflow("preview.yml"), "actions/cache/restore")["with"]
    for field in ("path", "key", "restore-keys"):
        assert restored[field] == saved[field], field
    runs = "\n".join(s.get("run", "") for s in _steps(_workflow("preview.yml")))
    assert "make diff BASE=HEAD^1" in runs and 'build/diff/report.md >> "$GITHUB_STEP_SUMMARY"' in runs
    assert "make site" in runs
    uploads = {s["with"]["name"]: s["with"]["path"] for s in _steps(_workflow("preview.yml"))
               if s.get("uses", "").startswith("actions/upload-artifact@")}
    assert uploads.keys() == {"figure-changes", "site-preview"} and "build/diff/images/" in uploads["figure-changes"]


def test_an_action_used_by_several_workflows_is_pinned_to_one_commit() -> None:
    pins: dict[str, set[str]] = {}
    for workflow in WORKFLOWS:
        for action, _ in re.findall(r"uses:\s*(\S+)(.*)", workflow.read_text()):
            repo, sha = action.split("@")
            pins.setdefault("/".join(repo.split("/")[:2]), set()).add(sha)  # actions/cache/restore is actions/cache
    assert all(len(shas) == 1 for shas in pins.values()), {k: v for k, v in pins.items() if len(v) > 1}
