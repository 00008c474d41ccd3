from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def outbox_deliver(message_id: int) -> bool:
    return services.outbox_deliver_one(message_id=message_id)


@shared_task(acks_late=True)
def outbox_relay() -> int:
    return services.outbox_relay()
