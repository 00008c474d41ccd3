"""The association works on the file: its first assessment and evidence,
asking for the formal decision after the recovery period, asking for a
reconsideration of a negative decision."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import User
from cases import grants as case_grants
from cases.models import Case
from common.errors import InvalidTransition, NotAllowed, ValidationFailed
from common.transitions import ensure_transition, save_by, transition
from common.workdays import add_working_days
from referral import grants as referral_grants
from referral import indicators

from ..models import (
    NEGATIVE,
    Evidence,
    EvidenceSection,
    Identification,
    Reconsideration,
    Stage,
    Status,
)
from .opening import changed, lock, preliminary_deadline

TEXT_MAX = 5000


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
    identification = lock(identification_id)
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
    identification = lock(identification_id)
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
    changed(identification)
    return identification


@transaction.atomic
def reconsideration_request(
    *, identification_id: int, actor: User, new_elements: str, now: datetime | None = None
) -> Identification:
    """The association (for the person) asks to reconsider a negative decision,
    within MNR_RECONSIDERATION_DAYS, once per stage, with new elements; another
    member of the unit decides."""
    now = now or timezone.now()
    identification = lock(identification_id)
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
    changed(identification)
    return identification
