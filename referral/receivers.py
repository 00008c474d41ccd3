"""When a person's access ends (agencies.signals.access_ended), the grants they
held on referrals on their own (as an author) end with it, logged."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from agencies.models import User
from agencies.signals import access_ended
from audit.models import AccessAction
from audit.services import access_log_write

from . import grants


@receiver(access_ended, dispatch_uid="referral.grants_end_with_access")
def _end_grants(sender: Any, user: User, reason: str, **kwargs: Any) -> None:
    ended = grants.end_user_grants(user=user)
    if ended:
        access_log_write(
            action=AccessAction.GRANTS_ENDED,
            actor=None,
            target_type="user",
            target_id=user.pk,
            detail={"reason": reason, "referral_grants": ended},
        )
