# Gradients Through Time — the two commands (and a few more).
#   make serve   install everything into .venv + node_modules, regenerate figures, serve with live reload
#   make test    install everything, then run the whole test suite
# Needs: Python 3.11 (3.11.5+), Node.js 20+ with npm, git, make. Nothing else is assumed to be installed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MKDOCS := $(VENV)/bin/mkdocs
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -q
export NO_MKDOCS_2_WARNING := 1

.PHONY: install lock serve site site-fast figures figures-fast test bench clean diff notebooks

install: $(VENV)/.installed node_modules/.installed

# Python packages come only from the lock files that `make lock` writes, every one pinned with its hashes (pip
# refuses a file whose hash differs), as wheels (no package's build code runs), in four steps:
#  1. pip itself, the locked version: step 2 needs a pip (26.1+) that takes hashes from a constraints file.
#  2. torch alone, from PyTorch's CPU wheel index (PyPI's torch of that version is the CUDA build), with the
#     version and hashes of runtime.txt. A step of its own because pip asks every index it is given about every
#     package: a machine that cannot reach this index (it has the wheel on disk) would wait out pip's retries
#     for each of the ~110 packages.
#  3. everything else, runtime and test extra (torch is installed, so pip does not look for it);
#  4. this project, editable, without dependencies, built by the locked setuptools (nothing downloaded).
TORCH_INDEX := https://download.pytorch.org/whl/cpu
LOCKS := requirements/pip.txt requirements/runtime.txt requirements/test.txt
PIP_LOCKED := $(PIP_INSTALL) --require-hashes --only-binary :all:
$(VENV)/.installed: pyproject.toml $(LOCKS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_LOCKED) --no-deps -r requirements/pip.txt
	$(PIP_LOCKED) --no-deps --index-url $(TORCH_INDEX) --constraint requirements/runtime.txt torch
	$(PIP_LOCKED) -r requirements/test.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

# make lock: rewrites the lock files from pyproject.toml with uv (in the test extra), for CPython 3.11 on x86_64
# Linux: CI's and Pages' platform, and that of torch's CPU wheel. runtime.txt holds what the site needs;
# test.txt adds the test extra, with the same version of every package the two share; pip.txt is pip. uv keeps
# every pin that pyproject.toml still allows; `make lock UPGRADE=1` moves the others to their newest versions.
# The CPU torch wheel is looked for where pip on this machine is told to find wheels (PIP_FIND_LINKS) if
# anywhere, else on the torch page of PyTorch's CPU index.
LOCK_PYTHON := 3.11.2
TORCH_FIND_LINKS ?= $(or $(PIP_FIND_LINKS),$(TORCH_INDEX)/torch/)
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version $(LOCK_PYTHON) \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock' \
	$(addprefix --find-links ,$(TORCH_FIND_LINKS)) $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.txt
	$(UV_COMPILE) pyproject.toml --extra test --constraint requirements/runtime.txt -o requirements/test.txt
	echo pip | $(UV_COMPILE) - -o requirements/pip.txt

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

serve: install
	$(MKDOCS) serve

site: install
	$(MKDOCS) build --strict

site-fast: install
	GTT_PRESET=fast $(MKDOCS) build --strict

figures: install
	$(PY) -m lessons_code figures

figures-fast: install
	$(PY) -m lessons_code figures --fast

# Regenerate notebooks/*.ipynb from their templates and the lesson sections they include (then commit them).
notebooks: install
	$(PY) -m lessons_code notebooks

test: install
	$(PY) -m pytest

bench: install
	$(PY) bench/bench.py

# make zensical: builds the site with Zensical (Material for MkDocs' successor) as well, and lists what its build
# lacks next to the MkDocs build in build/zensical/report.md (bench/zensical_check.py says how). Zensical goes
# into build/zensical-venv, never into .venv or the lock files. 0.0.73 is the newest release that installs from
# the package index this project's machines use: 0.0.74 and later need zensical-ui, which that index lacks.
ZENSICAL_VERSION ?= 0.0.73
.PHONY: zensical
zensical: install
	$(PY) bench/zensical_check.py --zensical-version $(ZENSICAL_VERSION)

# make diff BASE=main [PRESET=fast]: which figures, facts and quoted sentences this checkout changes
# against BASE (a branch, tag or commit), in build/diff/report.md, with old/new images in build/diff/images.
# BASE's figures are built in a git worktree into build/diff/base/PRESET, a cache the next run reuses, with
# this checkout's environment and without GitHub annotations (BASE's failures are not this change's).
BASE ?= main
BASE_LABEL ?= $(BASE)
PRESET ?= publish
DIFF_DIR := build/diff
PRESET_FLAG = $(if $(filter fast,$(PRESET)),--fast,)
diff: install
	@case "$(PRESET)" in publish|fast) ;; *) echo "PRESET must be publish or fast, got '$(PRESET)'" >&2; exit 2;; esac
	git worktree remove --force $(DIFF_DIR)/worktree 2>/dev/null || rm -rf $(DIFF_DIR)/worktree
	git worktree prune
	git worktree add --detach $(DIFF_DIR)/worktree $(BASE)
	cd $(DIFF_DIR)/worktree && env -u GITHUB_ACTIONS PYTHONPATH=. $(CURDIR)/$(PY) -m lessons_code figures \
		$(PRESET_FLAG) --out $(CURDIR)/$(DIFF_DIR)/base/$(PRESET)
	git worktree remove --force $(DIFF_DIR)/worktree
	$(PY) -m lessons_code figures $(PRESET_FLAG) --out build/figures/$(PRESET)
	$(PY) -m lessons_code diff $(DIFF_DIR)/base/$(PRESET) build/figures/$(PRESET) --out $(DIFF_DIR)/report.md \
		--images $(DIFF_DIR)/images --base-label "$(BASE_LABEL) ($$(git rev-parse --short $(BASE)))" --head-label "this checkout"
	@echo "report: $(DIFF_DIR)/report.md"

clean:
	rm -rf build site
