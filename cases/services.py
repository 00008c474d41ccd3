"""Writes on cases."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from guardian.shortcuts import assign_perm

from agencies.models import Agency, User

from .models import Case

CASE_PERMISSIONS = ("cases.view_case", "cases.change_case")


@transaction.atomic
def case_open(*, referral, association: Agency, actor: User, now: datetime) -> Case:
    """Open the case of an accepted referral and give the association its grants.
    The database allows one case per referral."""
    case = Case(
        referral=referral,
        reference=referral.reference,
        association=association,
        opened_at=now,
        assigned_to=actor if _is_caseworker_of(actor, association) else None,
    )
    case._history_user = actor
    case.save()
    for permission in CASE_PERMISSIONS:
        assign_perm(permission, association.group, case)
    return case


def _is_caseworker_of(user: User, association: Agency) -> bool:
    membership = getattr(user, "membership", None)
    return membership is not None and membership.agency_id == association.pk


@transaction.atomic
def case_close(*, case: Case, actor: User, reason: str, now: datetime) -> Case:
    """Close an open case with one of the closure reasons (the case-management
    issue adds reopening and transitions checks through the API)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.status = Case.Status.CLOSED
    case.closure_reason = reason
    case.closed_at = now
    case.version += 1
    case._history_user = actor
    case.save()
    return case
