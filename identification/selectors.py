"""Reads with rules on identification files (docs/identification.md).

- The unit's decision-makers read the files granted to them (identification
  .grants) while they are to be decided: the referral's facts, its indicators
  and the evidence file, never the case's notes nor the person's identity.
- The association supporting the person reads the file of its case (or of
  the referral routed to it): status, deadlines, evidence, every decision with
  its reasons, the reconsiderations.
- The referrer reads the stage and the status only.
- The coordination desk reads the files whose deadline was missed (no facts).
Anything else is "not found", logged alike whether the file exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership, User
from agencies.selectors import membership_of
from audit.models import AccessAction
from audit.services import access_log_write
from cases import grants as case_grants
from cases.models import Case
from common.errors import NotAllowed, NotFound
from referral import grants as referral_grants

from . import grants
from .models import FINAL, NEGATIVE, PENDING, EvidenceSection, Identification, Status

VIEWER_UNIT = "unit"
VIEWER_ASSOCIATION = "association"
VIEWER_REFERRER = "referrer"
VIEWER_DESK = "desk"


def _queue_order(qs: QuerySet[Identification]) -> QuerySet[Identification]:
    """Danger first, then minors, then the oldest deadline."""
    return qs.order_by("-immediate_danger", "-minor", "decide_by", "opened_at", "pk")


def identification_list_for(*, user: User) -> QuerySet[Identification]:
    """The unit's files (decision-makers), or the overdue ones (coordination
    desk); nobody else lists files."""
    if not user.is_authenticated:
        return Identification.objects.none()
    membership = membership_of(user)
    base = Identification.objects.select_related("referral", "unit")
    if membership is not None and membership.role == Membership.Role.COORDINATOR:
        return _queue_order(base.filter(escalated_at__isnull=False, status__in=list(PENDING)))
    return _queue_order(base.filter(grants.held_q(user, grants.VIEW)))


def _relation(user: User, identification: Identification) -> str | None:
    if grants.holds(user, grants.VIEW, identification.pk):
        return VIEWER_UNIT
    case_id = (
        Case.objects.filter(referral_id=identification.referral_id)
        .values_list("pk", flat=True)
        .first()
    )
    if case_id is not None and case_grants.holds(user, case_grants.VIEW, case_id):
        return VIEWER_ASSOCIATION
    if referral_grants.holds(user, referral_grants.RESPOND, identification.referral_id):
        return VIEWER_ASSOCIATION
    if identification.referral.referring_user_id == user.pk and referral_grants.holds(
        user, referral_grants.VIEW, identification.referral_id
    ):
        return VIEWER_REFERRER
    membership = membership_of(user)
    if (
        membership is not None
        and membership.role == Membership.Role.COORDINATOR
        and identification.escalated_at is not None
        and identification.status in PENDING
    ):
        return VIEWER_DESK
    return None


def identification_get_for_user(
    *, user: User, reference: str, log: str | None = AccessAction.IDENTIFICATION_VIEW
) -> tuple[Identification, str]:
    """The file of referral ``reference`` and how the user sees it, or NotFound
    (missing or not theirs: the same entry in the access log either way).
    ``log`` names the access-log action of this read (None: a read-back)."""
    identification = (
        Identification.objects.select_related(
            "referral__person", "referral__exploitation_departement", "unit"
        )
        .filter(referral__reference=reference)
        .first()
    )
    relation = (
        _relation(user, identification)
        if identification is not None and user.is_authenticated
        else None
    )
    if relation is None:
        access_log_write(
            action=AccessAction.REFUSAL,
            actor=user,
            target_type="identification",
            target_id=reference,
        )
        raise NotFound()
    if log:
        access_log_write(action=log, actor=user, target_type="identification", target_id=reference)
    return identification, relation


def identification_of_referral(
    *, user: User, referral_id: int, log: str | None = AccessAction.IDENTIFICATION_VIEW
) -> tuple[Identification, str] | None:
    """The file of a referral the user already reads on another page (its case
    page, its author's page) and how they see it; None when the referral has no
    file, or when this reader does not read it there. Whether a file exists is no
    secret to someone who reads the referral, so None writes no refusal; a read
    is logged as in ``identification_get_for_user``."""
    identification = (
        Identification.objects.select_related("referral", "unit")
        .filter(referral_id=referral_id)
        .first()
    )
    if identification is None or not user.is_authenticated:
        return None
    relation = _relation(user, identification)
    if relation is None:
        return None
    if log:
        access_log_write(
            action=log,
            actor=user,
            target_type="identification",
            target_id=identification.referral.reference,
        )
    return identification, relation


def identification_may_decide(*, user: User, identification: Identification) -> bool:
    """Would ``services.identification_decide`` hear this member now? (The
    pages offer the decision form only then; the service still decides.)"""
    return (
        identification.status in PENDING
        and identification.reconsideration_excluded_id != user.pk
        and grants.holds(user, grants.DECIDE, identification.pk)
    )


@dataclass(frozen=True)
class AssociationActions:
    """What the association may ask of the file now (the preconditions of
    services.evidence_add, evidence_submit and reconsideration_request), so
    that the case page offers only those."""

    add_evidence: bool
    submit: bool
    reconsider: bool


def association_actions(
    *, identification: Identification, now: datetime | None = None
) -> AssociationActions:
    today = timezone.localdate(now or timezone.now())
    submit = (
        Status.FORMAL_PENDING in Identification.ALLOWED_TRANSITIONS[identification.status]
        and identification.recovery_ends_on is not None
        and today >= identification.recovery_ends_on
        and identification.evidence.exclude(section=EvidenceSection.FIRST_ASSESSMENT).exists()
    )
    reconsider = (
        identification.status in NEGATIVE
        and identification.reconsider_until is not None
        and today <= identification.reconsider_until
        and not identification.reconsiderations.filter(stage=identification.stage).exists()
    )
    return AssociationActions(
        add_evidence=identification.status not in FINAL, submit=submit, reconsider=reconsider
    )


@dataclass(frozen=True)
class Dashboard:
    pending: int
    minors: int
    danger: int
    overdue: int
    due_soon: int
    by_age: dict[str, int]
    reconsiderations: int


AGE_BUCKETS = (("0-2", 0, 2), ("3-5", 3, 5), ("6-10", 6, 10), ("11-30", 11, 30))


def unit_dashboard(*, user: User, now: datetime | None = None) -> Dashboard:
    """The unit's backlog: pending files by age (days since opened), minors,
    danger, overdue. One query."""
    membership = membership_of(user)
    if membership is None or membership.role != Membership.Role.DECISION_MAKER:
        raise NotAllowed(_("The dashboard is the identification unit's."))
    now = now or timezone.now()
    pending = Identification.objects.filter(
        grants.held_q(user, grants.VIEW), status__in=list(PENDING)
    )
    ages: dict[str, int] = {}
    aggregates: dict = {
        "pending": Count("pk"),
        "minors": Count("pk", filter=Q(minor=True)),
        "danger": Count("pk", filter=Q(immediate_danger=True)),
        "overdue": Count("pk", filter=Q(decide_by__lt=now)),
        "due_soon": Count(
            "pk", filter=Q(decide_by__gte=now, decide_by__lt=now + timedelta(days=2))
        ),
        "reconsiderations": Count(
            "pk",
            filter=Q(
                status__in=[
                    Identification.Status.PRELIMINARY_RECONSIDERATION,
                    Identification.Status.FORMAL_RECONSIDERATION,
                ]
            ),
        ),
    }
    for label, low, high in AGE_BUCKETS:
        aggregates[f"age_{label}"] = Count(
            "pk",
            filter=Q(
                opened_at__lte=now - timedelta(days=low),
                opened_at__gt=now - timedelta(days=high + 1),
            ),
        )
    aggregates["age_31+"] = Count("pk", filter=Q(opened_at__lte=now - timedelta(days=31)))
    row = pending.aggregate(**aggregates)
    for label, _low, _high in AGE_BUCKETS:
        ages[label] = row.pop(f"age_{label}")
    ages["31+"] = row.pop("age_31+")
    return Dashboard(by_age=ages, **row)
