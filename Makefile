# MNR — two commands: `make demo` (run the demo) and `make test` (run the tests).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# manage.py defaults to the production settings: development commands and the
# demo name theirs (debug on, development keys; the demo adds demo mode).
# Where the demo listens: make demo PORT=8001 (HOST too, e.g. HOST=localhost).
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV  := DJANGO_SETTINGS_MODULE=config.settings_dev DJANGO_DEBUG=true
DEMO_ENV := $(DEV_ENV) MNR_DEMO_MODE=true MNR_PUBLIC_URL=http://$(HOST):$(PORT)

.PHONY: demo test install lint format lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock file changes.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed

## Run the demo: SQLite, in-process tasks, demo accounts, http://$(HOST):$(PORT)
## (http://127.0.0.1:8000 unless PORT or HOST say otherwise)
demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## Run the whole test suite (set DATABASE_URL and REDIS_URL for PostgreSQL and Redis)
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Regenerate requirements.lock from pyproject.toml (needs uv: pip install uv)
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

## Refresh the catalogues (fr to translate by hand; en = msgids), compile, check (needs gettext)
MAKEMESSAGES := $(BIN)/python manage.py makemessages --ignore=.venv --ignore=tests --ignore=benchmarks
messages: install
	$(DEV_ENV) $(MAKEMESSAGES) -l fr
	rm -f locale/en/LC_MESSAGES/django.po
	$(DEV_ENV) $(MAKEMESSAGES) -l en
	msgen locale/en/LC_MESSAGES/django.po -o locale/en/LC_MESSAGES/django.po
	sed -i '0,/#, fuzzy/{/#, fuzzy/d}; s/^"Language: \\n"/"Language: en\\n"/' locale/en/LC_MESSAGES/django.po
	$(DEV_ENV) $(BIN)/python manage.py compilemessages --ignore=.venv
	$(BIN)/python locale/check_catalogues.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
