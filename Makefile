# crosswalk: `make run` starts the server, `make test` runs every check.
# Both set themselves up: a virtualenv in .venv and, for the compatibility
# tests, the official tRPC client from npm in tests/compat/node_modules.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := tests/compat/node_modules/.installed-stamp

CHROMIUM_STAMP := $(VENV)/.chromium-checked

.PHONY: run test lint typecheck pytest bench setup clean screenshots

run: $(STAMP)
	$(BIN)/cw serve

test: $(STAMP) $(NODE_STAMP) $(CHROMIUM_STAMP) lint typecheck pytest

setup: $(STAMP) $(NODE_STAMP) $(CHROMIUM_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $@

$(NODE_STAMP): tests/compat/package.json tests/compat/package-lock.json
	cd tests/compat && npm ci --no-audit --no-fund --loglevel=error
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

pytest: $(STAMP) $(NODE_STAMP) $(CHROMIUM_STAMP)
	$(BIN)/pytest

# Regenerates docs/screenshots/*.png: a real server with realistic data, in Chromium.
screenshots: $(STAMP) $(CHROMIUM_STAMP)
	$(BIN)/python -m tests.support.screenshots docs/screenshots

# Bytecode is compiled up front so the CLI timings measure cw, not the compiler
# (PYTHONDONTWRITEBYTECODE would otherwise make every run recompile).
bench: $(STAMP)
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) tests/compat/node_modules .mypy_cache .ruff_cache .pytest_cache
