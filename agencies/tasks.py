from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .signin import signin_lockouts_purge


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def signin_lockouts_purge_task() -> int:
    """Delete the sign-in counters whose window and lock have run out."""
    return signin_lockouts_purge()
