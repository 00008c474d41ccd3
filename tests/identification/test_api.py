"""Identification through the HTTP API: opening, both stages, reconsideration,
who sees what, deadlines and escalation, concurrency (issue 15)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AccessAction, AccessLog
from cases.models import Case, ProtectionStep, StepKind
from identification import services
from identification.models import Decision, Identification
from notifications.models import OutboxMessage
from tests.identification.conftest import ADULT_BODY, MINOR_BODY, body, file_url

pytestmark = pytest.mark.django_db

NEGATIVE = {
    "outcome": "negative",
    "reasons": ["no_exploitation"],
    "explanation": "Aucun élément d'exploitation à ce stade.",
}


def routed(api, world, data=ADULT_BODY) -> Identification:
    referral = api.submitted(world.referrer, data)
    return Identification.objects.get(referral__reference=referral["reference"])


def accepted_case(api, world, worker) -> Case:
    routing = api.pending_routing(worker)
    r = api.post(worker, f"/api/v1/routings/{routing['id']}/accept/")
    assert r.status_code == 201, r.content
    return Case.objects.get(reference=r.json()["reference"])


def ref(identification: Identification) -> str:
    return identification.referral.reference


def recovery_over(identification: Identification) -> None:
    """Time travel: the recovery period began 31 days ago."""
    start = timezone.localdate() - timedelta(days=31)
    Identification.objects.filter(pk=identification.pk).update(
        recovery_starts_on=start, recovery_ends_on=start + timedelta(days=30)
    )


# --- opening -------------------------------------------------------------------------


def test_a_routed_referral_opens_a_file_in_its_regional_unit(api, world, units):
    identification = routed(api, world)
    assert identification.unit == units.idf  # Paris is in Île-de-France
    assert identification.status == "preliminary_pending" and not identification.minor
    left = identification.decide_by - identification.opened_at
    assert timedelta(days=5) <= left <= timedelta(days=9)  # 5 working days
    r = api.get(units.idf_dm, file_url(ref(identification)))
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["stage"] == "preliminary" and data["referral"]["indicators"]
    assert "family_name" not in str(data) and "Okafor" not in str(data)  # no identity
    assert AccessLog.objects.filter(
        action=AccessAction.IDENTIFICATION_VIEW, target_id=ref(identification)
    ).exists()


def test_an_anonymous_notification_opens_no_file(api, world, units):
    anonymous = body(
        ADULT_BODY,
        consent_to_referral=False,
        narrative="",
        person={"given_name": "", "family_name": "", "phone": "", "date_of_birth": None},
    )
    r = api.submit(world.referrer, anonymous)
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "notified"
    assert not Identification.objects.exists()


def test_without_a_regional_unit_the_national_one_decides(api, world, units, settings):
    settings.MNR_IDENTIFICATION_REGIONAL = False
    assert routed(api, world).unit == units.national


def test_a_minors_file_goes_to_members_trained_for_children(api, world, units):
    identification = routed(api, world, MINOR_BODY)
    assert identification.minor and identification.unit == units.idf  # 93
    assert identification.decide_by - identification.opened_at <= timedelta(days=5)
    assert api.get(units.idf_dm, file_url(ref(identification))).status_code == 404
    listed = api.get(units.idf_dm, "/api/v1/identifications/").json()
    assert listed["count"] == 0
    assert api.get(units.idf_child_dm, file_url(ref(identification))).status_code == 200
    r = api.post(units.idf_dm, file_url(ref(identification), "decide/"), {"outcome": "positive"})
    assert r.status_code == 404


# --- who sees what ---------------------------------------------------------------------


def test_each_reader_sees_what_they_need(api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    r = api.post(units.idf_dm, file_url(reference, "decide/"), NEGATIVE)
    assert r.status_code == 200, r.content

    association = api.get(world.paris_worker, file_url(reference)).json()
    assert association["status"] == "not_presumed"
    assert association["decisions"][0]["reasons"] == ["no_exploitation"]
    assert association["decisions"][0]["explanation"].startswith("Aucun")
    assert "referral" not in association  # it has the referral itself

    referrer = api.get(world.referrer, file_url(reference)).json()
    assert referrer == {"reference": reference, "status": "not_presumed", "stage": "preliminary"}

    for outsider in (units.occ_dm, world.analyst, world.national_worker, world.other_referrer):
        assert api.get(outsider, file_url(reference)).status_code == 404, outsider
    assert api.get(units.occ_dm, "/api/v1/identifications/").json()["count"] == 0
    assert api.get(world.analyst, "/api/v1/identifications/dashboard/").status_code == 403


def test_decision_makers_never_read_the_case_or_its_notes(api, world, units):
    identification = routed(api, world)
    case = accepted_case(api, world, world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/cases/{case.reference}/notes/", {"text": "Note"})
    assert api.get(units.idf_dm, f"/api/v1/cases/{case.reference}/").status_code == 404
    assert api.get(units.idf_dm, f"/api/v1/cases/{case.reference}/notes/").status_code == 404
    file = api.get(units.idf_dm, file_url(ref(identification))).json()
    assert "Note" not in str(file)


def test_a_decision_maker_of_another_region_is_refused(api, world, units):
    identification = routed(api, world)
    r = api.post(units.occ_dm, file_url(ref(identification), "decide/"), {"outcome": "positive"})
    assert r.status_code == 404
    identification.refresh_from_db()
    assert identification.status == "preliminary_pending" and not Decision.objects.exists()


# --- stage 1 and stage 2 --------------------------------------------------------------------


def test_positive_then_formal_identification(api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    case = accepted_case(api, world, world.paris_worker)
    r = api.post(
        world.paris_worker,
        file_url(reference, "evidence/"),
        {"section": "first_assessment", "text": "Récit cohérent, emprise forte."},
    )
    assert r.status_code == 201, r.content
    r = api.post(units.idf_dm, file_url(reference, "decide/"), {"outcome": "positive"})
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["status"] == "presumed"
    assert data["recovery_ends_on"] == str(timezone.localdate() + timedelta(days=30))
    step = ProtectionStep.objects.get(case=case, kind=StepKind.REFLECTION_PERIOD)
    assert step.due_date == timezone.localdate() and step.status == "in_progress"
    assert step.ends_on == timezone.localdate() + timedelta(days=30)  # shown on the plan

    # Not before the end of the recovery period.
    r = api.post(world.paris_worker, file_url(reference, "submit/"))
    assert r.status_code == 409
    recovery_over(identification)
    r = api.post(world.paris_worker, file_url(reference, "submit/"))
    assert r.status_code == 400 and "evidence" in r.json()["error"]["fields"]
    for section, extra in (
        ("indicator_confirmed", {"indicator": "coercion_at_destination.debt_bondage"}),
        ("interview", {"on_date": str(timezone.localdate())}),
        ("document_seen", {}),
    ):
        r = api.post(
            world.paris_worker,
            file_url(reference, "evidence/"),
            {"section": section, "text": "Vu.", **extra},
        )
        assert r.status_code == 201, r.content
    r = api.post(world.paris_worker, file_url(reference, "submit/"))
    assert r.status_code == 200 and r.json()["status"] == "formal_pending"
    r = api.post(units.idf_dm, file_url(reference, "decide/"), {"outcome": "positive"})
    assert r.status_code == 400 and "outcome" in r.json()["error"]["fields"]
    r = api.post(units.idf_dm, file_url(reference, "decide/"), {"outcome": "identified"})
    assert r.status_code == 200 and r.json()["status"] == "identified"
    # Final: the unit's access ends; the association still reads the file.
    assert api.get(units.idf_dm, file_url(reference)).status_code == 404
    assert api.get(world.paris_worker, file_url(reference)).json()["status"] == "identified"
    r = api.post(units.idf_dm2, file_url(reference, "decide/"), {"outcome": "not_identified"})
    assert r.status_code == 404
    history = list(
        Identification.history.filter(id=identification.pk)
        .order_by("history_date")
        .values_list("status", "history_user_id")
    )
    assert ("presumed", units.idf_dm.pk) in history and ("identified", units.idf_dm.pk) in history
    assert OutboxMessage.objects.filter(kind="identification_decided").count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "negative"}, "reasons"),
        ({"outcome": "negative", "reasons": ["no_act"]}, "explanation"),
        ({"outcome": "negative", "reasons": ["person_left"], "explanation": "x"}, "reasons"),
        ({"outcome": "identified"}, "outcome"),
        ({"outcome": "positive", "reasons": ["no_act"]}, "reasons"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "negative", "reasons": "no_act", "explanation": "x"}, "reasons"),
    ],
)
def test_bad_decisions_are_400_and_change_nothing(api, world, units, data, field):
    identification = routed(api, world)
    r = api.post(units.idf_dm, file_url(ref(identification), "decide/"), data)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    identification.refresh_from_db()
    assert identification.status == "preliminary_pending" and not Decision.objects.exists()


def test_impossible_moves_are_409(api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    r = api.post(world.paris_worker, file_url(reference, "reconsider/"), {"new_elements": "x"})
    assert r.status_code == 409  # nothing negative to reconsider
    api.post(units.idf_dm, file_url(reference, "decide/"), {"outcome": "positive"})
    r = api.post(units.idf_dm2, file_url(reference, "decide/"), {"outcome": "negative"})
    assert r.status_code == 409  # no decision waited for
    r = api.post(world.paris_worker, file_url(reference, "submit/"))
    assert r.status_code == 409  # recovery period running


def test_only_the_association_works_on_the_file(api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    evidence = {"section": "first_assessment", "text": "x"}
    for who in (units.idf_dm, world.referrer, world.national_worker):
        r = api.post(who, file_url(reference, "evidence/"), evidence)
        assert r.status_code in (403, 404), who
    r = api.post(world.paris_worker, file_url(reference, "evidence/"), {"section": "nope"})
    assert r.status_code == 400 and set(r.json()["error"]["fields"]) >= {"section", "text"}
    r = api.post(
        world.paris_worker,
        file_url(reference, "evidence/"),
        {"section": "indicator_confirmed", "text": "x", "indicator": "not.an.indicator"},
    )
    assert r.status_code == 400 and "indicator" in r.json()["error"]["fields"]
    assert not identification.evidence.exists()


# --- reconsideration ----------------------------------------------------------------------


def test_reconsideration_is_decided_by_another_member(api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    api.post(units.idf_dm, file_url(reference, "decide/"), NEGATIVE)
    r = api.post(world.paris_worker, file_url(reference, "reconsider/"), {"new_elements": ""})
    assert r.status_code == 400 and "new_elements" in r.json()["error"]["fields"]
    r = api.post(
        world.paris_worker,
        file_url(reference, "reconsider/"),
        {"new_elements": "Nouveau récit avec interprète."},
    )
    assert r.status_code == 200 and r.json()["status"] == "preliminary_reconsideration"
    r = api.post(units.idf_dm, file_url(reference, "decide/"), {"outcome": "positive"})
    assert r.status_code == 403  # the first decider
    r = api.post(units.idf_dm2, file_url(reference, "decide/"), {"outcome": "positive"})
    assert r.status_code == 200 and r.json()["status"] == "presumed"
    decisions = api.get(world.paris_worker, file_url(reference)).json()["decisions"]
    assert [(d["outcome"], d["reconsideration"], d["decided_by"]) for d in decisions] == [
        ("negative", False, units.idf_dm.username),
        ("positive", True, units.idf_dm2.username),
    ]


def test_a_reconsideration_is_asked_once_and_within_the_period(api, world, units, settings):
    identification = routed(api, world)
    reference = ref(identification)
    api.post(units.idf_dm, file_url(reference, "decide/"), NEGATIVE)
    api.post(world.paris_worker, file_url(reference, "reconsider/"), {"new_elements": "x"})
    api.post(units.idf_dm2, file_url(reference, "decide/"), NEGATIVE)
    r = api.post(world.paris_worker, file_url(reference, "reconsider/"), {"new_elements": "y"})
    assert r.status_code == 409  # already reconsidered: final
    assert api.get(units.idf_dm2, file_url(reference)).status_code == 404

    other = routed(api, world, body(ADULT_BODY, narrative="Autre récit."))
    api.post(units.idf_dm, file_url(ref(other), "decide/"), NEGATIVE)
    later = timezone.now() + timedelta(days=settings.MNR_RECONSIDERATION_DAYS + 1)
    assert services.deadlines(now=later)["closed"] == 1  # the period passed
    assert api.get(units.idf_dm, file_url(ref(other))).status_code == 404


# --- a complaint is never required ---------------------------------------------------------


def test_no_decision_depends_on_a_complaint(api, world, units):
    """The same file, with and without a complaint step done: the same
    decisions are possible, and no input or rule names a complaint."""
    import inspect

    from api.views import identifications as api_module
    from identification import models, selectors

    for module in (services, selectors, models, api_module):
        assert "complaint" not in inspect.getsource(module).replace(
            "Nothing here reads whether a complaint", ""
        ).replace("A complaint is never a condition", "").replace(
            "a decision never depends on one", ""
        ), module
    first = routed(api, world)
    case = accepted_case(api, world, world.paris_worker)
    r = api.post(
        world.paris_worker,
        f"/api/v1/cases/{case.reference}/steps/",
        {"kind": "complaint_filed"},
    )
    assert r.status_code == 201
    r = api.post(units.idf_dm, file_url(ref(first), "decide/"), {"outcome": "positive"})
    assert r.status_code == 200
    second = routed(api, world, body(ADULT_BODY, narrative="Sans plainte."))
    r = api.post(units.idf_dm, file_url(ref(second), "decide/"), {"outcome": "positive"})
    assert r.status_code == 200


# --- deadlines --------------------------------------------------------------------------------


def test_reminder_before_the_deadline_and_escalation_after(api, world, units):
    identification = routed(api, world)
    deadline = identification.decide_by
    assert services.deadlines(now=deadline - timedelta(days=4))["reminded"] == 0
    assert services.deadlines(now=deadline - timedelta(hours=6))["reminded"] == 1
    assert services.deadlines(now=deadline - timedelta(hours=5))["reminded"] == 0  # once
    assert OutboxMessage.objects.filter(
        kind="identification_due", recipient_agency=units.idf
    ).exists()
    assert services.deadlines(now=deadline + timedelta(hours=1))["escalated"] == 1
    assert services.deadlines(now=deadline + timedelta(hours=2))["escalated"] == 0
    assert OutboxMessage.objects.filter(
        kind="identification_overdue", recipient_coordination_desk=True
    ).exists()
    desk = api.get(world.coordinator, "/api/v1/identifications/").json()
    assert [row["reference"] for row in desk["results"]] == [ref(identification)]
    assert set(api.get(world.coordinator, file_url(ref(identification))).json()) == {
        "reference", "status", "stage", "unit", "minor", "immediate_danger", "opened_at",
        "decide_by", "escalated_at",
    }  # fmt: skip


def test_the_queue_puts_danger_then_minors_first_and_the_dashboard_counts(api, world, units):
    adult = routed(api, world)
    danger = routed(api, world, body(ADULT_BODY, immediate_danger=True, narrative="Danger."))
    listed = api.get(units.idf_dm, "/api/v1/identifications/").json()["results"]
    assert [row["reference"] for row in listed] == [ref(danger), ref(adult)]
    board = api.get(units.idf_dm, "/api/v1/identifications/dashboard/").json()
    assert board["pending"] == 2 and board["danger"] == 1 and board["by_age"]["0-2"] == 2


def test_a_withdrawn_referral_withdraws_its_file(api, world, units):
    identification = routed(api, world)
    r = api.post(world.referrer, f"/api/v1/referrals/{ref(identification)}/withdraw/", {})
    assert r.status_code == 200, r.content
    identification.refresh_from_db()
    assert identification.status == "withdrawn"
    assert api.get(units.idf_dm, file_url(ref(identification))).status_code == 404


# --- concurrency ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_decisions_at_once_one_wins(postgres, api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def decide(user, data):
        try:
            barrier.wait(timeout=10)
            codes.append(api.post(user, file_url(reference, "decide/"), data).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(units.idf_dm, {"outcome": "positive"})),
        threading.Thread(target=decide, args=(units.idf_dm2, NEGATIVE)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(codes) == [200, 409]
    assert Decision.objects.filter(identification=identification).count() == 1


# --- query counts ------------------------------------------------------------------------


def test_the_queue_and_a_file_take_a_constant_number_of_queries(api, world, units):
    from django.test.utils import CaptureQueriesContext

    def count(url: str) -> int:
        client = api.as_(units.idf_dm)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    first = routed(api, world)
    api.post(units.idf_dm, file_url(ref(first), "decide/"), NEGATIVE)
    one = count("/api/v1/identifications/")
    detail_one = count(file_url(ref(first)))
    for n in range(3):
        routed(api, world, body(ADULT_BODY, narrative=f"Récit {n}."))
    api.post(world.paris_worker, file_url(ref(first), "reconsider/"), {"new_elements": "x"})
    api.post(units.idf_dm2, file_url(ref(first), "decide/"), {"outcome": "positive"})
    assert count("/api/v1/identifications/") == one <= 8
    assert count(file_url(ref(first))) == detail_one <= 14


def test_a_stale_if_match_is_412_and_decides_nothing(api, world, units):
    identification = routed(api, world)
    url = file_url(ref(identification))
    tag = api.get(units.idf_dm, url).headers["ETag"]
    api.post(world.paris_worker, f"{url}evidence/", {"section": "first_assessment", "text": "x"})
    Identification.objects.filter(pk=identification.pk).update(version=2)  # changed meanwhile
    r = api.post(units.idf_dm, f"{url}decide/", {"outcome": "positive"}, HTTP_IF_MATCH=tag)
    assert r.status_code == 412
    assert not Decision.objects.exists()
    fresh = api.get(units.idf_dm, url).headers["ETag"]
    r = api.post(units.idf_dm, f"{url}decide/", {"outcome": "positive"}, HTTP_IF_MATCH=fresh)
    assert r.status_code == 200


def test_without_a_unit_for_the_territory_the_desk_is_told_and_the_sweep_opens_it(
    api, world, units
):
    from agencies import services as agency_services

    for unit in (units.national, units.idf):
        agency_services.agency_update(actor=None, agency=unit, active=False)
    referral = api.submitted(world.referrer, ADULT_BODY)
    assert not Identification.objects.exists()
    assert OutboxMessage.objects.filter(
        kind="identification_no_unit", reference=referral["reference"]
    ).exists()
    agency_services.agency_update(actor=None, agency=units.national, active=True)
    assert services.deadlines()["opened"] == 1
    assert Identification.objects.get().unit == units.national


def test_with_no_unit_at_all_nothing_is_sent(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    assert not Identification.objects.exists()
    assert not OutboxMessage.objects.filter(kind="identification_no_unit").exists()
