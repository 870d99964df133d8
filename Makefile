# The product's front door: `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8080
WORKERS ?= 2
export PORT WORKERS

.PHONY: install serve demo test lint typecheck unit bench clean db-upgrade identity-coverage

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

test: lint identity-coverage
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
