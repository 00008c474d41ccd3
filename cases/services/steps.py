"""The protection plan and the case's notes: adding and changing steps, notes,
and the daily reminder of overdue steps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import User
from common.errors import ValidationFailed
from common.transitions import ensure_transition, save_by, transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

from .. import signals
from ..models import OPEN_STEP_STATUSES, Case, CaseNote, ProtectionStep, StepKind, StepStatus
from .guards import check_version, ensure_assignable, ensure_may_change, ensure_open, lock_case

NOTE_MAX = 20_000
STEP_FIELDS = {"status", "due_date", "ends_on", "owner", "note"}


def _ensure_dates(due_date: date | None, ends_on: date | None) -> None:
    if due_date and ends_on and ends_on < due_date:
        raise ValidationFailed(
            _("Invalid step."), fields={"ends_on": [_("The end cannot be before the start.")]}
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
    case = lock_case(case_id)
    ensure_may_change(actor, case.pk)
    ensure_open(case)
    if kind not in StepKind.values:
        raise ValidationFailed(_("Invalid step."), fields={"kind": [_("Unknown kind of step.")]})
    _ensure_dates(due_date, ends_on)
    ensure_assignable(owner, case, field="owner", message=_("Invalid step."))
    step = ProtectionStep(
        case=case, kind=kind, due_date=due_date, ends_on=ends_on, owner=owner, note=note.strip()
    )
    save_by(step, actor=actor)
    signals.step_changed.send(
        sender=ProtectionStep,
        referral_ids=[case.referral_id],
        kind=kind,
        created=True,
        fields=frozenset(),
    )
    return step


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
    check_version(step, expected_version)
    ensure_open(step.case)
    unknown = set(changes) - STEP_FIELDS
    if unknown:
        raise ValidationFailed(
            _("Invalid step."), fields={f: [_("This field cannot be changed.")] for f in unknown}
        )
    status = changes.get("status", step.status)
    moving = status != step.status
    if moving:
        if status not in StepStatus.values:
            raise ValidationFailed(_("Invalid step."), fields={"status": [_("Unknown status.")]})
        ensure_transition(step, to=status)
    updates: dict[str, Any] = {}
    if "owner" in changes:
        ensure_assignable(changes["owner"], step.case, field="owner", message=_("Invalid step."))
        updates["owner"] = changes["owner"]
    for name in ("due_date", "ends_on"):
        if name in changes:
            updates[name] = changes[name]
    if "note" in changes:
        updates["note"] = (changes["note"] or "").strip()
    _ensure_dates(updates.get("due_date", step.due_date), updates.get("ends_on", step.ends_on))
    if moving:
        done_at = (now or timezone.now()) if status == StepStatus.DONE else None
        transition(step, to=status, actor=actor, done_at=done_at, **updates)
    else:
        for name, value in updates.items():
            setattr(step, name, value)
        step.version += 1
        save_by(step, actor=actor)
    signals.step_changed.send(
        sender=ProtectionStep,
        referral_ids=[step.case.referral_id],
        kind=step.kind,
        created=False,
        fields=frozenset(changes),
    )
    return step


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
    save_by(note, actor=actor)
    return note


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
