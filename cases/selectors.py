"""Reads with rules on cases, steps, notes and transfers (DESIGN §5).

A case is visible to the members of the owning association, through the
group grant of the direct foreign-key table, filtered with one Exists. Anything
else is "not found"."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import Membership, User
from audit.models import AccessAction
from audit.services import access_log_write
from common.errors import NotAllowed, NotFound
from referral.models import Routing, RoutingOutcome

from .models import (
    OPEN_STEP_STATUSES,
    Case,
    CaseGroupObjectPermission,
    CaseNote,
    ProtectionStep,
    Transfer,
    TransferStatus,
)

STAFF_ROLES = (Membership.Role.CASEWORKER, Membership.Role.MANAGER)


def _overdue_q(today: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": OPEN_STEP_STATUSES, f"{prefix}due_date__lt": today})


def _visible(user: User) -> QuerySet[Case]:
    """Cases on which a group of the user holds view_case (one Exists over the
    grant table). A user is in exactly the group of their agency (kept so by the
    membership services), so its id comes with the membership already loaded."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None:
        return Case.objects.none()
    grant = CaseGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"),
        group_id=membership.agency.group_id,
        permission__codename="view_case",
    )
    return Case.objects.filter(Exists(grant))


def case_list_visible_to(*, user: User, today: date | None = None) -> QuerySet[Case]:
    today = today or timezone.localdate()
    overdue = (
        ProtectionStep.objects.filter(_overdue_q(today), case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        _visible(user)
        .select_related("referral", "referral__person", "association", "assigned_to")
        .annotate(overdue_steps=Coalesce(Subquery(overdue), 0))
        .order_by("-opened_at", "-pk")
    )


def case_get_for_user(
    *, user: User, reference: str, log: str | None = AccessAction.CASE_VIEW
) -> Case:
    """One case with its plan and notes (a constant number of queries), or
    NotFound. ``log`` names the access-log action of this read (None: not
    logged, for a read-back after a write); a refusal of an existing case is
    logged too."""
    qs = (
        _visible(user)
        .filter(reference=reference)
        .select_related(
            "referral__person", "referral__referring_agency", "association", "assigned_to"
        )
        .prefetch_related(
            Prefetch("steps", queryset=ProtectionStep.objects.select_related("owner")),
            Prefetch("notes", queryset=CaseNote.objects.select_related("author")),
        )
        .order_by()  # the reference is unique: no ordering to compile or run
    )
    case = next(iter(qs[:1]), None)
    if case is None:
        if Case.objects.filter(reference=reference).exists():
            access_log_write(
                action=AccessAction.REFUSAL, actor=user, target_type="case", target_id=reference
            )
        raise NotFound()
    if log:
        access_log_write(action=log, actor=user, target_type="case", target_id=reference)
    today = timezone.localdate()
    case.overdue_steps = sum(1 for step in case.steps.all() if step.is_overdue(today))
    return case


def step_get_for_user(*, user: User, reference: str, step_id: int) -> ProtectionStep:
    case = _visible(user).filter(reference=reference).first()
    if case is None:
        raise NotFound()
    step = ProtectionStep.objects.select_related("owner").filter(pk=step_id, case=case).first()
    if step is None:
        raise NotFound()
    step.case = case
    return step


def association_staff(*, user: User) -> QuerySet[User]:
    """The active caseworkers and managers of the user's association: who a case
    can be assigned to or a step owned by (the services check the same rule).
    Empty for anyone who is not staff of an association."""
    agency_id = _staff_agency_id(user)
    if agency_id is None:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            membership__agency_id=agency_id,
            membership__role__in=STAFF_ROLES,
        )
        .select_related("membership")
        .order_by("username", "pk")
    )


def _staff_agency_id(user: User) -> int | None:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None or membership.role not in STAFF_ROLES:
        return None
    return membership.agency_id


def transfer_list_for(*, user: User) -> QuerySet[Transfer]:
    """Transfers from or to the user's association."""
    agency_id = _staff_agency_id(user)
    if agency_id is None:
        return Transfer.objects.none()
    return (
        Transfer.objects.filter(Q(from_association_id=agency_id) | Q(to_association_id=agency_id))
        .select_related(
            "case__referral__person",
            "case__referral__exploitation_departement",
            "from_association",
            "to_association",
        )
        .order_by("-requested_at", "-pk")
    )


def transfer_get_for_user(*, user: User, transfer_id: int) -> Transfer:
    transfer = transfer_list_for(user=user).filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound()
    return transfer


def workload_for(*, user: User, today: date | None = None) -> dict:
    """The association's workload, for its managers: open cases, overdue steps,
    pending routings and transfers, and per caseworker (5 queries)."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None or membership.role not in STAFF_ROLES:
        raise NotFound()
    if (
        membership.role != Membership.Role.MANAGER
        or membership.agency.kind != membership.agency.Kind.ASSOCIATION
    ):
        raise NotAllowed()  # managers of an association only (as the web page)
    today = today or timezone.localdate()
    agency_id = membership.agency_id
    open_cases = Case.objects.filter(association_id=agency_id, status=Case.Status.OPEN)
    overdue = ProtectionStep.objects.filter(
        _overdue_q(today), case__association_id=agency_id, case__status=Case.Status.OPEN
    )
    per_user = {
        row["assigned_to"]: row
        for row in open_cases.values("assigned_to", "assigned_to__username").annotate(
            open_cases=Count("pk", distinct=True),
            overdue_steps=Count("steps", filter=_overdue_q(today, "steps__")),
        )
    }
    transfers = Transfer.objects.filter(status=TransferStatus.PENDING)
    return {
        "association": {"id": agency_id, "name": membership.agency.name},
        "open_cases": open_cases.count(),
        "overdue_steps": overdue.count(),
        "pending_routings": Routing.objects.filter(
            association_id=agency_id, outcome=RoutingOutcome.PENDING
        ).count(),
        "pending_transfers_in": transfers.filter(to_association_id=agency_id).count(),
        "pending_transfers_out": transfers.filter(from_association_id=agency_id).count(),
        "by_caseworker": [
            {
                "username": row["assigned_to__username"],
                "open_cases": row["open_cases"],
                "overdue_steps": row["overdue_steps"],
            }
            for row in sorted(per_user.values(), key=lambda r: r["assigned_to__username"] or "")
        ],
    }
