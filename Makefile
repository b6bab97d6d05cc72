# Newsroom: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# What is installed: the site's own dependencies (`make run`, `make serve`), or those plus the
# dev tools (`make test`, `make lint`, `make install`). Installing the dev tools installs the site
# too, so either order works; a changed pyproject.toml makes both stale.
SITE_STAMP := $(VENV)/.installed-site
DEV_STAMP := $(VENV)/.installed-dev
VNU_JAR := $(VENV)/vnu/node_modules/vnu-jar/build/dist/vnu.jar
# The newest Python 3.12+ this machine has (pyenv shims included).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_CONCURRENCY ?= 2

VARNISH_PORT ?= 6081
PUSHPIN_PORT ?= 7999
PUSHPIN_PUBLISH_PORT ?= 5561
PUSHPIN_DIR := /tmp/newsroom-pushpin-$(PUSHPIN_PORT)
VARNISHD := $(shell command -v varnishd 2>/dev/null || ls /usr/sbin/varnishd 2>/dev/null)

.PHONY: install install-site run test lint serve worker varnish pushpin clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Newsroom needs Python 3.12 or newer: install it and try again."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(SITE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(SITE_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(SITE_STAMP) $(DEV_STAMP)

# The Nu Html Checker, current release, for the HTML validity test (skipped without Java or npm).
$(VNU_JAR):
	-@command -v npm >/dev/null 2>&1 && npm install --silent --no-audit --no-fund \
		--prefix $(VENV)/vnu vnu-jar@26 >/dev/null 2>&1 || echo "vnu-jar not installed: HTML validity test will be skipped."

# Everything a developer needs: the site and the dev tools.
install: $(DEV_STAMP)

# Only what the site needs to run.
install-site: $(SITE_STAMP)

run: install-site
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: export DJANGO_SECRET_KEY ?= insecure-key-for-tests-only-0123456789abcdefghijklmnopqrstuvwxyz
test: export DJANGO_SECURE ?= 0
test: install $(VNU_JAR)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Python lint and format, and the templates' indentation (djhtml, 2 spaces). To fix what the
# last two report: `.venv/bin/ruff format .` and `.venv/bin/djhtml --tabwidth 2 templates`.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djhtml --check --tabwidth 2 templates

serve: install-site
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/gunicorn newsroom.wsgi --config python:newsroom.gunicorn_conf \
		--bind $(HOST):$(PORT) --workers $(WEB_CONCURRENCY) \
		--timeout 30 --graceful-timeout 10 --max-requests 100000 --max-requests-jitter 10000 \
		--limit-request-line 8190 --access-logfile -

# The task worker: sends the emails queued in the database (reply notifications and their
# confirmation; README, "Run it in production"). Beside `make run` or `make serve`, on the same
# DATABASE_URL; `DJANGO_DEBUG=1 make worker` beside `make run` prints them and reloads on code changes.
worker: install-site
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py db_worker --interval 2

# The front cache (deploy/varnish/newsroom.vcl) on $(HOST):$(VARNISH_PORT), in front of `make serve`
# on $(HOST):$(PORT); run `make serve NEWSROOM_FRONT_CACHE=varnish://$(HOST):$(VARNISH_PORT)` beside it.
varnish:
	@test -n "$(VARNISHD)" || { echo "Varnish is not installed: apt-get install varnish varnish-modules"; exit 1; }
	@mkdir -p /tmp/newsroom-varnish-$(VARNISH_PORT)
	sed -e 's/\.port = "8000";/.port = "$(PORT)";/' -e 's/\.port = "7999";/.port = "$(PUSHPIN_PORT)";/' \
		deploy/varnish/newsroom.vcl \
		> /tmp/newsroom-varnish-$(VARNISH_PORT)/newsroom.vcl
	$(VARNISHD) -F -a $(HOST):$(VARNISH_PORT) -f /tmp/newsroom-varnish-$(VARNISH_PORT)/newsroom.vcl \
		-n /tmp/newsroom-varnish-$(VARNISH_PORT)/instance -s malloc,256m -t 0

# Live updates: Pushpin on $(HOST):$(PUSHPIN_PORT) in front of `make serve` ($(HOST):$(PORT)), its
# publish API on 127.0.0.1:$(PUSHPIN_PUBLISH_PORT); run `make serve
# NEWSROOM_PUSHPIN_PUBLISH=http://127.0.0.1:$(PUSHPIN_PUBLISH_PORT)/publish/` beside it. Behind
# `make varnish`, which pipes live streams here (README, "Live coverage").
pushpin:
	@command -v pushpin >/dev/null || { echo "Pushpin is not installed: apt-get install pushpin"; exit 1; }
	@mkdir -p $(PUSHPIN_DIR)
	sed 's/127\.0\.0\.1:8000$$/127.0.0.1:$(PORT)/' deploy/pushpin/routes > $(PUSHPIN_DIR)/routes
	sed -e 's|@RUNDIR@|$(PUSHPIN_DIR)|g' -e 's|@HTTP_PORT@|$(PUSHPIN_PORT)|' \
		-e 's|@PUBLISH_PORT@|$(PUSHPIN_PUBLISH_PORT)|' -e 's|@ROUTES@|$(PUSHPIN_DIR)/routes|' \
		-e "s|@SIG_KEY@|$$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')|" \
		deploy/pushpin/pushpin.conf.in > $(PUSHPIN_DIR)/pushpin.conf
	pushpin --config $(PUSHPIN_DIR)/pushpin.conf --port $(HOST):$(PUSHPIN_PORT) --merge-output

clean:
	rm -rf $(VENV) staticfiles
