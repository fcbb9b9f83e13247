# Inspecta — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: help install run test test-sqlite test-postgres lint bench messages system-deps

help:
	@echo "make run    install, migrate, load demo data, serve at http://127.0.0.1:$(PORT)"
	@echo "make test   install and run every test (PostgreSQL when DATABASE_URL names it)"
	@echo "make lint   ruff, mypy, Django checks, migrations check"
	@echo "make bench  benchmarks (one JSON line per figure)"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@$(UV) run python manage.py compilemessages -v0 --ignore ".venv/*" 2>/dev/null || echo "(gettext not installed: using the committed .mo files)"

# System packages the test suite needs: Chromium for browser tests, gettext, zbar, poppler,
# Go with golang.org/x/mod for the independent log verifier. Installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

run: install
	$(UV) run inspecta setup
	$(UV) run inspecta demo
	PORT=$(PORT) $(UV) run inspecta serve --port $(PORT)

test: install system-deps
	$(UV) run pytest -q -p no:cacheprovider -n auto

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy inspecta
	$(UV) run python manage.py check
	$(UV) run python manage.py makemigrations --check --dry-run

bench: install
	$(UV) run python benchmarks/run.py

messages:
	$(UV) run python manage.py makemessages -l en -l zh_Hans --ignore ".venv/*" --ignore "var/*" --no-obsolete
	$(UV) run python manage.py compilemessages --ignore ".venv/*"
