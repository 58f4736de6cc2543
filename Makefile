# crosswalk: `make run` starts the server, `make test` runs every check.
# Both set themselves up: a virtualenv in .venv; from npm, the official tRPC client
# for the compatibility tests (tests/compat/node_modules) and the pinned Claude Code
# and Codex CLIs the agent kit is checked against (tests/agents/node_modules);
# PostgreSQL server binaries for the PostgreSQL tests (scripts/install-postgres); and,
# as root, Debian's chromium for the dashboard's browser tests (scripts/install-chromium).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := tests/compat/node_modules/.installed-stamp
AGENTS_STAMP := tests/agents/node_modules/.installed-stamp
CHROMIUM_STAMP := $(VENV)/.chromium-checked

.PHONY: run test lint typecheck pytest bench setup postgres clean screenshots

run: $(STAMP)
	$(BIN)/cw serve

test: $(STAMP) $(NODE_STAMP) $(AGENTS_STAMP) $(CHROMIUM_STAMP) postgres lint typecheck pytest

setup: $(STAMP) $(NODE_STAMP) $(AGENTS_STAMP) $(CHROMIUM_STAMP) postgres

postgres: $(STAMP)
	scripts/install-postgres $(BIN)/python

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $@

$(NODE_STAMP): tests/compat/package.json tests/compat/package-lock.json
	cd tests/compat && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(AGENTS_STAMP): tests/agents/package.json tests/agents/package-lock.json
	cd tests/agents && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium for the dashboard's browser tests (skipped, with the reason, when
# it cannot be installed). Checked again whenever it is missing.
$(CHROMIUM_STAMP): scripts/install-chromium | $(STAMP)
	scripts/install-chromium
	if [ -x /usr/bin/chromium ]; then touch $@; fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(NODE_STAMP) $(AGENTS_STAMP) $(CHROMIUM_STAMP)
	$(BIN)/pytest

# Regenerates docs/screenshots/*.png: a real server with realistic data, in Chromium.
screenshots: $(STAMP) $(CHROMIUM_STAMP)
	$(BIN)/python -m tests.support.screenshots docs/screenshots

# Bytecode is compiled up front so the CLI timings measure cw, not the compiler
# (PYTHONDONTWRITEBYTECODE would otherwise make every run recompile).
bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) tests/compat/node_modules tests/agents/node_modules .mypy_cache .ruff_cache .pytest_cache
