"""The lock files (requirements/*.txt, written by `make lock`) agree with pyproject.toml; every package the
code imports is declared there; the licences it names exist.

Pure text: nothing here resolves or downloads. `make lock` is the only writer of the lock files, so when one
of these tests fails after an edit of pyproject.toml, the fix is to run it (see the Makefile)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO

LOCKS = REPO / "requirements"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]["name"]


@dataclass(frozen=True)
class Locked:
    version: str
    hashes: frozenset[str]
    # what uv wrote after "# via": the packages (or files) that asked for this one
    via: frozenset[str]


def read_lock(path: Path) -> dict[str, Locked]:
    """name -> Locked for a requirements file in the form uv writes. Hand-rolled rather than pip's parser,
    which is not a public API; it refuses anything that is not `name==version --hash=...` so that a
    line it does not understand fails the tests instead of being skipped."""
    entries: dict[str, Locked] = {}
    text = path.read_text()
    for block in re.split(r"\n(?=\S)", text.strip()):
        if block.startswith("#"):
            continue  # the header
        body, _, comments = block.partition("\n    #")
        requirement, *options = body.replace("\\\n", " ").split()
        name, sep, version = requirement.partition("==")
        assert sep and re.fullmatch(r"[A-Za-z0-9._-]+", name), (
            f"{path.name}: not a pin: {requirement}"
        )
        hashes = {o.removeprefix("--hash=sha256:") for o in options}
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes) and len(hashes) == len(
            options
        ), f"{path.name}: {name} has options other than sha256 hashes: {options}"
        via = {
            re.sub(r"^(via)?\s*", "", line.strip().lstrip("#").strip())
            for line in ("#" + comments).splitlines()
        }
        entries[canonicalize_name(name)] = Locked(
            version, frozenset(hashes), frozenset(via - {"", "via"})
        )
    return entries


def declared(extra: str | None = None) -> dict[str, Requirement]:
    deps = (
        PYPROJECT["project"]["dependencies"]
        if extra is None
        else PYPROJECT["project"]["optional-dependencies"][extra]
    )
    return {canonicalize_name(r.name): r for r in map(Requirement, deps)}


def disagreements(wanted: dict[str, Requirement], lock: dict[str, Locked]) -> list[str]:
    """Why the lock is not the resolution of exactly `wanted`: a declared package missing, locked at another
    version than the exact pin, or a package the lock still lists as asked for by the project."""
    problems = []
    for name, requirement in wanted.items():
        if name not in lock:
            problems.append(f"{name}: in pyproject.toml, not in the lock")
            continue
        # every direct dependency is an exact pin (see pyproject.toml)
        (spec,) = requirement.specifier
        locked = Version(lock[name].version)
        # torch==2.13.0 is locked as 2.13.0+cpu: the same release, the CPU build of it
        if (
            spec.operator != "=="
            or Version(spec.version) != Version(locked.public)
            or locked not in SpecifierSet(str(spec))
        ):
            problems.append(
                f"{name}: pyproject.toml says {spec}, the lock has {lock[name].version}"
            )
    for name, entry in lock.items():
        if f"{PROJECT} (pyproject.toml)" in entry.via and name not in wanted:
            problems.append(
                f"{name}: the lock has it as the project's own dependency, pyproject.toml does not"
            )
    return problems


RUNTIME = read_lock(LOCKS / "runtime.txt")
TEST = read_lock(LOCKS / "test.txt")


def test_every_entry_is_an_exact_pin_with_sha256_hashes() -> None:
    for path in sorted(LOCKS.glob("*.txt")):
        lock = read_lock(path)
        assert lock, path.name
        for name, entry in lock.items():
            assert entry.hashes, f"{path.name}: {name} has no hash"
            Version(entry.version)  # a version, not a range or a URL


def test_the_runtime_lock_is_the_resolution_of_the_dependencies_in_pyproject() -> None:
    assert disagreements(declared(), RUNTIME) == []


def test_the_test_lock_adds_the_test_extra() -> None:
    assert disagreements(declared() | declared("test"), TEST) == []
    # what only the tests need stays out of the site's lock
    assert "pytest" in TEST and "pytest" not in RUNTIME


def test_the_two_locks_share_versions_and_hashes() -> None:
    """test.txt is resolved with runtime.txt as constraints: what the site needs is identical in both."""
    for name, entry in RUNTIME.items():
        assert name in TEST, name
        assert (TEST[name].version, TEST[name].hashes) == (entry.version, entry.hashes), name


def test_a_pin_that_differs_from_the_lock_is_found() -> None:
    """The comparison above can fail: a bumped pin, a dropped dependency and a new one are each reported."""
    wanted = declared()
    bumped = dict(wanted, numpy=Requirement("numpy==2.4.7"))
    assert disagreements(bumped, RUNTIME) == [
        "numpy: pyproject.toml says ==2.4.7, the lock has 2.4.6"
    ]
    without = {name: r for name, r in wanted.items() if name != "nbformat"}
    assert disagreements(without, RUNTIME) == [
        "nbformat: the lock has it as the project's own dependency, pyproject.toml does not"
    ]
    added = dict(wanted, rich=Requirement("rich==14.0.0"))
    assert disagreements(added, RUNTIME) == ["rich: in pyproject.toml, not in the lock"]


def test_torch_is_the_cpu_build_and_no_cuda_package_is_locked() -> None:
    assert Version(RUNTIME["torch"].version).local == "cpu", RUNTIME["torch"].version
    cuda = [name for name in TEST if name.startswith(("nvidia-", "triton", "cuda-"))]
    assert not cuda, f"the CUDA build of torch was locked: {cuda}"


def test_the_build_backend_and_pip_are_locked() -> None:
    """`make install` builds this project with --no-build-isolation, i.e. with the locked setuptools, and
    installs torch with its hashes taken from a constraints file, which needs pip 26.1 or newer."""
    for requirement in map(Requirement, PYPROJECT["build-system"]["requires"]):
        name = canonicalize_name(requirement.name)
        assert name in RUNTIME and requirement.specifier.contains(RUNTIME[name].version), (
            requirement
        )
    pip = read_lock(LOCKS / "pip.txt")
    assert set(pip) == {"pip"} and Version(pip["pip"].version) >= Version("26.1"), pip


def test_the_makefile_installs_only_from_the_locks_for_the_python_pyproject_allows() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("$(VENV)/.installed: ")[1].split("\n\n")[0]
    assert "$(PIP_LOCKED) --no-deps -r requirements/pip.txt" in recipe
    assert "--index-url $(TORCH_INDEX) --constraint requirements/runtime.txt torch" in recipe
    assert "$(PIP_LOCKED) -r requirements/test.txt" in recipe
    assert "PIP_LOCKED := $(PIP_INSTALL) --require-hashes --only-binary :all:" in makefile
    assert "--no-deps --no-build-isolation -e ." in recipe
    lock_python = re.search(r"^LOCK_PYTHON := (\S+)$", makefile, re.M)[1]
    # the lock is resolved for the oldest Python that pyproject.toml allows
    lowest = [
        s.version
        for s in SpecifierSet(PYPROJECT["project"]["requires-python"])
        if s.operator == ">="
    ]
    assert lowest == [lock_python], (lowest, lock_python)


# Imports: each third-party module the code imports comes from a package that pyproject.toml names itself,
# not one that only arrives as someone else's dependency. Site code (lessons, hooks, notebooks) may use only
# the runtime dependencies; tests and bench/ may use the test extra too.
SITE_CODE = ["lessons_code", "hooks", "notebooks"]
DEV_CODE = ["tests", "bench"]
# hooks/print_pdf.py imports playwright only to print the PDF, and says so and skips the PDF when it is absent.
OPTIONAL_IN_SITE_CODE = {"playwright"}


def imported_modules(folders: list[str]) -> dict[str, str]:
    """top-level module name -> a file that imports it, for every absolute import in the folders."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def is_local(module: str) -> bool:
    return any(
        (REPO / folder / module).exists() or (REPO / folder / f"{module}.py").exists()
        for folder in ["", "tests", "bench", "hooks"]
    )


@pytest.mark.parametrize(
    "folders,allowed", [(SITE_CODE, "runtime"), (DEV_CODE, "runtime and test")]
)
def test_every_imported_package_is_declared(folders: list[str], allowed: str) -> None:
    names = set(declared()) | (set(declared("test")) if allowed != "runtime" else set())
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, where in imported_modules(folders).items():
        if module in sys.stdlib_module_names or module == "__future__" or is_local(module):
            continue
        if allowed == "runtime" and module in OPTIONAL_IN_SITE_CODE:
            continue
        providers = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not providers & names:
            missing.append(
                f"{module} (imported in {where}) comes from {sorted(providers) or 'no installed package'}"
            )
    assert not missing, (
        f"not declared among the {allowed} dependencies of pyproject.toml: {missing}"
    )


def test_the_licences_pyproject_names_exist_and_say_what_they_cover() -> None:
    assert PYPROJECT["project"]["license"] == "MIT AND CC-BY-4.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE", "LICENSE-docs"]
    mit = (REPO / "LICENSE").read_text()
    assert mit.startswith("MIT License\n\nCopyright (c) 2026 The Gradients Through Time authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in mit
    cc = (REPO / "LICENSE-docs").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in cc
    # the whole legal code, not a summary: its eight sections, in order
    sections = re.findall(r"^Section (\d) -- ", cc, re.M)
    assert sections == [str(n) for n in range(1, 9)], sections
    readme = (REPO / "README.md").read_text()
    licence = readme.split("\n## Licence\n")[1]
    assert "[LICENSE](LICENSE)" in licence and "[LICENSE-docs](LICENSE-docs)" in licence
