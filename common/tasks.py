"""Enqueueing Celery tasks without ever failing or hanging the caller."""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any) -> bool:
    """``task.delay(*args)``, swallowing broker errors.

    Called from ``transaction.on_commit``: the change is committed already, and
    the periodic sweeps pick up whatever could not be enqueued (the broker
    timeouts in settings bound the wait). Returns whether it was enqueued. Only
    broker errors are swallowed: with in-process tasks, a bug still surfaces.
    """
    try:
        task.delay(*args)
    except (KombuError, OSError) as exc:  # broker down, timeout, connection refused…
        logger.warning("Could not enqueue %s%r: %s", task.name, args, type(exc).__name__)
        return False
    return True
