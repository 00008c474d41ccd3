"""Thin Celery tasks: ids in, one service call, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(**RETRY)
def referral_route_task(referral_id: int) -> int | None:
    routing = services.referral_route(referral_id=referral_id)
    return routing.pk if routing else None


@shared_task(**RETRY)
def routings_expire_overdue() -> int:
    return sum(services.routing_expire(routing_id=pk) for pk in services.overdue_routing_ids())


@shared_task(**RETRY)
def referrals_sweep_submitted() -> int:
    """Safety net: a referral still `submitted` after a few minutes (its task was
    never enqueued, e.g. the broker was down) is routed now."""
    routed = 0
    for pk in services.stale_submitted_ids():
        services.referral_route(referral_id=pk)
        routed += 1
    return routed
