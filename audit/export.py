"""The GDPR access export of one person's record (DESIGN §4.6): everything MNR
holds on the person of a case, as JSON, for the owning association's manager."""

from __future__ import annotations

from typing import Any

from agencies.models import Membership, User
from cases.models import Case
from common.errors import NotAllowed

from .models import AccessAction
from .services import access_log_write


def case_export(*, case: Case, actor: User) -> dict[str, Any]:
    membership = getattr(actor, "membership", None)
    if (
        membership is None
        or membership.role != Membership.Role.MANAGER
        or membership.agency_id != case.association_id
    ):
        raise NotAllowed()
    referral = case.referral
    person = referral.person
    data = {
        "format": "mnr-access-export-1",
        "person": {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "estimated_age": person.estimated_age,
            "declared_minor": person.declared_minor,
            "presumed_minor": person.presumed_minor,
            "sex": person.sex,
            "nationality": person.nationality,
            "languages": person.languages,
            "phone": person.phone,
            "current_departement": person.current_departement_id,
        },
        "referral": {
            "reference": referral.reference,
            "submitted_at": referral.submitted_at.isoformat(),
            "referring_agency": referral.referring_agency.name,
            "immediate_danger": referral.immediate_danger,
            "exploitation_forms": referral.exploitation_forms,
            "exploitation_departement": referral.exploitation_departement_id,
            "exploitation_country": referral.exploitation_country,
            "indicators": referral.indicators,
            "needs": referral.needs,
            "narrative": referral.narrative,
            "consent_to_referral": referral.consent_to_referral,
            "routings": [
                {
                    "association": r.association.name,
                    "routed_at": r.routed_at.isoformat(),
                    "outcome": r.outcome,
                    "reason": r.reason,
                }
                for r in referral.routings.select_related("association").order_by("routed_at")
            ],
        },
        "case": {
            "reference": case.reference,
            "association": case.association.name,
            "status": case.status,
            "opened_at": case.opened_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "closure_reason": case.closure_reason,
            "steps": [
                {
                    "kind": s.kind,
                    "status": s.status,
                    "due_date": s.due_date.isoformat() if s.due_date else None,
                    "ends_on": s.ends_on.isoformat() if s.ends_on else None,
                    "done_at": s.done_at.isoformat() if s.done_at else None,
                    "note": s.note,
                }
                for s in case.steps.all()
            ],
            "notes": [
                {
                    "created_at": n.created_at.isoformat(),
                    "author": n.author.username,
                    "text": n.text,
                }
                for n in case.notes.all()
            ],
            "transfers": [
                {
                    "from": t.from_association.name,
                    "to": t.to_association.name,
                    "status": t.status,
                    "requested_at": t.requested_at.isoformat(),
                    "reason": t.reason,
                }
                for t in case.transfers.select_related("from_association", "to_association")
            ],
        },
    }
    access_log_write(
        action=AccessAction.CASE_EXPORT, actor=actor, target_type="case", target_id=case.reference
    )
    return data
