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

.PHONY: install serve site site-fast figures figures-fast test bench clean

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

clean:
	rm -rf build site
