"""Thin Celery tasks of retention (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .retention import apply_retention, idempotency_expire


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def apply_retention_task() -> int:
    return apply_retention()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def idempotency_expire_task() -> int:
    return idempotency_expire()
