"""When a person's access ends (agencies.signals.access_ended), every case
shared with them stops being shared."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from agencies.models import User
from agencies.signals import access_ended

from .services import shares_end_for


@receiver(access_ended, dispatch_uid="cases.shares_end_with_access")
def _end_shares(sender: Any, user: User, reason: str, **kwargs: Any) -> None:
    shares_end_for(user=user)
