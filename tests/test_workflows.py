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
