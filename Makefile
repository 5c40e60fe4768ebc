# ChainLift: the two everyday commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3
THREADS ?= 4
STAMP := $(VENV)/.installed
DEMO_FIRMS ?= 100
DEMO_SEED ?= 2026

.PHONY: run test lint setup chromium migrate publish-forms demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(BIN)/flask --app wsgi db upgrade

publish-forms: migrate
	$(BIN)/flask --app wsgi catalogue load forms/catalogue.yaml
	$(BIN)/flask --app wsgi rounds create R0 --number 0 --kind baseline --name "Baseline" --if-missing
	@files=$$(find forms -maxdepth 1 -type f \( -name '*.xlsx' -o -name '*.xls' -o -name '*.xml' \) | sort); \
	if [ -n "$$files" ]; then $(BIN)/flask --app wsgi forms publish $$files; fi

## make run: set up, migrate the embedded SQLite database, publish forms/, start gunicorn on http://$(HOST):$(PORT)
## and the job worker that keeps the indicators up to date
run: publish-forms
	@$(BIN)/flask --app wsgi users ensure-admin
	@$(BIN)/python -m app.cli.banner --host $(HOST) --port $(PORT)
	@# the job worker (indicators) runs beside the server and stops with it
	$(BIN)/flask --app wsgi jobs worker --workers 1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --worker-class gthread --threads $(THREADS) --bind $(HOST):$(PORT) \
	  --access-logfile - --logger-class app.gunicorn_logging.MaskingLogger wsgi:app

## make demo: set up, migrate, load the catalogue and a synthetic panel (9 chains, 3 rounds, about DEMO_FIRMS firms
## per chain, seed DEMO_SEED) into the embedded SQLite database. Run twice, the second run skips the panel.
demo: publish-forms
	$(BIN)/flask --app wsgi demo generate --chains 9 --firms $(DEMO_FIRMS) --rounds 3 --seed $(DEMO_SEED) --load --if-missing
	$(BIN)/flask --app wsgi indicators compute

## chromium: Debian's headless browser for the dashboard tests (Playwright drives it; it never downloads one)
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends chromium || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

## make test: set up, run the whole suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set
test: setup chromium
	$(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  $(BIN)/pytest --database-url "$$TEST_DATABASE_URL"; \
	else echo "TEST_DATABASE_URL is not set: skipped the PostgreSQL run"; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
