"""Reads of the access log and of a case's full record, with their rules."""

from __future__ import annotations

from django.db.models import QuerySet

from agencies.models import Membership, User
from common.errors import NotAllowed

from .models import AccessLog


def access_log_visible_to(*, user: User) -> QuerySet[AccessLog]:
    """Platform admin: everything. An agency's manager: their agency's entries.
    Anyone else: refused."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None:
        raise NotAllowed()
    qs = AccessLog.objects.select_related("agency").order_by("-pk")
    if membership.role == Membership.Role.ADMIN:
        return qs
    if membership.role == Membership.Role.MANAGER:
        return qs.filter(agency_id=membership.agency_id)
    raise NotAllowed()
