# Everyday targets. Quick start: `make run` (set up, demo data, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run setup install test test-fast lint format messages compilemessages check-messages bench clean

run: setup
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

setup: install compilemessages
	DEBUG=1 $(PY) manage.py migrate --no-input

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'
	touch $(STAMP)

# The whole suite: unit, view, import, browser (skipped with a message if no Chromium).
test: install compilemessages
	DJANGO_SETTINGS_MODULE=config.test_settings $(PY) -m pytest

test-fast: install compilemessages
	DJANGO_SETTINGS_MODULE=config.test_settings $(PY) -m pytest -m "not browser" -x -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --ignore 'scripts/*'

compilemessages: install
	DEBUG=1 $(PY) manage.py compilemessages -v0 --ignore '.venv/*'

# Fails when a user-facing string has no Chinese translation (or a fuzzy one).
check-messages: messages
	$(PY) scripts/check_translations.py locale/zh_Hans/LC_MESSAGES/django.po

bench: install
	bash scripts/bench.sh

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 test-artifacts
