# Quick start: `make run` and `make test`; nothing else is needed on a fresh
# Debian/Ubuntu machine with Python >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench clean system-deps

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "msptui needs Python >= 3.11 (found %s)" % sys.version.split()[0])'
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"; exit 1; }

# WeasyPrint needs Pango; poppler-utils gives pdftotext for PDF tests. Installed
# with apt-get when missing and we are root, otherwise a clear message.
system-deps:
	@./scripts/system-deps.sh

$(STAMP): pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory system-deps
	$(BIN)/pip install -q --disable-pip-version-check -e .
	@touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

run: $(STAMP)
	@$(BIN)/msptui clients >/dev/null 2>&1 || $(BIN)/msptui demo
	$(BIN)/msptui

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
