from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from .checkpoint import CheckpointError, write_checkpoint

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def audit_checkpoint_task() -> int:
    """Pin the access log's chain head outside the database (beat, every 15
    minutes): a signed line in MNR_AUDIT_CHECKPOINT_DIR. A refusal (the log is
    behind its last checkpoint, or the file is damaged) is an alert, not a retry."""
    try:
        return write_checkpoint().seq
    except CheckpointError as exc:
        logger.error("Access log checkpoint refused: %s", exc)
        raise
