"""Development defaults for `manage.py` run without DJANGO_SETTINGS_MODULE:
debug on unless DJANGO_DEBUG says otherwise (keys then derive from a dev secret).
Servers (wsgi, asgi, Celery), the Dockerfile and docker-compose.yml use
config.settings, where debug is off by default."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from .settings import *  # noqa: F403
