"""Labels and durations for the association pages: codes from the domain (never
translated) shown with their translated labels."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.models import (
    CaseStatus,
    ClosureReason,
    ShareEnd,
    SharePart,
    SharePurpose,
    StepKind,
    StepStatus,
    TransferStatus,
)
from common.choices import ExploitationForm
from identification.models import EvidenceSection, Outcome, Stage
from identification.models import Status as IdentificationStatus
from referral.models import Need, RoutingOutcome, Sex

register = template.Library()

CHOICES = {
    "form": ExploitationForm,
    "need": Need,
    "sex": Sex,
    "step_kind": StepKind,
    "step_status": StepStatus,
    "case_status": CaseStatus,
    "closure": ClosureReason,
    "routing_outcome": RoutingOutcome,
    "transfer_status": TransferStatus,
    "share_part": SharePart,
    "share_purpose": SharePurpose,
    "share_end": ShareEnd,
    "identification_status": IdentificationStatus,
    "identification_stage": Stage,
    "outcome": Outcome,
    "evidence_section": EvidenceSection,
}

# DSFR badge variant per step status (the text says the status; colour helps).
STEP_BADGES = {
    StepStatus.PLANNED: "fr-badge--info",
    StepStatus.IN_PROGRESS: "fr-badge--new",
    StepStatus.DONE: "fr-badge--success",
    StepStatus.BLOCKED: "fr-badge--error",
    StepStatus.NOT_APPLICABLE: "",
    StepStatus.DECLINED_BY_PERSON: "",
}


@register.filter
def label(code: str, kind: str) -> str:
    """``{{ code|label:"form" }}``: the translated label of a domain code."""
    choices = CHOICES[kind]
    try:
        return str(choices(code).label)
    except ValueError:
        return code


@register.filter
def step_badge(status: str) -> str:
    return STEP_BADGES.get(status, "")


def duration_text(delta: timedelta) -> str:
    """A short, readable duration: "2 days 4 h", "3 h 20 min", "12 min"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        return f"{text} {hours} h" if hours else text
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}
