# Two commands set everything up on a fresh Debian machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export FLASK_APP := portal:create_app

.PHONY: run test demo bench lint typecheck translations messages migrate venv dev-venv system-run-deps system-test-deps clean

$(VENV)/.runtime: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

# Compiled catalogues are build output; the .po files are the source.
translations: $(VENV)/.runtime
	$(VENV)/bin/pybabel compile -d portal/translations 2>&1 | { grep -v "^compiling" || true; }; test $${PIPESTATUS[0]} -eq 0

# After changing user-facing text: update the catalogue, then translate the new English entries.
messages: $(VENV)/.runtime
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o portal/translations/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i portal/translations/messages.pot -d portal/translations -l en

migrate: venv translations
	$(VENV)/bin/flask portal migrate

# System libraries the portal itself uses: Pango and a font for the plan's PDF (WeasyPrint).
system-run-deps:
	@if ! ldconfig -p | grep -q libpangoft2-1.0 || ! fc-list 2>/dev/null | grep -qi dejavu; then \
	  echo "Installing: libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core >/dev/null; \
	fi

run: system-run-deps migrate
	PORTAL_MAIL_BACKEND=$${PORTAL_MAIL_BACKEND:-outbox} $(PY) -m portal --host 127.0.0.1 --port 5000

demo: migrate
	$(VENV)/bin/flask portal seed-demo

# System packages the tests use: real browser, PostgreSQL and Redis servers.
system-test-deps:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium fonts-dejavu-core"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: dev-venv
	$(VENV)/bin/ruff check portal config tests bench migrations
	$(VENV)/bin/ruff format --check portal config tests bench migrations

typecheck: dev-venv
	$(VENV)/bin/mypy portal config bench

test: system-run-deps system-test-deps dev-venv translations lint typecheck
	PORTAL_TEST_DATABASE=sqlite $(PY) -m pytest -q
	PORTAL_TEST_DATABASE=postgresql $(PY) -m pytest -q

bench: system-run-deps system-test-deps dev-venv translations
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache test-output
