"""A case from opening to closure: the first plan, the assignee, closing and
reopening."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, User
from common.errors import InvalidTransition, ValidationFailed
from common.transitions import ensure_transition, save_by, transition

from .. import grants
from ..models import Case, ProtectionStep, TransferStatus
from ..plans import PlanFacts, propose_plan
from .guards import check_version, ensure_assignable, ensure_may_change, lock_case


def plan_facts(referral: Any, *, opened_on: date) -> PlanFacts:
    person = referral.person
    return PlanFacts(
        minor=person.presumed_minor,
        nationality=person.nationality,
        forms=frozenset(referral.exploitation_forms),
        immediate_danger=referral.immediate_danger,
        needs=frozenset(referral.needs),
        opened_on=opened_on,
    )


@transaction.atomic
def case_open(*, referral: Any, association: Agency, actor: User, now: datetime) -> Case:
    """Open the case of an accepted referral, propose its first plan and give the
    association its grants. The database allows one case per referral."""
    case = Case(
        referral=referral,
        reference=referral.reference,
        association=association,
        opened_at=now,
        # The acceptor is assigned when they will hold change_case on it (they are
        # in the group the owner's grant goes to).
        assigned_to=actor if grants.will_hold_as_owner(actor, association.group_id) else None,
    )
    save_by(case, actor=actor)
    grants.grant_owner(case=case, group_id=association.group_id)
    for planned in propose_plan(plan_facts(referral, opened_on=timezone.localdate(now))):
        step = ProtectionStep(
            case=case,
            kind=planned.kind,
            due_date=planned.due_date,
            ends_on=planned.ends_on,
            from_template=True,
        )
        save_by(step, actor=actor)
    return case


@transaction.atomic
def case_assign(
    *, case_id: int, actor: User, assignee: User | None, expected_version: int | None
) -> Case:
    """Assign a caseworker (or nobody) within the owning association."""
    case = lock_case(case_id)
    ensure_may_change(actor, case.pk)
    check_version(case, expected_version)
    ensure_assignable(assignee, case, field="assigned_to", message=_("Invalid assignment."))
    case.assigned_to = assignee
    case.version += 1
    save_by(case, actor=actor)
    return case


@transaction.atomic
def case_close(
    *,
    case_id: int,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
    check_access: bool = True,
) -> Case:
    case = lock_case(case_id)
    if check_access:
        ensure_may_change(actor, case.pk)
    check_version(case, expected_version)
    if reason not in Case.ClosureReason.values:
        raise ValidationFailed(
            _("Invalid closure."), fields={"reason": [_("Choose a closure reason.")]}
        )
    ensure_transition(case, to=Case.Status.CLOSED)
    if case.transfers.filter(status=TransferStatus.PENDING).exists():
        raise InvalidTransition(_("A transfer of this case is pending."))
    transition(
        case,
        to=Case.Status.CLOSED,
        actor=actor,
        closure_reason=reason,
        closed_at=now or timezone.now(),
    )
    return case


@transaction.atomic
def case_reopen(*, case_id: int, actor: User, expected_version: int | None) -> Case:
    case = lock_case(case_id)
    ensure_may_change(actor, case.pk)
    check_version(case, expected_version)
    transition(
        case,
        to=Case.Status.OPEN,
        actor=actor,
        closure_reason="",
        closed_at=None,
        reopened_at=timezone.now(),
    )
    return case
