"""What cases does when the apps below it say something happened:

- a routing accepted (referral.signals.routing_accepted): the referral's case is
  opened, in the acceptance's transaction;
- a person's access ended (agencies.signals.access_ended): every case shared
  with them stops being shared."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from agencies.models import User
from agencies.signals import access_ended
from referral.models import Referral, Routing
from referral.signals import routing_accepted

from .services import case_open, shares_end_for


@receiver(routing_accepted, dispatch_uid="cases.open_on_acceptance")
def _open_case(
    sender: Any, routing: Routing, referral: Referral, actor: User, now: datetime, **kwargs: Any
) -> None:
    case_open(referral=referral, association=routing.association, actor=actor, now=now)


@receiver(access_ended, dispatch_uid="cases.shares_end_with_access")
def _end_shares(sender: Any, user: User, reason: str, **kwargs: Any) -> None:
    shares_end_for(user=user)
