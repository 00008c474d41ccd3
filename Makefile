# MNR — two commands: `make demo` (run the demo) and `make test` (run the tests).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_ENV := DJANGO_DEBUG=true MNR_DEMO_MODE=true

.PHONY: demo test install lint format lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock file changes.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed

## Run the demo: SQLite, in-process tasks, demo accounts, http://127.0.0.1:8000
demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

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
	uv pip compile pyproject.toml --extra dev --extra dp --python-version 3.11 --generate-hashes -o requirements.lock

## Refresh and compile the French and English catalogues (needs gettext)
messages: install
	$(BIN)/python manage.py makemessages -l fr -l en --ignore=.venv --ignore=tests --ignore=benchmarks
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
