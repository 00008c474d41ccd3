"""Every state change of cases, protection steps, notes and transfers.

Grants: the owning association's group holds view + change on its case (and
view on the referral); a transfer moves both in one transaction. Writes that
take ``expected_version`` refuse a stale version with PreconditionFailed (HTTP
412) before changing anything.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, remove_perm

from agencies.models import Agency, Membership, User
from agencies.selectors import membership_of
from common.errors import InvalidTransition, NotAllowed, PreconditionFailed, ValidationFailed
from common.transitions import ensure_transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from stats.dimensions import FACT_STEP_KINDS
from stats.services import facts_refresh

from .models import (
    OPEN_STEP_STATUSES,
    Case,
    CaseGroupObjectPermission,
    CaseNote,
    ProtectionStep,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
)
from .plans import PlanFacts, propose_plan

REFERRAL_VIEW = "referral.view_referral"
STAFF_ROLES = (Membership.Role.CASEWORKER, Membership.Role.MANAGER)
NOTE_MAX = 20_000


# --- helpers ----------------------------------------------------------------------


def ensure_staff_of(user: User, association_id: int) -> None:
    """Caseworkers and managers of the association only."""
    membership = membership_of(user)
    if (
        membership is None
        or membership.agency_id != association_id
        or membership.role not in STAFF_ROLES
    ):
        raise NotAllowed(_("Only the association's caseworkers and managers can do this."))


def _check_version(obj: Case | ProtectionStep, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise PreconditionFailed(_("Someone changed this since you read it: reload and try again."))


def _lock_case(case_id: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case_id)


def _save(obj: Any, actor: User, **kwargs: Any) -> None:
    obj._history_user = actor
    obj.save(**kwargs)


def _grant_case(case: Case, association: Agency) -> None:
    permissions = list(
        Permission.objects.filter(
            content_type__app_label="cases", codename__in=["view_case", "change_case"]
        )
    )
    CaseGroupObjectPermission.objects.bulk_create(
        [
            CaseGroupObjectPermission(
                group_id=association.group_id, permission=p, content_object=case
            )
            for p in permissions
        ],
        ignore_conflicts=True,
    )


def _revoke_case(case: Case, association: Agency) -> None:
    CaseGroupObjectPermission.objects.filter(
        content_object=case, group_id=association.group_id
    ).delete()


# --- opening ----------------------------------------------------------------------


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
        assigned_to=actor if _is_staff_of(actor, association) else None,
    )
    _save(case, actor)
    _grant_case(case, association)
    steps = [
        ProtectionStep(
            case=case,
            kind=planned.kind,
            due_date=planned.due_date,
            ends_on=planned.ends_on,
            from_template=True,
        )
        for planned in propose_plan(plan_facts(referral, opened_on=timezone.localdate(now)))
    ]
    for step in steps:
        _save(step, actor)
    return case


def _is_staff_of(user: User, association: Agency) -> bool:
    membership = membership_of(user)
    return (
        membership is not None
        and membership.agency_id == association.pk
        and membership.role in STAFF_ROLES
    )


# --- case -------------------------------------------------------------------------


@transaction.atomic
def case_assign(
    *, case_id: int, actor: User, assignee: User | None, expected_version: int | None
) -> Case:
    """Assign a caseworker (or nobody) within the owning association."""
    case = _lock_case(case_id)
    ensure_staff_of(actor, case.association_id)
    _check_version(case, expected_version)
    if assignee is not None and not _is_staff_of(assignee, case.association):
        raise ValidationFailed(
            _("Invalid assignment."),
            fields={"assigned_to": [_("Choose a caseworker or manager of your association.")]},
        )
    case.assigned_to = assignee
    case.version += 1
    _save(case, actor)
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
    case = _lock_case(case_id)
    if check_access:
        ensure_staff_of(actor, case.association_id)
    _check_version(case, expected_version)
    if reason not in Case.ClosureReason.values:
        raise ValidationFailed(
            _("Invalid closure."), fields={"reason": [_("Choose a closure reason.")]}
        )
    ensure_transition(case, to=Case.Status.CLOSED)
    if case.transfers.filter(status=TransferStatus.PENDING).exists():
        raise InvalidTransition(_("A transfer of this case is pending."))
    case.status = Case.Status.CLOSED
    case.closure_reason = reason
    case.closed_at = now or timezone.now()
    case.version += 1
    _save(case, actor)
    return case


@transaction.atomic
def case_reopen(*, case_id: int, actor: User, expected_version: int | None) -> Case:
    case = _lock_case(case_id)
    ensure_staff_of(actor, case.association_id)
    _check_version(case, expected_version)
    ensure_transition(case, to=Case.Status.OPEN)
    case.status = Case.Status.OPEN
    case.closure_reason = ""
    case.closed_at = None
    case.reopened_at = timezone.now()
    case.version += 1
    _save(case, actor)
    return case


def _ensure_open(case: Case) -> None:
    if case.status != Case.Status.OPEN:
        raise InvalidTransition(_("The case is closed: reopen it first."))


# --- steps ------------------------------------------------------------------------


def _validate_owner(owner: User | None, case: Case) -> None:
    if owner is not None and not _is_staff_of(owner, case.association):
        raise ValidationFailed(
            _("Invalid step."),
            fields={"owner": [_("Choose a caseworker or manager of your association.")]},
        )


@transaction.atomic
def step_add(
    *,
    case_id: int,
    actor: User,
    kind: str,
    due_date: date | None = None,
    ends_on: date | None = None,
    owner: User | None = None,
    note: str = "",
) -> ProtectionStep:
    case = _lock_case(case_id)
    ensure_staff_of(actor, case.association_id)
    _ensure_open(case)
    if kind not in StepKind.values:
        raise ValidationFailed(_("Invalid step."), fields={"kind": [_("Unknown kind of step.")]})
    if due_date and ends_on and ends_on < due_date:
        raise ValidationFailed(
            _("Invalid step."), fields={"ends_on": [_("The end cannot be before the start.")]}
        )
    _validate_owner(owner, case)
    step = ProtectionStep(
        case=case, kind=kind, due_date=due_date, ends_on=ends_on, owner=owner, note=note.strip()
    )
    _save(step, actor)
    if kind in FACT_STEP_KINDS:
        facts_refresh(referral_ids=[case.referral_id])
    return step


STEP_FIELDS = {"status", "due_date", "ends_on", "owner", "note"}


@transaction.atomic
def step_update(
    *,
    step_id: int,
    actor: User,
    expected_version: int | None,
    changes: dict[str, Any],
    now: datetime | None = None,
) -> ProtectionStep:
    """Change a step: complete it, set it aside (not applicable, declined by the
    person), block it, move its date, owner or note."""
    step = (
        ProtectionStep.objects.select_for_update(of=("self",))
        .select_related("case__association")
        .get(pk=step_id)
    )
    ensure_staff_of(actor, step.case.association_id)
    _check_version(step, expected_version)
    _ensure_open(step.case)
    unknown = set(changes) - STEP_FIELDS
    if unknown:
        raise ValidationFailed(
            _("Invalid step."), fields={f: [_("This field cannot be changed.")] for f in unknown}
        )
    if "status" in changes and changes["status"] != step.status:
        if changes["status"] not in StepStatus.values:
            raise ValidationFailed(_("Invalid step."), fields={"status": [_("Unknown status.")]})
        ensure_transition(step, to=changes["status"])
        step.status = changes["status"]
        step.done_at = (now or timezone.now()) if step.status == StepStatus.DONE else None
    if "owner" in changes:
        _validate_owner(changes["owner"], step.case)
        step.owner = changes["owner"]
    for field in ("due_date", "ends_on"):
        if field in changes:
            setattr(step, field, changes[field])
    if "note" in changes:
        step.note = (changes["note"] or "").strip()
    if step.due_date and step.ends_on and step.ends_on < step.due_date:
        raise ValidationFailed(
            _("Invalid step."), fields={"ends_on": [_("The end cannot be before the start.")]}
        )
    step.version += 1
    _save(step, actor)
    if step.kind in FACT_STEP_KINDS and "status" in changes:
        facts_refresh(referral_ids=[step.case.referral_id])
    return step


# --- notes ------------------------------------------------------------------------


@transaction.atomic
def note_add(*, case_id: int, actor: User, text: str, now: datetime | None = None) -> CaseNote:
    case = Case.objects.get(pk=case_id)
    ensure_staff_of(actor, case.association_id)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Invalid note."), fields={"text": [_("Write the note.")]})
    if len(text) > NOTE_MAX:
        raise ValidationFailed(_("Invalid note."), fields={"text": [_("The note is too long.")]})
    note = CaseNote(case=case, text=text, author=actor, created_at=now or timezone.now())
    _save(note, actor)
    return note


# --- transfers --------------------------------------------------------------------


@transaction.atomic
def transfer_request(*, case_id: int, actor: User, to_association_id: int, reason: str) -> Transfer:
    case = _lock_case(case_id)
    ensure_staff_of(actor, case.association_id)
    _ensure_open(case)
    errors: dict[str, list] = {}
    target = Agency.objects.filter(
        pk=to_association_id, kind=Agency.Kind.ASSOCIATION, active=True
    ).first()
    if target is None:
        errors["to_association"] = [_("Choose an active accredited association.")]
    elif target.pk == case.association_id:
        errors["to_association"] = [_("The case is already with this association.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the case should move.")]
    if errors:
        raise ValidationFailed(_("Invalid transfer."), fields=errors)
    if case.transfers.filter(status=TransferStatus.PENDING).exists():
        raise InvalidTransition(_("A transfer of this case is already pending."))
    transfer = Transfer(
        case=case,
        from_association_id=case.association_id,
        to_association=target,
        reason=reason.strip(),
        requested_by=actor,
        requested_at=timezone.now(),
    )
    _save(transfer, actor)
    outbox_enqueue(
        kind=OutboxMessage.Kind.TRANSFER_REQUESTED, reference=case.reference, agency=target
    )
    return transfer


def _lock_transfer(transfer_id: int) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("to_association", "from_association")
        .get(pk=transfer_id)
    )


@transaction.atomic
def transfer_accept(*, transfer_id: int, actor: User) -> Transfer:
    """The receiving association takes the case: ownership, grants on the case and
    on its referral move in this one transaction."""
    transfer = _lock_transfer(transfer_id)
    ensure_staff_of(actor, transfer.to_association_id)
    ensure_transition(transfer, to=TransferStatus.ACCEPTED)
    case = _lock_case(transfer.case_id)
    now = timezone.now()
    transfer.status = TransferStatus.ACCEPTED
    transfer.decided_by = actor
    transfer.decided_at = now
    _save(transfer, actor)
    old, new = transfer.from_association, transfer.to_association
    _revoke_case(case, old)
    _grant_case(case, new)
    remove_perm(REFERRAL_VIEW, old.group, case.referral)
    assign_perm(REFERRAL_VIEW, new.group, case.referral)
    case.association = new
    case.assigned_to = actor if _is_staff_of(actor, new) else None
    case.version += 1
    _save(case, actor)
    ProtectionStep.objects.filter(case=case, owner__isnull=False).exclude(
        owner__membership__agency=new
    ).update(owner=None)  # owners from the old association; history keeps who it was
    facts_refresh(referral_ids=[case.referral_id])
    outbox_enqueue(kind=OutboxMessage.Kind.TRANSFER_ACCEPTED, reference=case.reference, agency=old)
    return transfer


@transaction.atomic
def transfer_reject(*, transfer_id: int, actor: User, reason: str = "") -> Transfer:
    transfer = _lock_transfer(transfer_id)
    ensure_staff_of(actor, transfer.to_association_id)
    ensure_transition(transfer, to=TransferStatus.REJECTED)
    transfer.status = TransferStatus.REJECTED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.decision_reason = (reason or "").strip()
    _save(transfer, actor)
    outbox_enqueue(
        kind=OutboxMessage.Kind.TRANSFER_REJECTED,
        reference=transfer.case.reference,
        agency=transfer.from_association,
    )
    return transfer


# --- reminders --------------------------------------------------------------------


def overdue_reminders(*, today: date | None = None) -> int:
    """Once a day: one reminder per open case with overdue steps, to its assigned
    caseworker (reference and link only). Idempotent within a day."""
    today = today or timezone.localdate()
    start_of_day = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    cases = (
        Case.objects.filter(
            status=Case.Status.OPEN,
            assigned_to__isnull=False,
            assigned_to__is_active=True,
            steps__status__in=OPEN_STEP_STATUSES,
            steps__due_date__lt=today,
        )
        .distinct()
        .values_list("pk", "reference", "assigned_to_id")
    )
    already = set(
        OutboxMessage.objects.filter(
            kind=OutboxMessage.Kind.STEPS_OVERDUE, created_at__gte=start_of_day
        ).values_list("reference", "recipient_user_id")
    )
    sent = 0
    for _pk, reference, user_id in cases:
        if (reference, user_id) in already:
            continue
        with transaction.atomic():
            outbox_enqueue(
                kind=OutboxMessage.Kind.STEPS_OVERDUE,
                reference=reference,
                user=User.objects.get(pk=user_id),
            )
        sent += 1
    return sent
