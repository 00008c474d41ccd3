"""The unit decides: the stage waited for, its outcomes and reasons, one
winner when two decide at once, and the recovery period shown on the plan."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, User
from cases.models import Case, ProtectionStep, StepKind, StepStatus
from common.errors import InvalidTransition, NotAllowed, PreconditionFailed, ValidationFailed
from common.transitions import ensure_transition, save_by, transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

from .. import grants
from ..models import (
    NEGATIVE,
    PENDING,
    STAGE_OUTCOMES,
    Decision,
    Identification,
    NegativeReason,
    Outcome,
    Stage,
    Status,
    WithdrawalReason,
)
from .opening import changed, lock

EXPLANATION_MAX = 5000

# Where each outcome leads.
OUTCOME_STATUS = {
    Outcome.POSITIVE: Status.PRESUMED,
    Outcome.NEGATIVE: Status.NOT_PRESUMED,
    Outcome.IDENTIFIED: Status.IDENTIFIED,
    Outcome.NOT_IDENTIFIED: Status.NOT_IDENTIFIED,
    Outcome.WITHDRAWN: Status.WITHDRAWN,
}


def _decision_errors(stage: str, outcome: str, reasons: list[str], explanation: str) -> dict:
    errors: dict[str, list] = {}
    if outcome not in STAGE_OUTCOMES[stage]:
        errors["outcome"] = [_("This outcome does not exist at this stage.")]
        return errors
    if outcome in (Outcome.NEGATIVE, Outcome.NOT_IDENTIFIED):
        if not reasons:
            errors["reasons"] = [_("Give at least one reason for a negative decision.")]
        elif set(reasons) - set(NegativeReason.values):
            errors["reasons"] = [_("Unknown reason.")]
        if not explanation:
            errors["explanation"] = [_("Explain the decision: the association reads it.")]
    elif outcome == Outcome.WITHDRAWN:
        if not reasons:
            errors["reasons"] = [_("Say why the file is withdrawn.")]
        elif set(reasons) - set(WithdrawalReason.values):
            errors["reasons"] = [_("Unknown reason.")]
    elif reasons:
        errors["reasons"] = [_("Reasons are given for negative decisions and withdrawals.")]
    if len(explanation) > EXPLANATION_MAX:
        errors["explanation"] = [_("At most 5,000 characters.")]
    return errors


@transaction.atomic
def identification_decide(
    *,
    identification_id: int,
    actor: User,
    outcome: str,
    reasons: list[str] | None = None,
    explanation: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Identification:
    """The unit decides the stage being waited for. Two members deciding the
    same file at once: the row lock makes one win, the other gets a 409."""
    now = now or timezone.now()
    identification = lock(identification_id)
    if not grants.holds(actor, grants.DECIDE, identification.pk):
        raise NotAllowed(_("Only the identification unit deciding this file can decide."))
    if expected_version is not None and identification.version != expected_version:
        raise PreconditionFailed(_("Someone changed this since you read it: reload and try again."))
    if identification.status not in PENDING:
        raise InvalidTransition(_("No decision is waited for on this file."))
    if identification.reconsideration_excluded_id == actor.pk:
        raise NotAllowed(_("A reconsideration is decided by another member of the unit."))
    stage = PENDING[identification.status]
    reasons = sorted(set(reasons or []))
    explanation = (explanation or "").strip()
    errors = _decision_errors(stage, outcome, reasons, explanation)
    if errors:
        raise ValidationFailed(_("Invalid decision."), fields=errors)
    to = OUTCOME_STATUS[outcome]
    ensure_transition(identification, to=to)
    reconsidering = identification.status in (
        Status.PRELIMINARY_RECONSIDERATION,
        Status.FORMAL_RECONSIDERATION,
    )
    today = timezone.localdate(now)
    changes: dict = {
        "decide_by": None,
        "reminded_at": None,
        "escalated_at": None,
        "reconsideration_excluded": None,
        "reconsider_until": None,
    }
    if stage == Stage.PRELIMINARY:
        changes["preliminary_decided_at"] = now
    else:
        changes["formal_decided_at"] = now
    if outcome == Outcome.POSITIVE:
        changes["recovery_starts_on"] = today
        changes["recovery_ends_on"] = today + timedelta(days=settings.MNR_RECOVERY_PERIOD_DAYS)
    if to in NEGATIVE and not reconsidering:
        changes["reconsider_until"] = today + timedelta(days=settings.MNR_RECONSIDERATION_DAYS)
    transition(identification, to=to, actor=actor, **changes)
    decision = Decision(
        identification=identification,
        stage=stage,
        outcome=outcome,
        reasons=reasons,
        explanation=explanation,
        reconsideration=reconsidering,
        decided_by=actor,
        decided_at=now,
    )
    save_by(decision, actor=actor)
    if not grants.expected_open(identification):
        grants.end_unit(identification=identification)
    if outcome == Outcome.POSITIVE:
        show_recovery_on_plan(identification, actor=actor)
    association = _association_of(identification)
    if association is not None:
        outbox_enqueue(
            kind=OutboxMessage.Kind.IDENTIFICATION_DECIDED,
            reference=identification.referral.reference,
            agency=association,
        )
    changed(identification)
    return identification


def _association_of(identification: Identification) -> Agency | None:
    case = Case.objects.filter(referral_id=identification.referral_id).select_related("association")
    found = case.first()
    if found is not None:
        return found.association
    routing = identification.referral.routings.filter(outcome="pending").first()
    return routing.association if routing is not None else None


def show_recovery_on_plan(identification: Identification, *, actor: User) -> None:
    """The recovery and reflection period starts with a positive preliminary
    decision: the case's step shows its real dates (added if missing)."""
    case = Case.objects.filter(referral_id=identification.referral_id).first()
    if case is None or identification.recovery_starts_on is None:
        return  # shown when the case opens (receivers.show_recovery_on_new_case)
    step = (
        ProtectionStep.objects.select_for_update()
        .filter(case=case, kind=StepKind.REFLECTION_PERIOD)
        .exclude(status__in=(StepStatus.DONE, StepStatus.NOT_APPLICABLE))
        .first()
    )
    if step is None:
        step = ProtectionStep(case=case, kind=StepKind.REFLECTION_PERIOD)
    step.due_date = identification.recovery_starts_on
    step.ends_on = identification.recovery_ends_on
    if step.pk is not None:
        step.version += 1
    if step.status == StepStatus.PLANNED:
        step.status = StepStatus.IN_PROGRESS
    save_by(step, actor=actor)
