"""Labels for the identification pages: a decision's reasons and an evidence
entry's indicator by their text, the DSFR badge of a file's status. (Status,
stage, outcome and section codes use ``label`` from the association library.)"""

from __future__ import annotations

from django import template

from identification.models import NegativeReason, Status, WithdrawalReason
from referral import indicators

from .. import present

register = template.Library()

REASONS = {**dict(NegativeReason.choices), **dict(WithdrawalReason.choices)}

# DSFR badge variant per status (the text says the status; colour helps).
STATUS_BADGES = {
    Status.PRELIMINARY_PENDING: "fr-badge--info",
    Status.PRELIMINARY_RECONSIDERATION: "fr-badge--info",
    Status.FORMAL_PENDING: "fr-badge--info",
    Status.FORMAL_RECONSIDERATION: "fr-badge--info",
    Status.PRESUMED: "fr-badge--new",
    Status.IDENTIFIED: "fr-badge--success",
    Status.NOT_PRESUMED: "fr-badge--warning",
    Status.NOT_IDENTIFIED: "fr-badge--warning",
    Status.WITHDRAWN: "",
}


@register.filter
def reason_label(code: str) -> str:
    return str(REASONS.get(code, code))


@register.filter
def indicator_label(code: str) -> str:
    """An evidence entry's indicator (codes of the current list, as evidence_add checks)."""
    return present.indicator_labels([code], indicators.CURRENT_VERSION)[0] if code else ""


@register.filter
def identification_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "")
