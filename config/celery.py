"""Celery application.

With REDIS_URL set, tasks go through Redis to a worker. Without it (the demo),
``task_always_eager`` runs them in-process; services enqueue with
``transaction.on_commit`` so in both cases a task starts only after the commit.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mnr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
