"""The GDPR access export (issue point 6, format mnr-access-export-2,
docs/access-export.md): every field, the history, the access log, possible
duplicates held by the association (and nothing of one held elsewhere), free
text flagged for review, refusals, logging, and a query count independent of
the history's length."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessAction, AccessLog
from cases.models import Case
from referral.models import Referral, Routing, RoutingOutcome
from tests.factories import UserFactory
from tests.records.conftest import ADULT_BODY, MINOR_BODY, accept, body

pytestmark = pytest.mark.django_db

# The export answers in the request's language; French by default.
WHY = "le texte libre peut nommer d'autres personnes ; à relire avant de le remettre"
OTHER_DETAIL = "Mariage forcé arrangé par M. Durand"
NARRATIVE = "Son « oncle » Karim la surveille."
DECLINE = "Pas de place ; voir avec Mme Martin"
STEP_NOTE = "Maître Dupont, barreau de Paris"
NOTE = "Rencontre avec sa sœur Amina"
SHARE_DETAIL = "Audience avec le juge Leroy"
TRANSFER_1 = "Éloignement : voir avec M. Blanc"
REJECTION = "Aucune place avant mars"
TRANSFER_2 = "Retour en Île-de-France"


def url(reference: str) -> str:
    return f"/api/v1/cases/{reference}/export/"


def text(value: str) -> dict:
    return {"text": value, "review": True, "why": WHY}


def at(data: Any, path: str) -> Any:
    """The value at a JSON path of the form $.a.b[2].c."""
    value = data
    for part in path.removeprefix("$").replace("[", ".[").strip(".").split("."):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def wrapped_to_review(value: Any, path: str = "$") -> list[str]:
    """The paths of every wrapped text with review true, found by walking."""
    found = []
    if isinstance(value, dict):
        if set(value) == {"text", "review", "why"} and value["review"] is True:
            return [path]
        for key, item in value.items():
            found += wrapped_to_review(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += wrapped_to_review(item, f"{path}[{i}]")
    return found


def post(api, user, path, data=None):
    r = api.post(user, path, data)
    assert r.status_code in (200, 201), (path, r.content)
    return r.json()


@pytest.fixture
def record(api, world) -> dict:
    """An adult's referral declined by the Paris association, accepted by the
    national one (a step with a note, a note, a share), transferred back to Paris
    (a first transfer rejected with a reason, a second accepted); the same
    person referred twice more: one referral now routed to Paris, one Paris
    declined and the national association holds."""
    data = body(
        ADULT_BODY,
        exploitation_forms=["sexual_exploitation", "other"],
        exploitation_other_detail=OTHER_DETAIL,
        narrative=NARRATIVE,
    )
    ref = api.submitted(world.referrer, data)["reference"]
    routing = api.pending_routing(world.paris_worker)
    post(api, world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": DECLINE})
    routing = api.pending_routing(world.national_worker)
    post(api, world.national_worker, f"/api/v1/routings/{routing['id']}/accept/")
    case = f"/api/v1/cases/{ref}/"
    post(api, world.national_worker, case + "steps/", {"kind": "lawyer", "note": STEP_NOTE})
    post(api, world.national_worker, case + "notes/", {"text": NOTE})
    until = timezone.localdate() + timedelta(days=20)
    post(
        api,
        world.national_worker,
        case + "shares/",
        {
            "grantee": world.crip_referrer.username,
            "purpose": "legal",
            "purpose_detail": SHARE_DETAIL,
            "parts": ["profile", "plan"],
            "until": str(until),
        },
    )
    first = post(
        api,
        world.national_worker,
        case + "transfer/",
        {"to_association": world.paris.pk, "reason": TRANSFER_1},
    )
    post(api, world.paris_worker, f"/api/v1/transfers/{first['id']}/reject/", {"reason": REJECTION})
    second = post(
        api,
        world.national_worker,
        case + "transfer/",
        {"to_association": world.paris.pk, "reason": TRANSFER_2},
    )
    post(api, world.paris_worker, f"/api/v1/transfers/{second['id']}/accept/")
    # The same person again: Paris holds the first (routed to it), not the second.
    held = api.submitted(world.other_referrer, ADULT_BODY)["reference"]
    elsewhere = api.submitted(world.other_referrer, ADULT_BODY)["reference"]
    routing = Routing.objects.get(referral__reference=elsewhere, outcome=RoutingOutcome.PENDING)
    assert routing.association == world.paris
    post(api, world.paris_worker, f"/api/v1/routings/{routing.pk}/decline/", {"reason": "Non"})
    assert Routing.objects.get(
        referral__reference=elsewhere, outcome=RoutingOutcome.PENDING
    ).association == (world.national)
    # Reads the log should show: a list page, a case read, a refusal.
    api.get(world.paris_worker, "/api/v1/cases/")
    api.get(world.paris_worker, case)
    assert api.get(world.minors_worker, case).status_code == 404
    return {
        "ref": ref,
        "held": held,
        "elsewhere": elsewhere,
        "until": until,
        "transfers": (first["id"], second["id"]),
    }


def export(api, world) -> dict:
    refs = [c.reference for c in Case.objects.filter(association=world.paris)]
    r = api.get(world.paris_manager, url(refs[0]))
    assert r.status_code == 200, r.content
    return r.json()


# --- the record as it is now -----------------------------------------------------------


def test_the_person_and_the_referral_with_every_field(api, world, record):
    data = export(api, world)
    assert data["format"] == "mnr-access-export-2"
    assert data["exported_by"] == {"username": world.paris_manager.username, "agency": "A Paris"}
    assert data["person"] == {
        "given_name": "Blessing",
        "family_name": "Okafor",
        "date_of_birth": "1999-04-02",
        "estimated_age": None,
        "age_years": Referral.objects.get(reference=record["ref"]).person.age_years,
        "declared_minor": False,
        "presumed_minor": False,
        "sex": "female",
        "nationality": "NG",
        "languages": ["en"],
        "phone": "+33 6 12 34 56 78",
        "current_departement": "93",
    }
    assert data["person"]["age_years"] >= 26
    referral = data["referral"]
    assert referral["reference"] == record["ref"]
    assert referral["status"] == "accepted"
    assert referral["referrer"] == world.referrer.username
    assert referral["referring_agency"] == world.police.name
    assert referral["exploitation_forms"] == ["sexual_exploitation", "other"]
    assert referral["exploitation_other_detail"] == text(OTHER_DETAIL)
    assert referral["narrative"] == text(NARRATIVE)
    assert referral["withdrawal_reason"] == {"text": "", "review": False}
    assert referral["withdrawn_at"] is None and referral["accepted_at"]
    assert referral["crip"] == {"agency": None, "notified_at": None}  # an adult
    assert referral["indicators"] == ["coercion_at_destination.debt_bondage"]
    assert data["glossary"]["indicator"]["coercion_at_destination.debt_bondage"]
    declined, accepted = referral["routings"]
    assert (declined["association"], declined["outcome"]) == ("A Paris", "declined")
    assert declined["reason"] == text(DECLINE)
    assert declined["responded_by"] == world.paris_worker.username
    assert (accepted["association"], accepted["outcome"]) == ("B National", "accepted")
    assert accepted["reason"] == {"text": "", "review": False}
    stored = Routing.objects.get(pk=accepted["id"])
    assert accepted["explanation"] == stored.explanation
    assert accepted["explanation"]["engine"] == "mnr-routing-1"
    assert set(accepted) == {
        "id",
        "association",
        "routed_at",
        "respond_by",
        "outcome",
        "reason",
        "responded_by",
        "responded_at",
        "assigned_by",
        "explanation",
    }


def test_the_case_with_steps_notes_transfers_and_shares(api, world, record):
    case = export(api, world)["case"]
    assert case["reference"] == record["ref"]
    assert case["association"] == "A Paris" and case["status"] == "open"
    [lawyer] = [s for s in case["steps"] if s["kind"] == "lawyer"]
    assert lawyer["note"] == text(STEP_NOTE) and lawyer["from_template"] is False
    assert [n["text"] for n in case["notes"]] == [text(NOTE)]
    assert case["notes"][0]["author"] == world.national_worker.username
    first, second = case["transfers"]
    assert (first["id"], second["id"]) == record["transfers"]
    assert first == {
        **first,
        "from_association": "B National",
        "to_association": "A Paris",
        "status": "rejected",
        "reason": text(TRANSFER_1),
        "requested_by": world.national_worker.username,
        "decided_by": world.paris_worker.username,
        "decision_reason": text(REJECTION),
    }
    assert first["decided_at"] and first["requested_at"]
    assert second["status"] == "accepted" and second["reason"] == text(TRANSFER_2)
    assert second["decided_by"] == world.paris_worker.username
    assert second["decision_reason"] == {"text": "", "review": False}
    [share] = case["shares"]
    assert share == {
        **share,
        "grantee": world.crip_referrer.username,
        "grantee_agency": world.crip93.name,
        "purpose": "legal",
        "purpose_detail": text(SHARE_DETAIL),
        "parts": ["plan", "profile"],
        "until": record["until"].isoformat(),
        "shared_by": world.national_worker.username,
        "active": False,
        "end_reason": "case_moved",  # the accepted transfer ended it
    }
    assert share["ended_at"]


def test_a_minors_age_and_the_crip_notified(api, world):
    manager = UserFactory(membership_agency=world.minors, membership_role="manager")
    ref = accept(api, world, MINOR_BODY, world.minors_worker)["reference"]
    data = api.get(manager, url(ref)).json()
    assert data["person"]["estimated_age"] == 14 and data["person"]["age_years"] == 14
    assert data["person"]["date_of_birth"] == "" and data["person"]["presumed_minor"] is True
    referral = Referral.objects.get(reference=ref)
    assert data["referral"]["crip"] == {
        "agency": world.crip93.name,
        "notified_at": referral.crip_notified_at.isoformat(),
    }


def test_the_withdrawal_reason_is_exported(api, world, open_case):
    # A referral its association holds is never withdrawn in the flows (the
    # withdrawal ends the association's grants): set it to check the key.
    referral = open_case.referral
    referral.withdrawal_reason = "Doublon signalé par Mme Petit"
    referral._history_user = world.referrer
    referral.save()
    data = api.get(world.paris_manager, url(open_case.reference)).json()
    assert data["referral"]["withdrawal_reason"] == text("Doublon signalé par Mme Petit")
    assert "$.referral.withdrawal_reason" in data["review"]
    last = [h for h in data["history"] if h["model"] == "referral"][-1]
    assert last["changed"] == ["withdrawal_reason", "updated_at"]
    assert last["values"]["withdrawal_reason"] == text("Doublon signalé par Mme Petit")


# --- history --------------------------------------------------------------------------


def test_every_history_row_of_the_record_with_date_type_author_and_values(api, world, record):
    data = export(api, world)
    history = data["history"]
    assert {h["model"] for h in history} == {
        "referral",
        "person",
        "routing",
        "case",
        "step",
        "note",
        "transfer",
        "share",
    }
    assert [h["date"] for h in history] == sorted(h["date"] for h in history)
    referral = Referral.objects.get(reference=record["ref"])
    case = Case.objects.get(reference=record["ref"])
    expected = (
        referral.history.count()
        + referral.person.history.count()
        + Routing.history.filter(referral_id=referral.pk).count()
        + case.history.count()
        + sum(
            model.history.filter(case_id=case.pk).count()
            for model in (
                type(case.steps.first()),
                type(case.notes.first()),
                type(case.transfers.first()),
                type(case.shares.first()),
            )
        )
    )
    assert len(history) == expected
    created = history[0]
    assert (created["model"], created["type"], created["by"]) == (
        "referral",
        "created",
        world.referrer.username,
    )
    assert created["values"]["narrative"] == text(NARRATIVE)
    assert created["values"]["exploitation_other_detail"] == text(OTHER_DETAIL)
    assert created["values"]["referring_agency"] == world.police.name
    assert "idempotency_key" not in created["values"]
    person = next(h for h in history if h["model"] == "person")
    assert person["values"]["family_name"] == "Okafor"
    assert person["values"]["referral"] == record["ref"]
    assert "blind_index" not in person["values"]
    rejected = next(
        h
        for h in history
        if h["model"] == "transfer"
        and h["type"] == "changed"
        and h["values"]["status"] == "rejected"
    )
    assert rejected["by"] == world.paris_worker.username
    assert {"status", "decided_by", "decided_at", "decision_reason"} <= set(rejected["changed"])
    assert rejected["values"]["decision_reason"] == text(REJECTION)
    moved = [h for h in history if h["model"] == "case" and "association" in h["changed"]]
    assert [h["values"]["association"] for h in moved] == ["A Paris"]
    note = next(h for h in history if h["model"] == "note")
    assert note["values"]["text"] == text(NOTE) and note["values"]["case"] == record["ref"]


# --- the access log ------------------------------------------------------------------


def test_the_access_log_about_the_record(api, world, record):
    api.get(world.paris_manager, url(record["ref"]))  # an earlier export
    log = export(api, world)["access_log"]
    assert [e["id"] for e in log] == sorted(e["id"] for e in log)
    seen = {(e["action"], e["actor"]) for e in log}
    assert ("referral.view", world.referrer.username) in seen
    assert ("case.view", world.paris_worker.username) in seen
    assert ("case.shared", world.national_worker.username) in seen
    assert ("access.refused", world.minors_worker.username) in seen
    assert ("case.export", world.paris_manager.username) in seen
    assert all(e["target"] == record["ref"] for e in log)
    [listed] = [e for e in log if e["action"] == "case.list"]
    assert listed["actor"] == world.paris_worker.username and listed["agency"] == "A Paris"
    assert listed["detail"] == {"view": "api.cases", "filters": []}  # no other references
    stored = AccessLog.objects.get(pk=listed["id"])
    assert record["ref"] in stored.detail["refs"] and listed["hash"] == stored.hash
    assert all("ip" not in e and "request_id" not in e for e in log)


# --- possible duplicates --------------------------------------------------------------


def test_duplicates_held_by_the_association_only_and_nothing_of_the_others(api, world, record):
    # Its author's list page shows both duplicates: only the one held is told.
    api.get(world.other_referrer, "/api/v1/referrals/")
    data = export(api, world)
    [duplicate] = data["possible_duplicates"]
    assert duplicate["review"] is True and "même personne" in duplicate["why"]
    assert duplicate["referral"]["reference"] == record["held"]
    assert duplicate["referral"]["status"] == "routed"
    assert duplicate["person"]["family_name"] == "Okafor"
    assert duplicate["case"] is None  # routed, not accepted
    assert {h["model"] for h in duplicate["history"]} >= {"referral", "person", "routing"}
    assert any(e["action"] == "referral.list" for e in duplicate["access_log"])
    assert "$.possible_duplicates[0]" in data["review"]
    # The one another association holds: not even its existence.
    whole = json.dumps(data, ensure_ascii=False)
    assert record["elsewhere"] not in whole
    # The export's entry names the records it holds.
    entry = AccessLog.objects.filter(action=AccessAction.CASE_EXPORT).latest("pk")
    assert entry.detail == {
        "format": "mnr-access-export-2",
        "refs": [record["ref"], record["held"]],
    }


def test_no_duplicate_without_a_blind_index(api, world):
    person = {"given_name": "", "family_name": "", "date_of_birth": None, "estimated_age": 30}
    ref = accept(api, world, body(ADULT_BODY, person=person), world.paris_worker)["reference"]
    api.submitted(world.referrer, body(ADULT_BODY, person=person))  # routed to Paris too
    assert api.get(world.paris_manager, url(ref)).json()["possible_duplicates"] == []


# --- review ---------------------------------------------------------------------------


def test_every_free_text_is_wrapped_and_listed_for_review(api, world, record):
    data = export(api, world)
    review = data["review"]
    assert sorted(review) == sorted([*wrapped_to_review(data), "$.possible_duplicates[0]"])
    for path in review:
        value = at(data, path)
        assert value["review"] is True and value["why"], path
    for path in (
        "$.referral.narrative",
        "$.referral.exploitation_other_detail",
        "$.referral.routings[0].reason",
        "$.case.notes[0].text",
        "$.case.transfers[0].reason",
        "$.case.transfers[0].decision_reason",
        "$.case.transfers[1].reason",
        "$.case.shares[0].purpose_detail",
    ):
        assert path in review, path
    assert any(p.startswith("$.history[") and p.endswith(".values.note") for p in review)
    # Every free text of the record is somewhere in a wrapper, never bare.
    bare = json.dumps(data, ensure_ascii=False)
    for value in (NARRATIVE, OTHER_DETAIL, DECLINE, STEP_NOTE, NOTE, SHARE_DETAIL, REJECTION):
        assert bare.count(json.dumps(value, ensure_ascii=False)) == bare.count(
            json.dumps(text(value), ensure_ascii=False)
        ), value
    assert data["notice"] and data["glossary"]["sex"]["female"]


# --- refusals, logging, cost ------------------------------------------------------------


def test_only_the_owning_managers_export_and_each_export_is_logged(api, world, open_case):
    national_manager = UserFactory(membership_agency=world.national, membership_role="manager")
    target = url(open_case.reference)
    assert api.get(world.paris_worker, target).status_code == 403  # not the manager
    for user in (
        national_manager,
        world.national_worker,
        world.referrer,
        world.analyst,
        world.admin,
        world.coordinator,
    ):
        assert api.get(user, target).status_code == 404, user
    assert not AccessLog.objects.filter(action=AccessAction.CASE_EXPORT).exists()
    assert AccessLog.objects.filter(action=AccessAction.REFUSAL, actor=national_manager).exists()
    assert api.get(world.paris_manager, target).status_code == 200
    [entry] = AccessLog.objects.filter(action=AccessAction.CASE_EXPORT)
    assert (entry.actor, entry.target_type, entry.target_id) == (
        world.paris_manager,
        "case",
        open_case.reference,
    )


def _export_queries(api, world, reference) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(world.paris_manager, url(reference)).status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_history(api, world, open_case):
    reference = open_case.reference
    few = _export_queries(api, world, reference)
    case = f"/api/v1/cases/{reference}/"
    for i in range(6):
        post(api, world.paris_worker, case + "notes/", {"text": f"note {i}"})
        step = post(api, world.paris_worker, case + "steps/", {"kind": "lawyer", "note": f"s{i}"})
        tag = api.get(world.paris_worker, f"{case}steps/{step['id']}/").headers["ETag"]
        api.as_(world.paris_worker).patch(
            f"{case}steps/{step['id']}/",
            json.dumps({"status": "done"}),
            content_type="application/json",
            HTTP_IF_MATCH=tag,
        )
        api.get(world.paris_worker, "/api/v1/cases/")
    # A duplicate adds records, not queries.
    api.submitted(world.other_referrer, ADULT_BODY)
    data = api.get(world.paris_manager, url(reference)).json()
    assert len(data["history"]) > 30 and len(data["possible_duplicates"]) == 1
    assert _export_queries(api, world, reference) == few
    assert few <= 30
