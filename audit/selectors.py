"""Reads of the access log and of a case's full record, with their rules."""

from __future__ import annotations

from django.db.models import QuerySet

from agencies.models import Membership, User
from common.errors import NotAllowed

from .models import AccessAction, AccessLog
from .services import access_log_write


def access_log_visible_to(*, user: User, log: dict | None = None) -> QuerySet[AccessLog]:
    """Platform admin: everything. An agency's manager: their agency's entries.
    Anyone else: refused. With ``log`` (the filters asked), the reading itself is
    written to the access log."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None:
        raise NotAllowed()
    qs = AccessLog.objects.select_related("agency").order_by("-pk")
    if membership.role == Membership.Role.MANAGER:
        qs = qs.filter(agency_id=membership.agency_id)
    elif membership.role != Membership.Role.ADMIN:
        raise NotAllowed()
    if log is not None:
        access_log_write(
            action=AccessAction.AUDIT_VIEW, actor=user, target_type="access_log", detail=log
        )
    return qs
