"""Reads with rules on cases, steps, notes and transfers (docs/access.md).

What a person sees comes from the per-object grants only (cases.grants): the
owning association's group holds view_case; a person a case is shared with
holds the part grants of their share (read through the shared-case selectors).
Anything else is "not found", with the same work and the same access-log entry
whether the case exists or not."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from agencies.models import STAFF_ROLES, Agency, Membership, User
from agencies.selectors import active_associations, membership_of
from audit.models import AccessAction
from audit.services import access_log_write
from common.errors import NotAllowed, NotFound
from referral.models import Routing, RoutingOutcome

from . import grants
from .models import (
    OPEN_STEP_STATUSES,
    Case,
    CaseNote,
    CaseShare,
    CaseUserObjectPermission,
    ProtectionStep,
    SharePart,
    Transfer,
    TransferStatus,
)


def _overdue_q(today: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": OPEN_STEP_STATUSES, f"{prefix}due_date__lt": today})


def _visible(user: User, *, one: bool = False) -> QuerySet[Case]:
    """Cases on which the user holds view_case (the owning association);
    ``one`` when the caller then picks one case."""
    if not user.is_authenticated:
        return Case.objects.none()
    return Case.objects.filter(grants.held_q(user, grants.VIEW, one=one))


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
        _visible(user, one=True)
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
        # Missing or not theirs: the same entry and the same work either way.
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
    case = _visible(user, one=True).filter(reference=reference).first()
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
    membership = membership_of(user)
    if membership is None or membership.role not in STAFF_ROLES:
        return None
    return membership.agency_id


def transfer_list_for(*, user: User) -> QuerySet[Transfer]:
    """Transfers from or to the user's association: a record between two
    associations (facts, no identity), seen by each party through its group.
    The case behind it is read only through its grants."""
    if not user.is_authenticated:
        return Transfer.objects.none()
    groups = User.groups.through.objects.filter(user=user)
    return (
        Transfer.objects.filter(
            Exists(groups.filter(group_id=OuterRef("from_association__group_id")))
            | Exists(groups.filter(group_id=OuterRef("to_association__group_id")))
        )
        .select_related(
            "case__referral__person",
            "case__referral__exploitation_departement",
            "from_association",
            "to_association",
        )
        .order_by("-requested_at", "-pk")
    )


def transfer_targets(*, case: Case) -> QuerySet[Agency]:
    """The associations a case may be transferred to: every active association
    but the one that has it (accredited or not for the person: the two
    associations agree on the move). The web form offers these and the
    service refuses any other."""
    return active_associations().exclude(pk=case.association_id).order_by("name", "pk")


def transfer_get_for_user(*, user: User, transfer_id: int) -> Transfer:
    transfer = transfer_list_for(user=user).filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound()
    return transfer


def workload_for(*, user: User, today: date | None = None) -> dict:
    """The association's workload, for its managers: open cases, overdue steps,
    pending routings and transfers, and per caseworker (5 queries)."""
    membership = membership_of(user)
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


# --- shared cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class SharedCase:
    """A case as the person it is shared with may read it: only the parts they
    hold a grant for (the rest is not loaded)."""

    case: Case
    share: CaseShare
    parts: frozenset[str]


def _share_in_force(user: User, today: date) -> QuerySet[CaseShare]:
    return CaseShare.objects.filter(grantee=user, ended_at__isnull=True, until__gte=today)


def shared_case_list_for(*, user: User, today: date | None = None) -> QuerySet[CaseShare]:
    """The shares in force for this person (the share's date bounds its grants
    even before the periodic task ends them). No identity: references,
    association, purpose, parts and date."""
    if not user.is_authenticated:
        return CaseShare.objects.none()
    today = today or timezone.localdate()
    any_part = Q()
    for codename in grants.PART_PERMISSION.values():
        any_part |= grants.held_q(user, codename, ref="case_id")
    return (
        _share_in_force(user, today)
        .filter(any_part)
        .select_related("case__association", "shared_by")
        .order_by("until", "pk")
    )


def shared_case_get_for_user(
    *, user: User, reference: str, today: date | None = None
) -> SharedCase:
    """One shared case, with the parts the person holds, every read logged; a
    refusal is logged alike for missing and not shared (NotFound)."""
    today = today or timezone.localdate()
    found = None
    if user.is_authenticated:
        parts = {
            part: Exists(
                CaseUserObjectPermission.objects.filter(
                    content_object=OuterRef("pk"), user=user, permission__codename=codename
                )
            )
            for part, codename in grants.PART_PERMISSION.items()
        }
        found = (
            Case.objects.filter(reference=reference)
            .annotate(**{f"can_{part}": q for part, q in parts.items()})
            .annotate(
                share_id=Subquery(
                    _share_in_force(user, today).filter(case=OuterRef("pk")).values("pk")[:1]
                )
            )
            .filter(share_id__isnull=False)
            .filter(functools.reduce(operator.or_, (Q(**{f"can_{p}": True}) for p in parts)))
            .select_related("referral__person", "referral__referring_agency", "association")
            .order_by()
            .first()
        )
    if found is None:
        access_log_write(
            action=AccessAction.REFUSAL, actor=user, target_type="case", target_id=reference
        )
        raise NotFound()
    held = frozenset(p for p in grants.PART_PERMISSION if getattr(found, f"can_{p}"))
    share = CaseShare.objects.select_related("shared_by", "grantee_agency").get(pk=found.share_id)
    if SharePart.PLAN in held:
        found.shown_steps = list(found.steps.select_related("owner").order_by("due_date", "pk"))
    if SharePart.NOTES in held:
        found.shown_notes = list(found.notes.select_related("author").order_by("created_at", "pk"))
    access_log_write(
        action=AccessAction.CASE_SHARED_VIEW,
        actor=user,
        target_type="case",
        target_id=reference,
        detail={"share": share.pk, "parts": sorted(held)},
    )
    return SharedCase(case=found, share=share, parts=held)


def case_share_get(*, case: Case, share_id: int) -> CaseShare:
    """One share of a case its owner already read (case_get_for_user), else
    NotFound: the id of another case's share is not found."""
    share = CaseShare.objects.filter(case=case, pk=share_id).first()
    if share is None:
        raise NotFound()
    return share


def case_shares(*, case: Case) -> list[CaseShare]:
    """The shares of a case, for its owning association (the case page)."""
    return list(
        CaseShare.objects.filter(case=case)
        .select_related("grantee", "grantee_agency", "shared_by", "ended_by")
        .order_by("-shared_at", "-pk")
    )
