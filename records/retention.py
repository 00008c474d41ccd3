"""Retention (docs/privacy.md): after MNR_RETENTION_YEARS, MNR
forgets everything personal about a person and keeps what statistics count.

Two kinds of record reach the end of their retention:
- a case closed longer ago than the period;
- a referral that never became a case (withdrawn, anonymous notification,
  declined everywhere, left with the desk, or pending) whose last event —
  its own last change, a routing sent or answered — is older than the period.

For each, every field listed in ``common.personal_data.PERSONAL`` (identity and
every free text a person typed) and ``DERIVED`` (blind index, idempotency key
and fingerprint) is erased, in the rows and in every history row, of the
referral, the person, the routings and, for a case, its steps, notes,
transfers and shares. Statistical fields (age, sex, nationality, forms, places,
dates, outcomes) stay, so statistics are the same before and after.
``QuerySet.update()`` writes no new history row (which would copy them again).

Apart from retention, the idempotency key and fingerprint of a submission are
kept only as long as a retry makes sense (``MNR_IDEMPOTENCY_HOURS``, 24 h).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from agencies.system import system_user
from audit.models import AccessAction
from audit.services import access_log_write
from cases.models import Case
from common.personal_data import DERIVED, PERSONAL
from referral.models import Referral

# How each model holding personal fields is reached from one record: by the
# referral's id or by the case's id. A model listed in PERSONAL or DERIVED and
# missing here fails tests/privacy (retention would forget to erase it).
BY_REFERRAL = {
    "referral.Referral": "id",
    "referral.PresumedVictim": "referral_id",
    "referral.Routing": "referral_id",
    "identification.Decision": "identification__referral_id",
    "identification.Evidence": "identification__referral_id",
    "identification.Reconsideration": "identification__referral_id",
}
BY_CASE = {
    "cases.ProtectionStep": "case_id",
    "cases.CaseNote": "case_id",
    "cases.Transfer": "case_id",
    "cases.CaseShare": "case_id",
}


def retention_cutoff(now: datetime) -> datetime:
    years = settings.MNR_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def cases_due(now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    return Case.objects.filter(
        status=Case.Status.CLOSED,
        closed_at__lt=retention_cutoff(now),
        pseudonymised_at__isnull=True,
    )


def referrals_due(now: datetime | None = None) -> QuerySet[Referral]:
    """Referrals that never became a case and have had no event for the period."""
    cutoff = retention_cutoff(now or timezone.now())
    recent_routing = Q(routings__routed_at__gte=cutoff) | Q(routings__responded_at__gte=cutoff)
    return (
        Referral.objects.filter(case__isnull=True, pseudonymised_at__isnull=True)
        .filter(updated_at__lt=cutoff, submitted_at__lt=cutoff)
        .exclude(pk__in=Referral.objects.filter(recent_routing).values("pk"))
    )


def _erased(label: str) -> dict[str, str]:
    return dict.fromkeys((*PERSONAL.get(label, ()), *DERIVED.get(label, ())), "")


def _erase(table: dict[str, str], ids: list[int]) -> None:
    for label, column in table.items():
        model = apps.get_model(label)
        values = _erased(label)
        model.objects.filter(**{f"{column}__in": ids}).update(**values)
        model.history.filter(**{f"{column}__in": ids}).update(**values)


def _log(target_type: str, reference: str) -> None:
    access_log_write(
        action=AccessAction.PSEUDONYMISED,
        actor=system_user(),
        target_type=target_type,
        target_id=reference,
        detail={"retention_years": settings.MNR_RETENTION_YEARS},
    )


def pseudonymise_case(case_id: int, *, now: datetime) -> None:
    """Erase everything personal of one closed case, its referral and their history."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        if case.pseudonymised_at is not None:
            return
        _erase(BY_REFERRAL, [case.referral_id])
        _erase(BY_CASE, [case.pk])
        Case.objects.filter(pk=case_id).update(pseudonymised_at=now)
        Referral.objects.filter(pk=case.referral_id).update(pseudonymised_at=now)
        _log("case", case.reference)


def pseudonymise_referral(referral_id: int, *, now: datetime) -> bool:
    """Erase everything personal of a referral that never became a case; False
    when it is no longer due (a case opened or an event came in meanwhile)."""
    with transaction.atomic():
        referral = referrals_due(now).select_for_update(of=("self",)).filter(pk=referral_id).first()
        if referral is None:
            return False
        _erase(BY_REFERRAL, [referral.pk])
        Referral.objects.filter(pk=referral.pk).update(pseudonymised_at=now)
        _log("referral", referral.reference)
        return True


def apply_retention(*, now: datetime | None = None) -> int:
    """Pseudonymise every closed case and case-less referral past the period."""
    now = now or timezone.now()
    count = 0
    for case_id in list(cases_due(now).values_list("pk", flat=True)):
        pseudonymise_case(case_id, now=now)
        count += 1
    for referral_id in list(referrals_due(now).values_list("pk", flat=True)):
        count += pseudonymise_referral(referral_id, now=now)
    return count


def idempotency_expire(*, now: datetime | None = None) -> int:
    """Forget the idempotency key and fingerprint (an HMAC of the whole input,
    identity included) of submissions older than a retry window. A retry after
    it creates a new referral, which the duplicate flag shows."""
    now = now or timezone.now()
    before = now - timedelta(hours=settings.MNR_IDEMPOTENCY_HOURS)
    kept = ~Q(idempotency_key="") | ~Q(idempotency_fingerprint="")
    erased: dict[str, Any] = {"idempotency_key": "", "idempotency_fingerprint": ""}
    with transaction.atomic():
        ids = list(
            Referral.objects.filter(kept, submitted_at__lt=before).values_list("pk", flat=True)
        )
        Referral.objects.filter(pk__in=ids).update(**erased)
        Referral.history.filter(kept, id__in=ids).update(**erased)
    return len(ids)
