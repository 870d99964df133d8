# The product's front door: `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8080
WORKERS ?= 2
export PORT WORKERS

.PHONY: install serve demo test lint typecheck unit bench clean db-upgrade identity-coverage \
	browser-deps screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

db-upgrade: install
	$(BIN)/python -m app db upgrade

serve: install
	mkdir -p var
	$(BIN)/python -m app db upgrade
	$(BIN)/gunicorn --config python:app.gunicorn_conf 'app.http:create_app()'

# The server with demo data loaded first (python -m app demo; rerunning adds nothing twice).
demo: install
	mkdir -p var
	$(BIN)/python -m app db upgrade
	$(BIN)/python -m app demo
	$(BIN)/gunicorn --config python:app.gunicorn_conf 'app.http:create_app()'

lint: install
	$(BIN)/ruff check app tests bench examples
	$(BIN)/mypy app

# The identity kinds keep 100 % line coverage from their own tests (style.md, as stdnum).
identity-coverage: install
	$(BIN)/python -m coverage run --data-file=.coverage.identity --include='app/identity/*' \
		-m pytest -q -p no:cacheprovider tests/identity app/identity
	$(BIN)/python -m coverage report --data-file=.coverage.identity --fail-under=100

# The console's browser tests (tests/console): Debian's chromium (Playwright is pointed at
# /usr/bin/chromium; never `playwright install`) and the npm packages they inject or start
# (axe-core, oidc-provider) from tests/console/node/package-lock.json.
NODE_DIR := tests/console/node
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	$(MAKE) $(NODE_DIR)/node_modules/.package-lock.json

# Screenshots of the console's main pages for the README (docs/console-*.png).
screenshots: install browser-deps
	$(BIN)/python -m tests.console.screenshots

test: lint identity-coverage $(NODE_DIR)/node_modules/.package-lock.json
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules var .pytest_cache .mypy_cache .ruff_cache
