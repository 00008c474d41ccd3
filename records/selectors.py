"""Reads of the access log, with their rules (who reads it depends on
memberships: agencies sits above audit, so the rule lives here)."""

from __future__ import annotations

from django.db.models import Case, F, QuerySet, Value, When

from agencies.models import Membership, User
from agencies.selectors import membership_of
from audit.models import AccessAction, AccessLog
from common.errors import NotAllowed


def access_log_visible_to(*, user: User) -> QuerySet[AccessLog]:
    """Platform admin: everything. An agency's manager: their agency's entries.
    Anyone else: refused. The API writes the reading itself to the access log
    once the filters asked are valid (api/views/audit.py). ``shown_target`` is
    what the reader may see of each entry's target."""
    membership = membership_of(user)
    if membership is None:
        raise NotAllowed()
    qs = AccessLog.objects.select_related("agency").order_by("-pk")
    if membership.role == Membership.Role.MANAGER:
        # A refusal names what was asked for, maybe another agency's reference:
        # its manager sees that it happened, not the reference (the platform
        # administrator does).
        qs = qs.filter(agency_id=membership.agency_id).annotate(
            shown_target=Case(
                When(action=AccessAction.REFUSAL, then=Value("")), default=F("target_id")
            )
        )
    elif membership.role == Membership.Role.ADMIN:
        qs = qs.annotate(shown_target=F("target_id"))
    else:
        raise NotAllowed()
    return qs
