# Gradients Through Time — the two commands (and a few more).
#   make serve   install everything into .venv + node_modules, regenerate figures, serve with live reload
#   make test    install everything, then run the whole test suite
# Needs: Python 3.11, Node.js 20 + npm, git, make. Nothing else is assumed to be installed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MKDOCS := $(VENV)/bin/mkdocs
# On GitHub Actions torch comes from the PyTorch CPU wheel index in a step of its own (see .github/).
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -q
export NO_MKDOCS_2_WARNING := 1

.PHONY: install serve site site-fast figures figures-fast test bench clean diff

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[test]'
	touch $@

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

test: install
	$(PY) -m pytest

bench: install
	$(PY) bench/bench.py

# make diff BASE=main [PRESET=fast]: which figures, facts and quoted sentences this checkout changes
# against BASE (a branch, tag or commit), in build/diff/report.md, with old/new images in build/diff/images.
# BASE's figures are built in a git worktree into build/diff/base/PRESET, a cache the next run reuses.
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
	@# BASE's own code, run with this checkout's environment; its failures are not this change's annotations.
	cd $(DIFF_DIR)/worktree && env -u GITHUB_ACTIONS PYTHONPATH=. $(CURDIR)/$(PY) -m lessons_code figures \
		$(PRESET_FLAG) --out $(CURDIR)/$(DIFF_DIR)/base/$(PRESET)
	git worktree remove --force $(DIFF_DIR)/worktree
	$(PY) -m lessons_code figures $(PRESET_FLAG) --out build/figures/$(PRESET)
	$(PY) -m lessons_code diff $(DIFF_DIR)/base/$(PRESET) build/figures/$(PRESET) --out $(DIFF_DIR)/report.md \
		--images $(DIFF_DIR)/images --base-label "$(BASE_LABEL) ($$(git rev-parse --short $(BASE)))" --head-label "this checkout"
	@echo "report: $(DIFF_DIR)/report.md"

clean:
	rm -rf build site
