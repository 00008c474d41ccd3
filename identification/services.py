"""Every state change of identification files (docs/identification.md).

The unit decides through its grants (identification.grants); the association
works on the file (first assessment, evidence, submission for the formal
decision, reconsideration) through its own grants on the case, or on the
referral before acceptance. Every move goes through the declared transitions
(common.transitions.transition) with the actor in the history, and each
decision is also a ``Decision`` row. Nothing here reads whether a complaint
was filed: a decision never depends on one (tests/identification).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, User
from agencies.system import system_user
from cases import grants as case_grants
from cases.models import Case, ProtectionStep, StepKind, StepStatus
from common.errors import InvalidTransition, NotAllowed, PreconditionFailed, ValidationFailed
from common.transitions import ensure_transition, save_by, transition
from common.workdays import add_working_days, working_days_between
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from referral import grants as referral_grants
from referral import indicators
from referral.models import Referral, ReferralStatus

from . import grants, signals
from .models import (
    FINAL,
    NEGATIVE,
    PENDING,
    STAGE_OUTCOMES,
    Decision,
    Evidence,
    EvidenceSection,
    Identification,
    NegativeReason,
    Outcome,
    Reconsideration,
    Stage,
    Status,
    WithdrawalReason,
)

logger = logging.getLogger(__name__)

EXPLANATION_MAX = 5000
TEXT_MAX = 5000

# Where each outcome leads.
OUTCOME_STATUS = {
    Outcome.POSITIVE: Status.PRESUMED,
    Outcome.NEGATIVE: Status.NOT_PRESUMED,
    Outcome.IDENTIFIED: Status.IDENTIFIED,
    Outcome.NOT_IDENTIFIED: Status.NOT_IDENTIFIED,
    Outcome.WITHDRAWN: Status.WITHDRAWN,
}


def _changed(identification: Identification) -> None:
    signals.identification_changed.send(
        sender=Identification, referral_ids=[identification.referral_id]
    )


# --- opening ------------------------------------------------------------------------


def unit_for(referral: Referral) -> Agency | None:
    """The unit that decides this referral: the active unit of the region of its
    territory (MNR_IDENTIFICATION_REGIONAL), else the active national unit
    (one without a département)."""
    units = Agency.objects.filter(kind=Agency.Kind.IDENTIFICATION_UNIT, active=True).order_by("pk")
    code = referral.routing_departement_id
    if settings.MNR_IDENTIFICATION_REGIONAL and code:
        regional = (
            units.filter(departement__region__departements__code=code)
            .select_related("group")
            .first()
        )
        if regional is not None:
            return regional
    return units.filter(departement__isnull=True).select_related("group").first()


def preliminary_deadline(*, minor: bool, danger: bool, now: datetime) -> datetime:
    days = settings.MNR_IDENTIFICATION_DAYS
    if minor:
        days = min(days, settings.MNR_IDENTIFICATION_DAYS_MINOR)
    if danger:
        days = min(days, settings.MNR_IDENTIFICATION_DAYS_DANGER)
    return add_working_days(now, days)


@transaction.atomic
def identification_open(*, referral: Referral, now: datetime) -> Identification | None:
    """Open the file of a routed referral, once (never for an anonymous
    notification). Without any unit to decide it, the coordination desk is told
    and the hourly sweep opens it when a unit exists."""
    if referral.status == ReferralStatus.NOTIFIED:
        return None
    existing = Identification.objects.filter(referral=referral).first()
    if existing is not None:
        return existing
    unit = unit_for(referral)
    if unit is None:
        logger.warning("No identification unit for referral %s", referral.reference)
        outbox_enqueue(
            kind=OutboxMessage.Kind.IDENTIFICATION_NO_UNIT,
            reference=referral.reference,
            coordination_desk=True,
        )
        return None
    minor = referral.person.presumed_minor
    identification = Identification(
        referral=referral,
        unit=unit,
        minor=minor,
        immediate_danger=referral.immediate_danger,
        opened_at=now,
        decide_by=preliminary_deadline(minor=minor, danger=referral.immediate_danger, now=now),
    )
    save_by(identification, actor=system_user())
    grants.grant_unit(identification=identification)
    _changed(identification)
    return identification


# --- the unit decides -----------------------------------------------------------------


def _lock(identification_id: int) -> Identification:
    return (
        Identification.objects.select_for_update(of=("self",))
        .select_related("referral", "unit")
        .get(pk=identification_id)
    )


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
    identification = _lock(identification_id)
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
    _changed(identification)
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


# --- the association works on the file ------------------------------------------------


def association_may_work(user: User, identification: Identification) -> bool:
    """The owning association's staff (change_case on the case), or before
    acceptance the association the referral is routed to (respond_referral)."""
    case_id = (
        Case.objects.filter(referral_id=identification.referral_id)
        .values_list("pk", flat=True)
        .first()
    )
    if case_id is not None:
        return case_grants.holds(user, case_grants.CHANGE, case_id)
    return referral_grants.holds(user, referral_grants.RESPOND, identification.referral_id)


def _ensure_association(actor: User, identification: Identification) -> None:
    if not association_may_work(actor, identification):
        raise NotAllowed(_("Only the association supporting the person can do this."))


@transaction.atomic
def evidence_add(
    *,
    identification_id: int,
    actor: User,
    section: str,
    text: str,
    indicator: str = "",
    on_date=None,
    now: datetime | None = None,
) -> Evidence:
    now = now or timezone.now()
    identification = _lock(identification_id)
    _ensure_association(actor, identification)
    if identification.status in (Status.IDENTIFIED, Status.WITHDRAWN):
        raise InvalidTransition(_("The file is decided: nothing can be added."))
    errors: dict[str, list] = {}
    text = (text or "").strip()
    if section not in EvidenceSection.values:
        errors["section"] = [_("Choose a section.")]
    if not text:
        errors["text"] = [_("Describe it in a few words.")]
    elif len(text) > TEXT_MAX:
        errors["text"] = [_("At most 5,000 characters.")]
    if section == EvidenceSection.INDICATOR_CONFIRMED:
        known = indicators.codes_for(minor=identification.minor)
        if indicator not in known:
            errors["indicator"] = [_("Choose an indicator of the list.")]
    elif indicator:
        errors["indicator"] = [_("An indicator is given for a confirmed indicator only.")]
    if on_date is not None and on_date > timezone.localdate(now):
        errors["on_date"] = [_("The date cannot be in the future.")]
    if errors:
        raise ValidationFailed(_("Invalid evidence."), fields=errors)
    evidence = Evidence(
        identification=identification,
        section=section,
        indicator=indicator,
        on_date=on_date,
        text=text,
        added_by=actor,
        added_at=now,
    )
    save_by(evidence, actor=actor)
    return evidence


@transaction.atomic
def evidence_submit(
    *, identification_id: int, actor: User, now: datetime | None = None
) -> Identification:
    """The association asks for the formal decision: not before the end of the
    recovery period, on a file with at least one entry besides the first
    assessment."""
    now = now or timezone.now()
    identification = _lock(identification_id)
    _ensure_association(actor, identification)
    ensure_transition(identification, to=Status.FORMAL_PENDING)
    today = timezone.localdate(now)
    if identification.recovery_ends_on is None or today < identification.recovery_ends_on:
        raise InvalidTransition(
            _("The formal decision is asked for after the recovery period (until %(date)s).")
            % {"date": identification.recovery_ends_on.strftime("%d/%m/%Y")}
        )
    if not identification.evidence.exclude(section=EvidenceSection.FIRST_ASSESSMENT).exists():
        raise ValidationFailed(
            _("Invalid evidence."),
            fields={"evidence": [_("Add what the file rests on before asking for a decision.")]},
        )
    transition(
        identification,
        to=Status.FORMAL_PENDING,
        actor=actor,
        evidence_submitted_at=now,
        decide_by=add_working_days(now, settings.MNR_FORMAL_DECISION_DAYS),
        reminded_at=None,
        escalated_at=None,
    )
    _changed(identification)
    return identification


@transaction.atomic
def reconsideration_request(
    *, identification_id: int, actor: User, new_elements: str, now: datetime | None = None
) -> Identification:
    """The association (for the person) asks to reconsider a negative decision,
    within MNR_RECONSIDERATION_DAYS, once per stage, with new elements; another
    member of the unit decides."""
    now = now or timezone.now()
    identification = _lock(identification_id)
    _ensure_association(actor, identification)
    if identification.status not in NEGATIVE:
        raise InvalidTransition(_("Only a negative decision can be reconsidered."))
    stage = identification.stage
    today = timezone.localdate(now)
    if identification.reconsider_until is None or today > identification.reconsider_until:
        raise InvalidTransition(_("The period to ask for a reconsideration has ended."))
    new_elements = (new_elements or "").strip()
    if not new_elements:
        raise ValidationFailed(
            _("Invalid request."),
            fields={"new_elements": [_("Say what is new since the decision.")]},
        )
    if len(new_elements) > TEXT_MAX:
        raise ValidationFailed(
            _("Invalid request."), fields={"new_elements": [_("At most 5,000 characters.")]}
        )
    if identification.reconsiderations.filter(stage=stage).exists():
        raise InvalidTransition(_("This decision was already reconsidered."))
    last = identification.decisions.filter(stage=stage).order_by("-decided_at", "-pk").first()
    save_by(
        Reconsideration(
            identification=identification,
            stage=stage,
            new_elements=new_elements,
            requested_by=actor,
            requested_at=now,
        ),
        actor=actor,
    )
    to = (
        Status.PRELIMINARY_RECONSIDERATION
        if stage == Stage.PRELIMINARY
        else Status.FORMAL_RECONSIDERATION
    )
    deadline = (
        preliminary_deadline(
            minor=identification.minor, danger=identification.immediate_danger, now=now
        )
        if stage == Stage.PRELIMINARY
        else add_working_days(now, settings.MNR_FORMAL_DECISION_DAYS)
    )
    transition(
        identification,
        to=to,
        actor=actor,
        decide_by=deadline,
        reminded_at=None,
        escalated_at=None,
        reconsider_until=None,
        reconsideration_excluded=last.decided_by if last else None,
    )
    _changed(identification)
    return identification


# --- the process ------------------------------------------------------------------------


@transaction.atomic
def identification_withdraw_for_referral(*, referral: Referral, actor: User, now: datetime) -> None:
    """The author withdrew the referral: a file still waiting is withdrawn."""
    identification = (
        Identification.objects.select_for_update(of=("self",))
        .filter(referral=referral)
        .exclude(status__in=list(FINAL))
        .first()
    )
    if identification is None or Status.WITHDRAWN not in identification.ALLOWED_TRANSITIONS.get(
        identification.status, set()
    ):
        return
    transition(identification, to=Status.WITHDRAWN, actor=actor, decide_by=None)
    grants.end_unit(identification=identification)
    _changed(identification)


def deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Hourly: remind the unit before a deadline, tell the coordination desk when
    one is missed, end the unit's grants when a reconsideration period passes,
    and open the files a missing unit left unopened. Idempotent."""
    now = now or timezone.now()
    done = {"reminded": 0, "escalated": 0, "closed": 0, "opened": 0}
    pending = Identification.objects.filter(status__in=list(PENDING))
    for identification in pending.filter(reminded_at__isnull=True, decide_by__isnull=False):
        left = working_days_between(
            timezone.localdate(now), timezone.localdate(identification.decide_by)
        )
        if now >= identification.decide_by or left > settings.MNR_IDENTIFICATION_REMINDER_DAYS:
            continue
        with transaction.atomic():
            locked = _lock(identification.pk)
            if locked.reminded_at is not None or locked.status not in PENDING:
                continue
            outbox_enqueue(
                kind=OutboxMessage.Kind.IDENTIFICATION_DUE,
                reference=locked.referral.reference,
                agency=locked.unit,
            )
            locked.reminded_at = now
            save_by(locked, actor=system_user(), update_fields=["reminded_at"])
            done["reminded"] += 1
    for pk in pending.filter(escalated_at__isnull=True, decide_by__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            locked = _lock(pk)
            if locked.escalated_at is not None or locked.status not in PENDING:
                continue
            outbox_enqueue(
                kind=OutboxMessage.Kind.IDENTIFICATION_OVERDUE,
                reference=locked.referral.reference,
                coordination_desk=True,
            )
            locked.escalated_at = now
            save_by(locked, actor=system_user(), update_fields=["escalated_at"])
            done["escalated"] += 1
    today = timezone.localdate(now)
    for pk in Identification.objects.filter(
        status__in=list(NEGATIVE), reconsider_until__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            locked = _lock(pk)
            if locked.reconsider_until is None or locked.reconsider_until >= today:
                continue
            locked.reconsider_until = None
            save_by(locked, actor=system_user(), update_fields=["reconsider_until"])
            grants.end_unit(identification=locked)
            _changed(locked)
            done["closed"] += 1
    unopened = (
        Referral.objects.filter(routings__isnull=False, identification__isnull=True)
        .exclude(status__in=(ReferralStatus.NOTIFIED, ReferralStatus.WITHDRAWN))
        .select_related("person")
        .distinct()
    )
    if Agency.objects.filter(kind=Agency.Kind.IDENTIFICATION_UNIT, active=True).exists():
        for referral in unopened[:500]:
            if identification_open(referral=referral, now=now) is not None:
                done["opened"] += 1
    return done
