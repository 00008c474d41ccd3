"""Retention forgets everything personal: closed cases and referrals that never
became a case, in rows and history; statistics unchanged; idempotency
fingerprints kept only for the retry window; failed sign-ins never keep the
typed text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from audit.models import AccessLog
from cases.models import Case
from common.personal_data import DERIVED, PERSONAL
from records.retention import BY_CASE, BY_REFERRAL, idempotency_expire, referrals_due
from records.tasks import apply_retention_task, idempotency_expire_task
from referral.models import PresumedVictim, Referral, Routing
from stats.models import ReferralFact
from stats.services import facts_rebuild, stats_publish
from tests.privacy.conftest import ADULT_BODY, MINOR_BODY, accept, body

pytestmark = pytest.mark.django_db

OLD = "Zephyrine Quaglietti"  # in every text of the records past the period
NEW = "Bartholomeo Recent"  # in the records still kept


def _person(marker: str, dob: str) -> dict:
    given, family = marker.split()
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": dob,
        "phone": "06 11 22 33 44",
    }


def _with(marker: str, data: dict, dob: str = "1998-03-17") -> dict:
    return body(
        data,
        person=_person(marker, dob),
        narrative=f"Récit : {marker} a été recrutée par son oncle.",
        exploitation_forms=[*data["exploitation_forms"], "other"],
        exploitation_other_detail=f"Mendicité imposée par {marker}",
    )


def _age(*references: str, years: int = 6) -> None:
    """Move every event of these records `years` into the past."""
    then = timezone.now() - timedelta(days=365 * years + 5)
    referrals = Referral.objects.filter(reference__in=references)
    Routing.objects.filter(referral__in=referrals).update(routed_at=then, responded_at=then)
    Case.objects.filter(referral__in=referrals, status="closed").update(closed_at=then)
    referrals.update(submitted_at=then, updated_at=then)


def _case_with_everything(api, world, marker: str) -> str:
    """A case whose every free text names `marker`: notes, a step note, a
    transfer asked and refused with reasons, then closed."""
    ref = accept(api, world, _with(marker, ADULT_BODY), world.paris_worker)["reference"]
    api.post(world.paris_worker, f"/api/v1/cases/{ref}/notes/", {"text": f"Vu {marker}"})
    step = api.post(
        world.paris_worker,
        f"/api/v1/cases/{ref}/steps/",
        {"kind": "lawyer", "due_date": "2026-12-10", "note": f"Avocat de {marker}"},
    )
    assert step.status_code == 201, step.content
    transfer = api.post(
        world.paris_worker,
        f"/api/v1/cases/{ref}/transfer/",
        {"to_association": world.national.pk, "reason": f"{marker} menacée à Paris"},
    )
    assert transfer.status_code == 201, transfer.content
    rejected = api.post(
        world.national_worker,
        f"/api/v1/transfers/{transfer.json()['id']}/reject/",
        {"reason": f"Pas de place pour {marker}"},
    )
    assert rejected.status_code == 200, rejected.content
    tag = api.get(world.paris_worker, f"/api/v1/cases/{ref}/").headers["ETag"]
    closed = api.post(
        world.paris_worker,
        f"/api/v1/cases/{ref}/close/",
        {"reason": "support_completed"},
        HTTP_IF_MATCH=tag,
    )
    assert closed.status_code == 200, closed.content
    return ref


def _minor_case_shared(api, world, marker: str) -> str:
    ref = accept(api, world, _with(marker, MINOR_BODY, "2010-05-05"), world.minors_worker)[
        "reference"
    ]
    shared = api.post(
        world.minors_worker,
        f"/api/v1/cases/{ref}/shares/",
        {
            "grantee": world.crip_referrer.username,
            "purpose": "child_protection",
            "purpose_detail": f"Évaluation pour {marker}",
            "parts": ["profile"],
            "until": str(timezone.localdate() + timedelta(days=30)),
        },
    )
    assert shared.status_code == 201, shared.content
    tag = api.get(world.minors_worker, f"/api/v1/cases/{ref}/").headers["ETag"]
    api.post(
        world.minors_worker,
        f"/api/v1/cases/{ref}/close/",
        {"reason": "support_completed"},
        HTTP_IF_MATCH=tag,
    )
    return ref


def _withdrawn(api, world, marker: str) -> str:
    ref = api.submitted(world.referrer, _with(marker, ADULT_BODY, "1990-01-01"))["reference"]
    r = api.post(
        world.referrer, f"/api/v1/referrals/{ref}/withdraw/", {"reason": f"Doublon de {marker}"}
    )
    assert r.status_code == 200, r.content
    return ref


def _escalated(api, world, marker: str) -> str:
    ref = api.submitted(world.referrer, _with(marker, ADULT_BODY, "1991-01-01"))["reference"]
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        r = api.post(
            worker,
            f"/api/v1/routings/{routing['id']}/decline/",
            {"reason": f"Nous connaissons {marker}"},
        )
        assert r.status_code == 200, r.content
    assert Referral.objects.get(reference=ref).status == "escalated"
    return ref


def _pending(api, world, marker: str) -> str:
    return api.submitted(world.referrer, _with(marker, ADULT_BODY, "1992-01-01"))["reference"]


def _notified(api, world) -> str:
    anonymous = {
        "exploitation_forms": ["other"],
        "exploitation_other_detail": f"Travail forcé chez {OLD}",
        "exploitation_departement": "75",
        "consent_to_referral": False,
        "person": {"estimated_age": 35, "sex": "male", "nationality": "PK"},
    }
    r = api.submit(world.referrer, anonymous)
    assert r.status_code == 201 and r.json()["status"] == "notified", r.content
    return r.json()["reference"]


def _texts(marker: str) -> list[str]:
    """Every personal or derived value, in rows and history, naming `marker` or
    left non-empty on the records of `marker`."""
    found = []
    for label in {*PERSONAL, *DERIVED}:
        model = apps.get_model(label)
        names = (*PERSONAL.get(label, ()), *DERIVED.get(label, ()))
        for manager in (model.objects, model.history):
            for row in manager.values_list(*names):
                found += [f"{label}:{v}" for v in row if marker.split()[0] in str(v)]
    return found


def _unpublished(value):
    """The answer without its publication time (a new publication is made)."""
    if isinstance(value, dict):
        return {k: _unpublished(v) for k, v in value.items() if k != "published_at"}
    if isinstance(value, list):
        return [_unpublished(v) for v in value]
    return value


def _statistics(api, world) -> dict:
    """What an analyst reads: the facts table, a survey and a crossing, recomputed
    from the records (rebuilt and published again)."""
    facts_rebuild()
    stats_publish()
    rows = sorted(
        str(r)
        for r in ReferralFact.objects.order_by("referral_id", "form").values(
            *[f.attname for f in ReferralFact._meta.concrete_fields if f.attname != "id"]
        )
    )
    year = timezone.now().year
    survey = api.get(world.analyst, f"/api/v1/stats/reports/survey/?year={year - 6}")
    crossing = api.get(world.analyst, "/api/v1/stats/referrals/?by=sex,age_group,exploitation_form")
    assert survey.status_code == 200 and crossing.status_code == 200
    figures, crossed = _unpublished(survey.json()), _unpublished(crossing.json())
    shown = [r for r in crossed["rows"] if r["count"] is not None]
    assert shown, "the crossing must show figures for the comparison to mean something"
    return {"facts": rows, "survey": figures, "crossing": crossed}


def test_retention_forgets_every_record_past_the_period_and_nothing_else(api, world, settings):
    settings.MNR_RETENTION_YEARS = 5
    settings.MNR_THROTTLE_STATS = "1000/min"
    settings.MNR_STATS_THRESHOLD = 1  # show the small test figures (perturbation stays on)
    old = [
        _case_with_everything(api, world, OLD),
        _minor_case_shared(api, world, OLD),
        _withdrawn(api, world, OLD),
        _escalated(api, world, OLD),
    ]
    kept = [
        _case_with_everything(api, world, NEW),  # closed, but recently
        _withdrawn(api, world, NEW),  # no case, but recent
    ]
    old += [_pending(api, world, OLD), _notified(api, world)]
    _age(*old)
    # Another case-less referral, old, but answered recently: its last event counts.
    answered = _pending(api, world, NEW)
    _age(answered)
    Routing.objects.filter(referral__reference=answered).update(responded_at=timezone.now())
    assert _texts(OLD), "the markers must be there before"
    before = _statistics(api, world)

    call_command("apply_retention")

    assert _texts(OLD) == []
    assert len(_texts(NEW)) > 20  # the recent records keep every text
    for ref in old:
        referral = Referral.objects.get(reference=ref)
        assert referral.pseudonymised_at is not None
        assert referral.idempotency_key == referral.idempotency_fingerprint == ""
        if hasattr(referral, "person"):
            assert referral.person.blind_index == ""
            assert set(referral.person.history.values_list("blind_index", flat=True)) == {""}
            # What statistics count stays.
            assert referral.person.sex != "" and referral.person.age_years is not None
    assert (
        Referral.objects.filter(reference__in=[*kept, answered], pseudonymised_at=None).count() == 3
    )
    logged = set(
        AccessLog.objects.filter(action="data.pseudonymised").values_list("target_id", flat=True)
    )
    cases = set(
        Case.objects.filter(referral__reference__in=old).values_list("reference", flat=True)
    )
    assert logged == cases | (set(old) - cases)
    assert _statistics(api, world) == before
    # Idempotent, also as the beat task.
    assert apply_retention_task() == 0
    assert not referrals_due().exists()


def test_every_model_with_personal_fields_is_reached_by_retention():
    assert {*PERSONAL, *DERIVED} == {*BY_REFERRAL, *BY_CASE}


def test_the_idempotency_fingerprint_lives_only_for_the_retry_window(api, world, settings):
    settings.MNR_IDEMPOTENCY_HOURS = 24
    key = {"HTTP_IDEMPOTENCY_KEY": "6f0f3b1e-retry"}
    first = api.submit(world.referrer, ADULT_BODY, **key)
    assert first.status_code == 201
    referral = Referral.objects.get(reference=first.json()["reference"])
    assert referral.idempotency_fingerprint
    # Within the window a retry replays; the task leaves it alone.
    assert idempotency_expire_task() == 0
    assert api.submit(world.referrer, ADULT_BODY, **key).json()["reference"] == referral.reference
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=timezone.now() - timedelta(hours=25)
    )
    assert idempotency_expire() == 1
    referral.refresh_from_db()
    assert referral.idempotency_key == referral.idempotency_fingerprint == ""
    assert set(referral.history.values_list("idempotency_fingerprint", flat=True)) == {""}
    assert idempotency_expire() == 0


def test_a_failed_sign_in_keeps_the_account_or_a_keyed_hash_never_the_typed_text(world):
    typed = "Zephyrine.Quaglietti 1998-03-17"
    client = Client()
    client.post("/sign-in/", {"username": typed, "password": "x"})
    client.post("/sign-in/", {"username": world.referrer.username, "password": "x"})
    entries = AccessLog.objects.filter(action="auth.login_failed").order_by("pk")
    assert entries.count() == 2
    unknown, known = entries
    assert typed not in str(unknown.payload()) and "Zephyrine" not in str(unknown.payload())
    assert unknown.actor_username.startswith("unknown:")
    assert known.actor_username == world.referrer.username
    assert known.target_id == str(world.referrer.pk)
    # The same text typed again gives the same hash (repeated tries stay visible).
    client.post("/sign-in/", {"username": typed, "password": "y"})
    assert (
        AccessLog.objects.filter(
            actor_username=unknown.actor_username, action="auth.login_failed"
        ).count()
        == 2
    )


def test_presumed_victim_history_of_a_kept_record_is_untouched(api, world, settings):
    settings.MNR_RETENTION_YEARS = 5
    ref = _pending(api, world, NEW)
    call_command("apply_retention")
    person = PresumedVictim.objects.get(referral__reference=ref)
    assert person.family_name == "Recent" and person.blind_index
