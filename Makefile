# Sillage: `make run` serves the demo, `make test` runs the whole suite. Both start from a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := run.py

.PHONY: run test install dev db translations browser bench clean i18n-extract screenshots

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

translations: install
	$(BIN)/pybabel compile -f -d translations -D "messages admin" 2>/dev/null

db: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask sillage init

run: db
	$(BIN)/flask sillage demo $(if $(DEMO_PASSWORD),--password "$(DEMO_PASSWORD)")
	@echo
	@echo "Sillage : http://$(HOST):$(PORT)/"
	$(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - run:app

# Debian's Chromium for the browser tests (root on CI machines; skipped elsewhere if absent).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "chromium absent : installez le paquet Debian 'chromium' pour les tests navigateur"; fi; fi

# Two processes by default when TEST_DATABASE_URL is set: one runs the SQLite tests, the other the
# PostgreSQL ones, each in the order a single process would (its session app built once); the
# PostgreSQL run's report follows the SQLite one. JOBS=1 runs everything in one process.
JOBS ?= 2
test: dev translations browser
	@if [ "$(JOBS)" != 1 ] && [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(BIN)/python -m pytest -k postgresql $(PYTEST_ARGS) > .pytest-postgresql.log 2>&1 & pg=$$!; \
	  $(BIN)/python -m pytest -k "not postgresql" $(PYTEST_ARGS); sqlite=$$?; \
	  wait $$pg; postgresql=$$?; echo "--- PostgreSQL ---"; cat .pytest-postgresql.log; rm -f .pytest-postgresql.log; \
	  exit $$(( sqlite || postgresql )); \
	else $(BIN)/python -m pytest $(PYTEST_ARGS); fi

bench: dev translations
	$(BIN)/python -m bench.pages $(BENCH_ARGS)

# The README's screenshots, from a fresh demo in Chromium (docs/captures/).
screenshots: dev translations browser
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) instance .pytest_cache

# After changing user-visible strings: refresh the catalogs, translate, commit the .po files.
# (translations/fr/LC_MESSAGES/admin.po is written by hand: Flask-Admin strings we correct.)
i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --no-location --sort-output \
	  --project Sillage -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
