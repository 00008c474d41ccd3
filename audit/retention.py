"""Retention (DESIGN §4.6): cases closed longer ago than MNR_RETENTION_YEARS are
pseudonymised. Identity fields (names, date of birth, phone, narrative) and free
texts (case notes, step notes) are erased in the records and in their history;
statistical fields (age, sex, nationality, forms, places, dates, outcomes) stay,
so statistics are the same before and after.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agencies.system import system_user
from cases.models import Case, CaseNote, ProtectionStep
from referral.models import PresumedVictim, Referral

from .models import AccessAction
from .services import access_log_write

PERSON_ERASED = {"given_name": "", "family_name": "", "date_of_birth": "", "phone": ""}


def retention_cutoff(now: datetime) -> datetime:
    years = settings.MNR_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def cases_due(now: datetime | None = None):
    now = now or timezone.now()
    return Case.objects.filter(
        status=Case.Status.CLOSED,
        closed_at__lt=retention_cutoff(now),
        pseudonymised_at__isnull=True,
    )


def pseudonymise_case(case_id: int, *, now: datetime) -> None:
    """Erase one case's identity fields and free texts, and their history.
    QuerySet.update() writes no new history row (which would copy them again)."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case_id)
        )
        if case.pseudonymised_at is not None:
            return
        referral_id = case.referral_id
        person_ids = list(
            PresumedVictim.objects.filter(referral_id=referral_id).values_list("pk", flat=True)
        )
        PresumedVictim.objects.filter(pk__in=person_ids).update(blind_index="", **PERSON_ERASED)
        PresumedVictim.history.filter(id__in=person_ids).update(blind_index="", **PERSON_ERASED)
        Referral.objects.filter(pk=referral_id).update(narrative="")
        Referral.history.filter(id=referral_id).update(narrative="")
        ProtectionStep.objects.filter(case_id=case_id).update(note="")
        ProtectionStep.history.filter(case_id=case_id).update(note="")
        CaseNote.objects.filter(case_id=case_id).update(text="")
        CaseNote.history.filter(case_id=case_id).update(text="")
        Case.objects.filter(pk=case_id).update(pseudonymised_at=now)
        access_log_write(
            action=AccessAction.PSEUDONYMISED,
            actor=system_user(),
            target_type="case",
            target_id=case.reference,
            detail={"retention_years": settings.MNR_RETENTION_YEARS},
        )


def apply_retention(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    ids = list(cases_due(now).values_list("pk", flat=True))
    for case_id in ids:
        pseudonymise_case(case_id, now=now)
    return len(ids)
