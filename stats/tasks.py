"""Thin Celery tasks of the statistics."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services

# Both jobs scan every referral: long, retried on a lost database connection.
LONG_JOB = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
    "time_limit": 3600,
    "soft_time_limit": 3500,
}


@shared_task(**LONG_JOB)
def facts_repair_task() -> int:
    return len(services.facts_repair())


@shared_task(**LONG_JOB)
def publish_task() -> int:
    return services.stats_publish().referrals
