"""Cases through the API: plan, steps, notes, assignment, closure, ETags, roles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, ProtectionStep
from tests.cases.conftest import ADULT_BODY, MINOR_BODY, accept, body

pytestmark = pytest.mark.django_db


def url(case, tail=""):
    return f"/api/v1/cases/{case.reference}/{tail}"


def patch(api, user, path, data, etag=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    client = api.as_(user)
    with api.capture(execute=True):
        return client.patch(path, data, format="json", **headers)


def test_acceptance_opens_a_case_with_a_plan(api, world, open_case):
    r = api.get(world.paris_worker, url(open_case))
    assert r.status_code == 200
    data = r.json()
    assert r.headers["ETag"] == data["etag"] == f'"case-{open_case.pk}-v1"'
    assert data["status"] == "open" and data["assigned_to"]["id"] == world.paris_worker.pk
    assert data["person"]["family_name"] == "Okafor"
    kinds = {s["kind"] for s in data["steps"]}
    # Nigerian adult, sexual exploitation, shelter and medical needs:
    assert kinds == {
        "safety_assessment",
        "initial_interview",
        "medical_care",
        "legal_information",
        "emergency_shelter",
        "reflection_period",
        "residence_permit",
        "exit_pathway",
    }
    reflection = next(s for s in data["steps"] if s["kind"] == "reflection_period")
    opened = date.fromisoformat(data["opened_at"][:10])
    assert reflection["ends_on"] == (opened + timedelta(days=30)).isoformat()


def test_minor_case_plans_child_protection(api, world):
    case = accept(api, world, MINOR_BODY, world.minors_worker)
    kinds = {s["kind"] for s in case["steps"]}
    assert "child_protection" in kinds and "reflection_period" not in kinds


@pytest.mark.parametrize(
    "who",
    [
        "referrer",
        "other_referrer",
        "national_worker",
        "minors_worker",
        "coordinator",
        "analyst",
        "admin",
        "crip_referrer",
    ],
)
def test_nobody_outside_the_owning_association_sees_or_changes_the_case(api, world, open_case, who):
    user = getattr(world, who)
    tag = f'"case-{open_case.pk}-v1"'
    assert api.get(user, url(open_case)).status_code == 404
    assert api.get(user, "/api/v1/cases/").json()["count"] == 0
    assert api.get(user, url(open_case, "steps/")).status_code == 404
    assert api.get(user, url(open_case, "notes/")).status_code == 404
    step = open_case.steps.first()
    assert api.get(user, url(open_case, f"steps/{step.pk}/")).status_code == 404
    writes = [
        api.post(user, url(open_case, "notes/"), {"text": "x"}),
        api.post(user, url(open_case, "steps/"), {"kind": "lawyer"}),
        api.post(user, url(open_case, "close/"), {"reason": "duplicate"}, HTTP_IF_MATCH=tag),
        api.post(
            user, url(open_case, "transfer/"), {"to_association": world.national.pk, "reason": "x"}
        ),
        patch(
            api,
            user,
            url(open_case, f"steps/{step.pk}/"),
            {"status": "done"},
            f'"step-{step.pk}-v1"',
        ),
        patch(api, user, url(open_case), {"assigned_to": None}, tag),
    ]
    assert [w.status_code for w in writes] == [404] * len(writes)
    open_case.refresh_from_db()
    assert open_case.status == "open" and open_case.version == 1
    assert not open_case.notes.exists()


def test_referrer_sees_status_never_content(api, world, open_case):
    detail = api.get(world.referrer, f"/api/v1/referrals/{open_case.reference}/").json()
    assert detail["case_status"] == "open"
    assert "steps" not in detail and "notes" not in detail
    api.post(
        world.paris_worker, url(open_case, "notes/"), {"text": "Hébergée ce soir à Paris 11e."}
    )
    tag = api.get(world.paris_worker, url(open_case)).headers["ETag"]
    api.post(
        world.paris_worker,
        url(open_case, "close/"),
        {"reason": "support_completed"},
        HTTP_IF_MATCH=tag,
    )
    detail = api.get(world.referrer, f"/api/v1/referrals/{open_case.reference}/").json()
    assert detail["case_status"] == "closed"
    assert "Hébergée" not in str(detail) and "support_completed" not in str(detail)


def test_steps_add_complete_set_aside(api, world, open_case):
    r = api.post(
        world.paris_worker,
        url(open_case, "steps/"),
        {
            "kind": "lawyer",
            "due_date": "2026-12-10",
            "owner": world.paris_manager.pk,
            "note": "Barreau",
        },
    )
    assert r.status_code == 201, r.content
    lawyer = r.json()
    assert lawyer["owner"]["id"] == world.paris_manager.pk and lawyer["status"] == "planned"
    done = patch(
        api,
        world.paris_worker,
        url(open_case, f"steps/{lawyer['id']}/"),
        {"status": "done"},
        lawyer["etag"],
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done" and done.json()["done_at"]
    assert done.headers["ETag"] == f'"step-{lawyer["id"]}-v2"'
    shelter = ProtectionStep.objects.get(case=open_case, kind="emergency_shelter")
    r = patch(
        api,
        world.paris_manager,
        url(open_case, f"steps/{shelter.pk}/"),
        {"status": "declined_by_person"},
        f'"step-{shelter.pk}-v1"',
    )
    assert r.json()["status"] == "declined_by_person"
    exit_step = ProtectionStep.objects.get(case=open_case, kind="exit_pathway")
    r = patch(
        api,
        world.paris_worker,
        url(open_case, f"steps/{exit_step.pk}/"),
        {"status": "not_applicable"},
        f'"step-{exit_step.pk}-v1"',
    )
    assert r.json()["status"] == "not_applicable"
    # From "not applicable" straight to "done" is not allowed: back to planned first.
    r = patch(
        api,
        world.paris_worker,
        url(open_case, f"steps/{exit_step.pk}/"),
        {"status": "done"},
        r.headers["ETag"],
    )
    assert r.status_code == 409
    assert (
        ProtectionStep.objects.get(pk=exit_step.pk).history.first().history_user
        == world.paris_worker
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "spa_day"}, "kind"),
        ({"kind": "lawyer", "due_date": "tomorrow"}, "due_date"),
        ({"kind": "lawyer", "owner": 999999}, "owner"),
        ({"kind": "lawyer", "due_date": "2026-12-10", "ends_on": "2026-12-01"}, "ends_on"),
        ({}, "kind"),
    ],
)
def test_bad_step_input_is_400(api, world, open_case, data, field):
    before = ProtectionStep.objects.count()
    r = api.post(world.paris_worker, url(open_case, "steps/"), data)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    assert ProtectionStep.objects.count() == before


def test_step_owner_must_belong_to_the_association(api, world, open_case):
    r = api.post(
        world.paris_worker,
        url(open_case, "steps/"),
        {"kind": "lawyer", "owner": world.national_worker.pk},
    )
    assert r.status_code == 400 and "owner" in r.json()["error"]["fields"]


def test_stale_step_write_is_412_and_changes_nothing(api, world, open_case):
    step = open_case.steps.first()
    path = url(open_case, f"steps/{step.pk}/")
    tag = api.get(world.paris_worker, path).headers["ETag"]
    first = patch(api, world.paris_worker, path, {"note": "premier"}, tag)
    assert first.status_code == 200
    second = patch(api, world.paris_manager, path, {"note": "second"}, tag)  # read before the first
    assert second.status_code == 412
    assert second.json()["error"]["code"] == "precondition_failed"
    step.refresh_from_db()
    assert step.note == "premier" and step.version == 2
    missing = patch(api, world.paris_worker, path, {"note": "x"})
    assert missing.status_code == 428
    wrong_object = patch(api, world.paris_worker, path, {"note": "x"}, f'"case-{open_case.pk}-v1"')
    assert wrong_object.status_code == 412
    assert patch(api, world.paris_worker, path, {"note": "ok"}, "*").status_code == 412


def test_assignment_with_etag(api, world, open_case):
    tag = api.get(world.paris_manager, url(open_case)).headers["ETag"]
    r = patch(
        api, world.paris_manager, url(open_case), {"assigned_to": world.paris_manager.pk}, tag
    )
    assert r.status_code == 200 and r.json()["assigned_to"]["id"] == world.paris_manager.pk
    assert r.headers["ETag"] == f'"case-{open_case.pk}-v2"'
    stale = patch(api, world.paris_manager, url(open_case), {"assigned_to": None}, tag)
    assert stale.status_code == 412
    bad = patch(
        api,
        world.paris_manager,
        url(open_case),
        {"assigned_to": world.national_worker.pk},
        r.headers["ETag"],
    )
    assert bad.status_code == 400 and "assigned_to" in bad.json()["error"]["fields"]
    # Another agency's account and an id that exists nowhere get the same answer.
    missing = patch(
        api, world.paris_manager, url(open_case), {"assigned_to": 10**9}, r.headers["ETag"]
    )
    assert missing.json()["error"]["fields"] == bad.json()["error"]["fields"]
    open_case.refresh_from_db()
    assert open_case.assigned_to == world.paris_manager


def test_notes(api, world, open_case):
    assert api.post(world.paris_worker, url(open_case, "notes/"), {"text": "  "}).status_code == 400
    r = api.post(world.paris_worker, url(open_case, "notes/"), {"text": "Premier entretien fait."})
    assert r.status_code == 201 and r.json()["author"] == world.paris_worker.username
    notes = api.get(world.paris_manager, url(open_case, "notes/")).json()
    assert [n["text"] for n in notes] == ["Premier entretien fait."]
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM cases_casenote")
        assert "Premier" not in cursor.fetchone()[0]  # encrypted at rest


def test_close_and_reopen(api, world, open_case):
    tag = api.get(world.paris_worker, url(open_case)).headers["ETag"]
    assert (
        api.post(
            world.paris_worker, url(open_case, "close/"), {"reason": "support_completed"}
        ).status_code
        == 428
    )
    bad = api.post(
        world.paris_worker, url(open_case, "close/"), {"reason": "bored"}, HTTP_IF_MATCH=tag
    )
    assert bad.status_code == 400 and "reason" in bad.json()["error"]["fields"]
    r = api.post(
        world.paris_worker, url(open_case, "close/"), {"reason": "lost_contact"}, HTTP_IF_MATCH=tag
    )
    assert r.status_code == 200
    assert r.json()["status"] == "closed" and r.json()["closure_reason"] == "lost_contact"
    tag = r.headers["ETag"]
    again = api.post(
        world.paris_worker, url(open_case, "close/"), {"reason": "lost_contact"}, HTTP_IF_MATCH=tag
    )
    assert again.status_code == 409
    step = open_case.steps.first()
    frozen = patch(
        api,
        world.paris_worker,
        url(open_case, f"steps/{step.pk}/"),
        {"note": "x"},
        f'"step-{step.pk}-v1"',
    )
    assert frozen.status_code == 409
    assert (
        api.post(world.paris_worker, url(open_case, "steps/"), {"kind": "lawyer"}).status_code
        == 409
    )
    r = api.post(world.paris_worker, url(open_case, "reopen/"), HTTP_IF_MATCH=tag)
    assert (
        r.status_code == 200 and r.json()["status"] == "open" and r.json()["closure_reason"] == ""
    )
    assert (
        api.post(
            world.paris_worker, url(open_case, "reopen/"), HTTP_IF_MATCH=r.headers["ETag"]
        ).status_code
        == 409
    )
    statuses = [h.status for h in Case.objects.get(pk=open_case.pk).history.order_by("history_id")]
    assert statuses == ["open", "closed", "open"]


def test_list_filters(api, world, open_case):
    accept(
        api,
        world,
        body(ADULT_BODY, exploitation_forms=["labour_exploitation"], person={"family_name": "B"}),
        world.paris_worker,
    )
    ProtectionStep.objects.filter(case=open_case, kind="safety_assessment").update(
        due_date=date(2020, 1, 1)
    )
    get = lambda q: api.get(world.paris_manager, f"/api/v1/cases/{q}").json()  # noqa: E731
    assert get("")["count"] == 2
    assert get("?overdue=true")["count"] == 1
    assert get("?overdue=true")["results"][0]["overdue_steps"] == 1
    assert get("?overdue=false")["count"] == 1
    assert get("?exploitation_form=labour_exploitation")["count"] == 1
    assert get(f"?assigned_to={world.paris_worker.pk}")["count"] == 2
    assert get("?assigned_to=me")["count"] == 0
    assert get("?assigned_to=none")["count"] == 0
    assert get("?status=closed")["count"] == 0
    for bad in ("?status=lost", "?assigned_to=bob", "?overdue=maybe", "?exploitation_form=x"):
        assert api.get(world.paris_manager, f"/api/v1/cases/{bad}").status_code == 400, bad


def count_queries(api, user, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(user, path).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_detail_query_counts_are_constant(api, world, open_case):
    few_list = count_queries(api, world.paris_worker, "/api/v1/cases/")
    few_detail = count_queries(api, world.paris_worker, url(open_case))
    for i in range(6):
        accept(api, world, body(ADULT_BODY, person={"family_name": f"N{i}"}), world.paris_worker)
    for i in range(5):
        api.post(world.paris_worker, url(open_case, "notes/"), {"text": f"note {i}"})
        api.post(
            world.paris_worker,
            url(open_case, "steps/"),
            {"kind": "lawyer", "owner": world.paris_manager.pk},
        )
    assert count_queries(api, world.paris_worker, "/api/v1/cases/") == few_list
    assert count_queries(api, world.paris_worker, url(open_case)) == few_detail
    # list: 2 reads + the access-log entry of the page shown (4 statements inside a
    # test's transaction: savepoint, head lock, insert, release); detail: 4 reads + its entry.
    assert few_list <= 9 and few_detail <= 9


def test_workload_for_managers(api, world, open_case):
    ProtectionStep.objects.filter(case=open_case, kind="safety_assessment").update(
        due_date=date(2020, 1, 1)
    )
    api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": "Z"}))  # pending routing
    r = api.get(world.paris_manager, "/api/v1/workload/")
    assert r.status_code == 200
    data = r.json()
    assert data["open_cases"] == 1 and data["overdue_steps"] == 1
    assert data["pending_routings"] == 1
    assert data["pending_transfers_in"] == data["pending_transfers_out"] == 0
    assert data["by_caseworker"] == [
        {"username": world.paris_worker.username, "open_cases": 1, "overdue_steps": 1}
    ]
    assert api.get(world.paris_worker, "/api/v1/workload/").status_code == 403
    for who in ("referrer", "analyst", "coordinator", "admin"):
        assert api.get(getattr(world, who), "/api/v1/workload/").status_code == 404
    national = api.get(world.national_worker, "/api/v1/workload/")
    assert national.status_code == 403


def test_overdue_reminder_once_a_day_to_the_assigned_caseworker(api, world, open_case):
    from django.core import mail

    from cases.tasks import remind_overdue_steps
    from notifications.models import OutboxMessage

    assert remind_overdue_steps() == 0
    ProtectionStep.objects.filter(case=open_case, kind="safety_assessment").update(
        due_date=date(2020, 1, 1)
    )
    mail.outbox.clear()
    with api.capture(execute=True):
        assert remind_overdue_steps() == 1
    assert remind_overdue_steps() == 0  # once a day
    message = OutboxMessage.objects.get(kind="steps_overdue")
    assert message.recipient_user == world.paris_worker
    sent = [m for m in mail.outbox if "paris@example.org" in m.to]
    assert len(sent) == 1
    assert f"/api/v1/cases/{open_case.reference}/" in sent[0].body
    assert "Okafor" not in sent[0].body and "Blessing" not in sent[0].body


def test_workload_is_for_association_managers_only(api, world):
    from tests.factories import UserFactory

    police_manager = UserFactory(membership_agency=world.police, membership_role="manager")
    assert api.get(police_manager, "/api/v1/workload/").status_code == 403
