# The two commands of a fresh machine:
#   make run    set up everything and run the shop on http://127.0.0.1:8000
#   make test   lint, then run the whole test suite (starts the local stack itself)
#   make test-fast  the tests that need no store (seconds)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: setup chromium stack schema catalog run lint test test-fast bench bench-cart bench-checkout bench-orders stack-status stack-down

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(INSTALLED)

setup: $(INSTALLED)

stack: setup
	$(PY) -m commerce.stack up

schema: stack
	$(PY) manage.py migrate --noinput
	$(PY) manage.py create_indices

catalog: schema
	$(PY) manage.py seed_catalog
	$(PY) manage.py reindex

run: catalog
	$(PY) manage.py runshop

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The browser journeys drive Debian's Chromium (Playwright downloads no browser): installed once.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: setup lint chromium
	$(PY) -m pytest

# Two processes (pytest-xdist): these tests are CPU-bound (time-skipping servers and workers).
test-fast: setup
	$(PY) -m pytest tests/fast -q -n 2

# The whole bench (~10 minutes): floors and steps in one run, the journey at 1, 20 and 50 shoppers;
# writes docs/performance.md's tables and docs/performance-latency.svg. See bench/run.py.
bench: stack
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(PY) bench/run.py

bench-cart: stack
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(PY) bench/cart.py

bench-checkout: stack
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(PY) bench/checkout.py

bench-orders: stack
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(PY) bench/orders.py

stack-status: setup
	$(PY) -m commerce.stack status

stack-down: setup
	$(PY) -m commerce.stack down
