# tdcflow — developer tasks.  `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PORT ?= 8000
PGDIR := var/pg-test
PYTEST_ARGS ?=

LOCK := requirements.lock
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin
NODE_STAMP := node_modules/.installed
# Debian's chromium drives the browser tests (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium
# Debian's SoftHSM: the PKCS#11 module (a software token) of the PKCS#11 signing tests.
SOFTHSM_MODULE ?= /usr/lib/softhsm/libsofthsm2.so

.PHONY: help install lock run lint test test-fast test-browser browser debian-packages messages bench bench-http bench-pdf bench-scale bench-metrology bench-storage clean

help:
	@echo "make install    create $(VENV) and install tdcflow with its test extras (pinned by $(LOCK))"
	@echo "make run        load the demo data and serve on 127.0.0.1:\$$PORT (now $(PORT))"
	@echo "make lint       ruff + import-linter + alembic check (models and migrations agree)"
	@echo "make test       lint, then the whole suite (SQLite and a throw-away PostgreSQL in $(PGDIR))"
	@echo "make test-fast  the SQLite-only tests, no PostgreSQL, no browser"
	@echo "make test-browser  the page tests in Debian's chromium only"
	@echo "make debian-packages  the Debian packages besides Python's (fonts, poppler-utils, NSS tools, SoftHSM)"
	@echo "make messages   refresh the English message catalogue (api/locale)"
	@echo "make bench      engine benchmark"
	@echo "make bench-http over HTTP: a real tdcflow serve, 1 and 4 keep-alive API clients"
	@echo "make bench-scale  queries and pages over 1,000,000 dossiers (SCALE_ARGS='--dossiers 100000 --database-url URL')"
	@echo "make bench-metrology  the metrology database at 100,000 instruments (METROLOGY_ARGS='--database-url URL')"
	@echo "make bench-pdf  PDF copy: rendering time per document kind"
	@echo "make bench-storage  bytes of database per finished declaration; a 300-step loop vs a 5-step one"
	@echo "make lock       rewrite $(LOCK) from what $(VENV) holds"
	@echo "make clean      stop/remove $(PGDIR) and remove caches"
	@echo "Extra pytest arguments: PYTEST_ARGS='-k something -x'"

install: debian-packages $(STAMP) $(NODE_STAMP)

# Front-end libraries (bpmn-js, swagger-ui-dist) from npm, pinned by package-lock.json, into the ignored
# node_modules/. No package's install script runs (swagger-ui-dist's @scarf/scarf would report the install).
$(NODE_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	    if [ "$$(id -u)" -eq 0 ]; then \
	        echo "installing Debian's nodejs and npm"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm </dev/null; \
	    else echo "error: npm is required (apt-get install npm)" >&2; exit 1; fi; \
	fi
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# The browser for the page tests: Debian's chromium, installed when missing.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	    if [ "$$(id -u)" -eq 0 ]; then \
	        echo "installing Debian's chromium"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-noto-core </dev/null; \
	    else echo "error: $(CHROMIUM) is missing (apt-get install chromium chromium-driver)" >&2; exit 1; fi; \
	fi

# Debian's packages besides Python's: the fonts of the PDF copies (fonts-liberation2, Times New
# Roman's metrics with every Vietnamese letter), pdfsig and pdftotext (poppler-utils) and certutil
# (libnss3-tools) that check signed PDFs a second way, and the PKCS#11 signing tests' software
# token (softhsm2). One apt-get for whatever is missing; nothing when all are there.
debian-packages:
	@missing=""; \
	[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || missing="$$missing fonts-liberation2"; \
	command -v pdfsig >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v certutil >/dev/null 2>&1 || missing="$$missing libnss3-tools"; \
	[ -f $(SOFTHSM_MODULE) ] && command -v softhsm2-util >/dev/null 2>&1 || missing="$$missing softhsm2"; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" -eq 0 ]; then \
	        echo "installing Debian's$$missing"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing </dev/null; \
	    else echo "error: missing Debian packages:$$missing (apt-get install$$missing)" >&2; exit 1; fi; \
	fi

# Rebuilt when pyproject.toml or requirements.lock changes; the lock only constrains versions.
$(STAMP): pyproject.toml $(wildcard $(LOCK))
	@if [ ! -x $(BIN)/python ]; then \
	    echo "creating $(VENV) with $(PYTHON)"; \
	    $(PYTHON) -m venv $(VENV) || { \
	        rm -rf $(VENV); \
	        echo "error: '$(PYTHON) -m venv' failed (Debian: apt-get install python3-venv)" >&2; \
	        exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if [ -f $(LOCK) ]; then \
	    echo "$(BIN)/pip install -c $(LOCK) -e '.[test]'"; \
	    $(BIN)/pip install --quiet -c $(LOCK) -e '.[test]'; \
	else \
	    echo "$(BIN)/pip install -e '.[test]'  ($(LOCK) missing: versions not pinned)"; \
	    $(BIN)/pip install --quiet -e '.[test]'; \
	fi
	@touch $@

lock: install
	$(BIN)/pip freeze --exclude-editable \
	    | grep -viE '^(#|-e |tdcflow([ =@]|$$)|pip==|setuptools==|wheel==)' > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	@touch $(STAMP)

# Issued documents are signed with a DEMO certificate (var/demo-pki) unless TDCFLOW_SIGNING_P12 is set.
run: install
	@if [ -z "$${TDCFLOW_SIGNING_P12:-}" ]; then \
	    exports=$$($(BIN)/tdcflow signing demo-pki var/demo-pki); eval "$$exports"; fi; \
	echo "TDCFLOW_DEMO_MODE=1 $(BIN)/tdcflow demo"; \
	TDCFLOW_BASE_URL="$${TDCFLOW_BASE_URL:-http://127.0.0.1:$(PORT)}" TDCFLOW_DEMO_MODE=1 $(BIN)/tdcflow demo; \
	echo "TDCFLOW_DEMO_MODE=1 $(BIN)/tdcflow serve --host 127.0.0.1 --port $(PORT)"; \
	TDCFLOW_DEMO_MODE=1 $(BIN)/tdcflow serve --host 127.0.0.1 --port $(PORT)

# alembic check: the models and the migrations make the same schema (a table changed without a
# migration fails here), on a throw-away SQLite database migrated to the head first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export TDCFLOW_DATABASE_URL="sqlite:///$$tmp/check.sqlite3" TDCFLOW_DATA_DIR="$$tmp"; \
	echo "$(BIN)/alembic upgrade head && $(BIN)/alembic check  (on a throw-away SQLite database)"; \
	$(BIN)/alembic -c alembic.ini upgrade head 2>"$$tmp/upgrade.log" || { cat "$$tmp/upgrade.log" >&2; exit 1; }; \
	$(BIN)/alembic -c alembic.ini check 2>"$$tmp/check.log" || { cat "$$tmp/check.log" >&2; exit 1; }

# Start the throw-away PostgreSQL, run pytest against it, and always stop it again; exit with pytest's status.
test: install lint browser
	@trap 'bash scripts/pg.sh stop $(PGDIR)' EXIT; \
	trap 'exit 130' INT TERM; \
	bash scripts/pg.sh start $(PGDIR) >/dev/null; \
	export TDCFLOW_TEST_PG_URL="$$(cat $(PGDIR)/url)"; \
	echo "TDCFLOW_TEST_PG_URL=$$TDCFLOW_TEST_PG_URL $(BIN)/pytest -n 2 -q $(PYTEST_ARGS)"; \
	$(BIN)/pytest -n 2 -q $(PYTEST_ARGS)

test-fast: install
	env -u TDCFLOW_TEST_PG_URL $(BIN)/pytest -n 2 -q -m 'not postgres and not browser' $(PYTEST_ARGS)

test-browser: install browser
	env -u TDCFLOW_TEST_PG_URL $(BIN)/pytest -q -m browser $(PYTEST_ARGS)

# Refresh the message catalogue after changing texts in templates or page code.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -o api/locale/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i api/locale/messages.pot -d api/locale -l en --no-fuzzy-matching -w 100

bench: install
	$(BIN)/python bench/engine.py

bench-http: install
	$(BIN)/python bench/over_http.py

# Generates the data in bulk first (a few minutes at a million dossiers on SQLite).
SCALE_ARGS ?=
bench-scale: install
	$(BIN)/python bench/scale.py $(SCALE_ARGS)

bench-metrology: install
	$(BIN)/python bench/metrology_scale.py $(METROLOGY_ARGS)

bench-pdf: install
	$(BIN)/python bench/documents.py

bench-storage: install
	$(BIN)/python bench/storage.py
	$(BIN)/python bench/long_instance.py

clean:
	bash scripts/pg.sh stop $(PGDIR)
	rm -rf .pytest_cache .ruff_cache .hypothesis .import_linter_cache build test-artifacts *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
