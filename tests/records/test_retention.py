"""Retention: old closed cases pseudonymised in records and history, statistics
unchanged. The GDPR access export: test_export.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from audit.models import AccessLog
from cases.models import Case, CaseNote, ProtectionStep
from records.tasks import apply_retention_task
from referral.models import PresumedVictim, Referral
from tests.records.conftest import ADULT_BODY, MINOR_BODY, accept, body

pytestmark = pytest.mark.django_db


def statistics() -> dict:
    """What the statistics app aggregates: none of it may change."""
    people = PresumedVictim.objects.values(
        "sex", "nationality", "age_years", "presumed_minor", "current_departement"
    ).annotate(n=Count("pk"))
    referrals = Referral.objects.values(
        "status", "exploitation_departement", "exploitation_country", "immediate_danger"
    ).annotate(n=Count("pk"))
    forms = sorted(
        str(sorted(f)) for f in Referral.objects.values_list("exploitation_forms", flat=True)
    )
    cases = Case.objects.values("status", "closure_reason", "association").annotate(n=Count("pk"))
    steps = ProtectionStep.objects.values("kind", "status").annotate(n=Count("pk"))
    return {
        "people": sorted(map(str, people)),
        "referrals": sorted(map(str, referrals)),
        "forms": forms,
        "cases": sorted(map(str, cases)),
        "steps": sorted(map(str, steps)),
    }


def close(api, world, reference, worker, *, years_ago=0):
    tag = api.get(worker, f"/api/v1/cases/{reference}/").headers["ETag"]
    api.post(
        worker,
        f"/api/v1/cases/{reference}/close/",
        {"reason": "support_completed"},
        HTTP_IF_MATCH=tag,
    )
    if years_ago:
        Case.objects.filter(reference=reference).update(
            closed_at=timezone.now() - timedelta(days=365 * years_ago + 5)
        )


def test_retention_erases_identity_in_records_and_history_and_keeps_statistics(
    api, world, settings
):
    settings.MNR_RETENTION_YEARS = 5
    old = accept(api, world, ADULT_BODY, world.paris_worker)["reference"]
    api.post(
        world.paris_worker,
        f"/api/v1/cases/{old}/notes/",
        {"text": "Adresse de l'hébergement : 12 rue X"},
    )
    recent = accept(
        api, world, body(ADULT_BODY, person={"family_name": "Recent"}), world.paris_worker
    )["reference"]
    still_open = accept(api, world, MINOR_BODY, world.minors_worker)["reference"]
    close(api, world, old, world.paris_worker, years_ago=6)
    close(api, world, recent, world.paris_worker, years_ago=1)
    before = statistics()

    call_command("apply_retention")

    after = statistics()
    assert after == before
    person = PresumedVictim.objects.get(referral__reference=old)
    assert (person.given_name, person.family_name, person.date_of_birth, person.phone) == (
        "",
        "",
        "",
        "",
    )
    assert person.blind_index == ""
    assert person.sex == "female" and person.nationality == "NG" and person.age_years is not None
    assert all(h.family_name == "" and h.phone == "" for h in person.history.all())
    referral = Referral.objects.get(reference=old)
    assert referral.narrative == "" and all(h.narrative == "" for h in referral.history.all())
    assert all(n.text == "" for n in CaseNote.objects.filter(case__reference=old))
    assert all(h.text == "" for h in CaseNote.history.filter(case__reference=old))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM referral_historicalpresumedvictim WHERE family_name = ''"
        )
        assert cursor.fetchone()[0] >= 1
    assert Case.objects.get(reference=old).pseudonymised_at is not None
    # Untouched: a case closed one year ago, and an open case.
    assert PresumedVictim.objects.get(referral__reference=recent).family_name == "Recent"
    assert PresumedVictim.objects.get(referral__reference=still_open).given_name == "Ionut"
    entry = AccessLog.objects.get(action="data.pseudonymised")
    assert entry.target_id == old
    # Idempotent, also as the beat task.
    assert apply_retention_task() == 0
    assert statistics() == before
