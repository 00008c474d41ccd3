"""Celery tasks of identification: ids in, one service call, idempotent."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=600)
def deadlines_task() -> dict[str, int]:
    return services.deadlines()
