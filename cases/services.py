"""Every state change of cases, protection steps, notes and transfers.

Who may do each of these is decided by the per-object grants (cases.grants):
change_case for the owning association's work, decide_transfer for the
association a transfer is asked of; a transfer moves the grants on the case and
on its referral in one transaction; a share gives one named person read grants
on the parts it shares. Writes that
take ``expected_version`` refuse a stale version with PreconditionFailed (HTTP
412) before changing anything. Statistics follow through the events of
cases.signals, sent in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership, User
from agencies.selectors import membership_of
from agencies.system import system_user
from audit.models import AccessAction
from audit.services import access_log_write
from common.errors import InvalidTransition, NotAllowed, PreconditionFailed, ValidationFailed
from common.transitions import ensure_transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from referral import grants as referral_grants

from . import grants, signals
from .models import (
    OPEN_STEP_STATUSES,
    Case,
    CaseNote,
    CaseShare,
    ProtectionStep,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
)
from .plans import PlanFacts, propose_plan

NOTE_MAX = 20_000


# --- helpers ----------------------------------------------------------------------


def ensure_may_change(user: User, case_id: int) -> None:
    """The owning association's caseworkers and managers: those who hold
    change_case on it."""
    if not grants.holds(user, grants.CHANGE, case_id):
        raise NotAllowed(_("Only the association's caseworkers and managers can do this."))


def _works_on(user: User | None, case: Case) -> bool:
    """Can this person be assigned the case or own one of its steps? Those who
    hold change_case on it (the owning association's staff, active)."""
    return user is not None and grants.holds(user, grants.CHANGE, case.pk)


def _check_version(obj: Case | ProtectionStep, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise PreconditionFailed(_("Someone changed this since you read it: reload and try again."))


def _lock_case(case_id: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case_id)


def _save(obj: Any, actor: User, **kwargs: Any) -> None:
    obj._history_user = actor
    obj.save(**kwargs)


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
        # The acceptor is assigned when they will hold change_case on it (they are
        # in the group the owner's grant goes to).
        assigned_to=actor if grants.will_hold_as_owner(actor, association.group_id) else None,
    )
    _save(case, actor)
    grants.grant_owner(case=case, group_id=association.group_id)
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


# --- case -------------------------------------------------------------------------


@transaction.atomic
def case_assign(
    *, case_id: int, actor: User, assignee: User | None, expected_version: int | None
) -> Case:
    """Assign a caseworker (or nobody) within the owning association."""
    case = _lock_case(case_id)
    ensure_may_change(actor, case.pk)
    _check_version(case, expected_version)
    if assignee is not None and not _works_on(assignee, case):
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
        ensure_may_change(actor, case.pk)
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
    ensure_may_change(actor, case.pk)
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
    if owner is not None and not _works_on(owner, case):
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
    ensure_may_change(actor, case.pk)
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
    signals.step_changed.send(
        sender=ProtectionStep,
        referral_ids=[case.referral_id],
        kind=kind,
        created=True,
        fields=frozenset(),
    )
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
    ensure_may_change(actor, step.case_id)
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
    signals.step_changed.send(
        sender=ProtectionStep,
        referral_ids=[step.case.referral_id],
        kind=step.kind,
        created=False,
        fields=frozenset(changes),
    )
    return step


# --- notes ------------------------------------------------------------------------


@transaction.atomic
def note_add(*, case_id: int, actor: User, text: str, now: datetime | None = None) -> CaseNote:
    case = Case.objects.get(pk=case_id)
    ensure_may_change(actor, case.pk)
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
    ensure_may_change(actor, case.pk)
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
    grants.grant_transfer_decision(transfer=transfer)
    outbox_enqueue(
        kind=OutboxMessage.Kind.TRANSFER_REQUESTED, reference=case.reference, agency=target
    )
    return transfer


def _ensure_may_decide(actor: User, transfer: Transfer) -> None:
    if not grants.holds(actor, grants.DECIDE_TRANSFER, transfer.case_id):
        raise NotAllowed(_("Only the association asked to take the case can decide."))


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
    ensure_transition(transfer, to=TransferStatus.ACCEPTED)
    _ensure_may_decide(actor, transfer)
    case = _lock_case(transfer.case_id)
    now = timezone.now()
    transfer.status = TransferStatus.ACCEPTED
    transfer.decided_by = actor
    transfer.decided_at = now
    _save(transfer, actor)
    old, new = transfer.from_association, transfer.to_association
    grants.end_transfer_decision(transfer=transfer)
    grants.move_owner(case=case, old_group_id=old.group_id, new_group_id=new.group_id)
    referral_grants.move_owner(
        referral_id=case.referral_id, old_group_id=old.group_id, new_group_id=new.group_id
    )
    for share in CaseShare.objects.select_for_update().filter(case=case, ended_at__isnull=True):
        _end_share(share, actor=actor, reason=CaseShare.End.CASE_MOVED, now=now)
    case.association = new
    case.assigned_to = actor if _works_on(actor, case) else None
    case.version += 1
    _save(case, actor)
    # Owners from the old association no longer work on it; each change is saved
    # one by one so the history keeps who owned the step.
    for step in ProtectionStep.objects.filter(case=case, owner__isnull=False).select_related(
        "owner"
    ):
        if not _works_on(step.owner, case):
            step.owner = None
            step.version += 1
            _save(step, actor)
    signals.case_changed.send(sender=Case, referral_ids=[case.referral_id])
    outbox_enqueue(kind=OutboxMessage.Kind.TRANSFER_ACCEPTED, reference=case.reference, agency=old)
    return transfer


@transaction.atomic
def transfer_reject(*, transfer_id: int, actor: User, reason: str = "") -> Transfer:
    transfer = _lock_transfer(transfer_id)
    ensure_transition(transfer, to=TransferStatus.REJECTED)
    _ensure_may_decide(actor, transfer)
    transfer.status = TransferStatus.REJECTED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.decision_reason = (reason or "").strip()
    _save(transfer, actor)
    grants.end_transfer_decision(transfer=transfer)
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


# --- sharing ------------------------------------------------------------------------

# Roles a case is never shared with: analysts read statistics only; platform
# administrators run accounts, not cases.
SHARE_REFUSED_ROLES = frozenset({Membership.Role.ANALYST, Membership.Role.ADMIN})
SHARE_GRANTEE_ROLES = frozenset(Membership.Role.values) - SHARE_REFUSED_ROLES


def _share_errors(
    *,
    case: Case,
    grantee: User | None,
    purpose: str,
    purpose_detail: str,
    parts: list[str],
    until: date | None,
    today: date,
) -> dict[str, list]:
    errors: dict[str, list] = {}
    membership = membership_of(grantee) if grantee is not None else None
    if grantee is None or not grantee.is_active or membership is None:
        errors["grantee"] = [_("No active account has this username.")]
    elif membership.role in SHARE_REFUSED_ROLES:
        errors["grantee"] = [_("A case is not shared with analysts or platform administrators.")]
    elif grantee.pk == case.referral.referring_user_id:
        errors["grantee"] = [_("The person who filed the referral cannot be given the case.")]
    elif grants.holds(grantee, grants.CHANGE, case.pk):
        errors["grantee"] = [_("This person already works on the case.")]
    elif CaseShare.objects.filter(case=case, grantee=grantee, ended_at__isnull=True).exists():
        errors["grantee"] = [_("The case is already shared with this person: end that first.")]
    if purpose not in CaseShare.Purpose.values:
        errors["purpose"] = [_("Choose a purpose.")]
    if not purpose_detail:
        errors["purpose_detail"] = [_("Say in a few words what the person needs the case for.")]
    elif len(purpose_detail) > 200:
        errors["purpose_detail"] = [_("At most 200 characters.")]
    if not parts:
        errors["parts"] = [_("Choose what the person may read.")]
    elif set(parts) - set(CaseShare.Part.values):
        errors["parts"] = [_("Unknown part.")]
    longest = settings.MNR_SHARE_MAX_DAYS
    if until is None:
        errors["until"] = [_("Give the date the share ends.")]
    elif until < today:
        errors["until"] = [_("The end date cannot be in the past.")]
    elif until > today + timedelta(days=longest):
        errors["until"] = [
            _("A share lasts at most %(days)s days: share again later if needed.")
            % {"days": longest}
        ]
    return errors


@transaction.atomic
def share_create(
    *,
    case_id: int,
    actor: User,
    grantee_username: str,
    purpose: str,
    purpose_detail: str,
    parts: list[str],
    until: date | None,
    now: datetime | None = None,
) -> CaseShare:
    """Share one case read-only with a named person of another agency, for a
    purpose, on the parts it needs, until a date (logged, shown on the case)."""
    now = now or timezone.now()
    case = _lock_case(case_id)
    ensure_may_change(actor, case.pk)
    _ensure_open(case)
    grantee = (
        User.objects.select_related("membership__agency")
        .filter(username=(grantee_username or "").strip())
        .first()
    )
    purpose_detail = (purpose_detail or "").strip()
    parts = sorted(set(parts or []))
    errors = _share_errors(
        case=case,
        grantee=grantee,
        purpose=purpose,
        purpose_detail=purpose_detail,
        parts=parts,
        until=until,
        today=timezone.localdate(now),
    )
    if errors:
        raise ValidationFailed(_("Invalid share."), fields=errors)
    share = CaseShare(
        case=case,
        grantee=grantee,
        grantee_agency=grantee.membership.agency,
        purpose=purpose,
        purpose_detail=purpose_detail,
        parts=parts,
        until=until,
        shared_by=actor,
        shared_at=now,
    )
    _save(share, actor)
    grants.grant_share(share=share)
    access_log_write(
        action=AccessAction.CASE_SHARED,
        actor=actor,
        target_type="case",
        target_id=case.reference,
        detail={"share": share.pk, "with": grantee.pk, "parts": parts, "until": str(until)},
    )
    return share


def _end_share(share: CaseShare, *, actor: User, reason: str, now: datetime) -> None:
    share.ended_at = now
    share.ended_by = actor
    share.end_reason = reason
    _save(share, actor)
    grants.end_share(share=share)
    access_log_write(
        action=AccessAction.CASE_SHARE_ENDED,
        actor=actor,
        target_type="case",
        target_id=share.case.reference,
        detail={"share": share.pk, "with": share.grantee_id, "reason": reason},
    )


@transaction.atomic
def share_end(*, share_id: int, actor: User, now: datetime | None = None) -> CaseShare:
    """The owning association ends a share before its date."""
    share = (
        CaseShare.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=share_id)
        .first()
    )
    if share is None:
        raise NotAllowed(_("Only the association's caseworkers and managers can do this."))
    ensure_may_change(actor, share.case_id)
    if share.ended_at is not None:
        raise InvalidTransition(_("This share has already ended."))
    _end_share(share, actor=actor, reason=CaseShare.End.REVOKED, now=now or timezone.now())
    return share


def shares_expire(*, today: date | None = None) -> int:
    """Periodic: end every share whose date has passed (reads stop at the date
    anyway; this ends the grants and logs it). Idempotent."""
    today = today or timezone.localdate()
    ids = list(
        CaseShare.objects.filter(ended_at__isnull=True, until__lt=today).values_list(
            "pk", flat=True
        )
    )
    actor = system_user() if ids else None
    ended = 0
    for share_id in ids:
        with transaction.atomic():
            share = (
                CaseShare.objects.select_for_update(of=("self",))
                .select_related("case")
                .filter(pk=share_id, ended_at__isnull=True)
                .first()
            )
            if share is None:
                continue
            _end_share(share, actor=actor, reason=CaseShare.End.EXPIRED, now=timezone.now())
            ended += 1
    return ended


def shares_end_for(*, user: User) -> int:
    """The person's access ended (moved, role changed, removed, deactivated):
    every case shared with them stops being shared."""
    now = timezone.now()
    actor = system_user()
    ended = 0
    for share in (
        CaseShare.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(grantee=user, ended_at__isnull=True)
    ):
        _end_share(share, actor=actor, reason=CaseShare.End.ACCESS_ENDED, now=now)
        ended += 1
    return ended
