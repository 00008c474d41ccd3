"""Development settings, chosen explicitly (DJANGO_SETTINGS_MODULE=config.settings_dev,
as `make demo` and `make messages` do): debug on unless DJANGO_DEBUG says
otherwise (keys then derive from a dev secret). `manage.py`, servers (wsgi,
asgi, Celery), the Dockerfile and docker-compose.yml default to config.settings,
where debug is off; `check --deploy` refuses debug and demo mode (agencies/checks.py)."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from .settings import *  # noqa: F403
