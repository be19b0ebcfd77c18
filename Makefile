# The census enumeration system. A newcomer needs two commands: `make demo` and `make test`.
SHELL := /bin/bash
# The distribution's Python 3.11 where there is one (with its venv module): Debian builds it with profile-guided
# and link-time optimisation, and the load scenario sustained 116-118 submissions/s on it against 100-110 on a
# default source build of the same version (pyenv's, first on PATH here) in alternating runs (bench/load_once.sh).
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip, venv' 2>/dev/null && echo /usr/bin/python3.11 || command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint bench venv browser nginx pgbouncer messages vendor clean

venv: $(INSTALLED)

# The runtime (requirements.txt, all the production image installs) and, on top, the development file: tests,
# linters, benchmarks and the embedded PostgreSQL and Redis that `make demo` and `make test` start on a machine
# without them.
$(INSTALLED): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (Django 5.2 LTS)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Debian's Chromium drives the browser tests (`npx playwright install` cannot download browsers here), with a
# Chinese font so that screenshots show characters; Pango is what WeasyPrint lays the summary tables' PDF out with.
BROWSER_PACKAGES := chromium fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wqy || \
	    ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; then \
	  echo "installing Debian's $(BROWSER_PACKAGES) for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null || \
	  ($$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null); \
	fi

# Debian's nginx for the reverse-proxy test (tests/security/test_proxy.py runs the shipped configuration): the
# package is unpacked under .data/nginx, not installed, so that no nginx service starts on the machine.
NGINX := .data/nginx/usr/sbin/nginx
nginx: $(NGINX)
$(NGINX):
	@echo "unpacking Debian's nginx under .data/nginx for the reverse-proxy test"
	@mkdir -p .data/nginx-download && cd .data/nginx-download && rm -f nginx_*.deb && \
	  (apt-get download nginx >/dev/null 2>&1 || \
	   ($$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -q >/dev/null && apt-get download nginx >/dev/null 2>&1))
	dpkg-deb -x .data/nginx-download/nginx_*.deb .data/nginx
	rm -rf .data/nginx-download
	$(NGINX) -v

# Debian's PgBouncer (and the c-ares library it needs) for the replicated-topology test
# (tests/census/test_replica_topology.py, census/topology.py): unpacked under .data/pgbouncer like nginx, no service.
PGBOUNCER := .data/pgbouncer/usr/sbin/pgbouncer
pgbouncer: $(PGBOUNCER)
$(PGBOUNCER):
	@echo "unpacking Debian's pgbouncer under .data/pgbouncer for the replicated-topology test"
	@mkdir -p .data/pgbouncer-download && cd .data/pgbouncer-download && rm -f *.deb && \
	  (apt-get download pgbouncer libc-ares2 >/dev/null 2>&1 || \
	   ($$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -q >/dev/null && apt-get download pgbouncer libc-ares2 >/dev/null 2>&1))
	for deb in .data/pgbouncer-download/*.deb; do dpkg-deb -x "$$deb" .data/pgbouncer; done
	rm -rf .data/pgbouncer-download
	LD_LIBRARY_PATH=.data/pgbouncer/usr/lib/x86_64-linux-gnu $(PGBOUNCER) --version | head -1

## demo: the whole system with a synthetic district (web + Celery worker + beat); Ctrl-C stops it.
demo: venv
	DEBUG=$${DEBUG:-False} SECURE_COOKIES=$${SECURE_COOKIES:-False} ALLOWED_HOSTS=$${ALLOWED_HOSTS:-*} \
	SECRET_KEY=$${SECRET_KEY:-$$($(BIN)/python -m census.demo_secret)} \
	SIGNATURE_LEDGER_KEY=$${SIGNATURE_LEDGER_KEY:-$$($(BIN)/python -m census.demo_secret signature-ledger-key)} \
	CENSUS_PSEUDONYM_KEY=$${CENSUS_PSEUDONYM_KEY:-$$($(BIN)/python -m census.demo_secret pseudonym-key)} \
	$(BIN)/python manage.py demo

## test: the whole suite against real PostgreSQL and Redis (the machine's if DATABASE_URL/REDIS_URL are set).
# Two processes (pytest-xdist), one per core of the machines CI runs on: the suite (2,000+ tests, a third of its
# time in Chromium) took 22 minutes in one. Each process has its own test database and Redis database; "worksteal"
# lets an idle process take queued tests from the busy one near the end.
TEST_WORKERS ?= 2
test: venv browser nginx pgbouncer
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=20

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DEBUG=True $(BIN)/python manage.py makemigrations --check --dry-run
	# docker-compose.yml against the compose specification (check-jsonschema's vendored copy: no network, no
	# Docker engine); nothing here builds an image it could not run.
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

## bench: every benchmark in bench/, one table (target, measured, command).
bench: venv
	$(BIN)/python bench/run.py

messages: venv
	DEBUG=True $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=node_modules --ignore=tests --ignore=bench --ignore=tools
	$(BIN)/python tools/po.py compile

vendor:
	cd static/vendor && npm install --no-save --no-package-lock && \
	cp node_modules/htmx.org/dist/htmx.min.js htmx/ && cp node_modules/echarts/dist/echarts.min.js echarts/ && \
	cp node_modules/signature_pad/dist/signature_pad.umd.min.js* signature_pad/ && \
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE axe-core/ && \
	cp node_modules/workbox-sw/build/workbox-sw.js* node_modules/workbox-sw/LICENSE workbox/ && \
	for m in core routing strategies expiration cacheable-response; do \
	  cp node_modules/workbox-$$m/build/workbox-$$m.prod.js* workbox/; done && rm -rf node_modules

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
