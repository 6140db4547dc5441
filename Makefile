# Quick start: `make run` (the demo, in its own database) and `make test`; nothing else is needed on a fresh
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

# The demo has its own database: the first run loads it there, never into the
# default database where real records go (see README, "Starting with real data").
DEMO_DB = $(shell $(BIN)/python -c 'from msptui.paths import demo_db; print(demo_db())')

run: $(STAMP)
	@$(BIN)/msptui --db "$(DEMO_DB)" clients >/dev/null 2>&1 || $(BIN)/msptui --db "$(DEMO_DB)" demo
	$(BIN)/msptui --db "$(DEMO_DB)"

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
