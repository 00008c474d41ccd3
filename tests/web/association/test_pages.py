"""The association pages through Django's test client: inbox, routing, case
list, case page and its actions, timeline, workload; refusals, 404s, CSRF and
query counts. The pages call the API's selectors and services, so these tests
check what a person sees and that the page's actions reach the same rules."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AccessAction, AccessLog
from cases.models import Case, CaseNote, ProtectionStep, StepStatus, Transfer
from referral.models import Routing, RoutingOutcome
from tests.referral.conftest import ADULT_BODY, body

from .conftest import client_for

pytestmark = pytest.mark.django_db


def count_queries(call) -> int:
    """Queries run by ``call`` (counted at the cursor: independent of the size of
    Django's debug query log)."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        response = call()
    assert response.status_code == 200
    return len(seen)


def logs(action, target_id=None, actor=None):
    qs = AccessLog.objects.filter(action=action)
    if actor is not None:
        qs = qs.filter(actor=actor)
    if target_id is not None:
        qs = qs.filter(target_id=target_id)
    return qs.count()


# --- inbox ----------------------------------------------------------------------------


def test_inbox_lists_pending_routings_with_time_left(world, pending):
    r = client_for(world.paris_worker).get("/inbox/")
    assert r.status_code == 200
    html = r.content.decode()
    assert pending.referral.reference in html
    assert f'href="/routings/{pending.pk}/"' in html
    assert re.search(r"<strong>(1 day|2 days|\d+ h)", html)  # time left, not overdue
    assert "Sexual exploitation" in html
    assert "Blessing" not in html  # the list shows the summary, not the identity


def test_inbox_highlights_overdue_and_immediate_danger(api, world):
    api.submitted(world.referrer, body(ADULT_BODY, immediate_danger=True))
    routing = Routing.objects.get(association__in=[world.paris, world.national])
    worker = world.paris_worker if routing.association == world.paris else world.national_worker
    assert routing.respond_by - routing.routed_at == timedelta(hours=4)
    html = client_for(worker).get("/inbox/").content.decode()
    assert "Immediate danger: 4 h deadline" in html
    now = timezone.now()
    Routing.objects.filter(pk=routing.pk).update(
        routed_at=now - timedelta(hours=5), respond_by=now - timedelta(hours=1)
    )
    html = client_for(worker).get("/inbox/").content.decode()
    assert re.search(r'fr-badge--error fr-badge--sm">Overdue by 1 h 0\d min', html)


def test_inbox_is_sorted_by_deadline(api, world):
    api.submitted(world.referrer, ADULT_BODY)
    api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Grace"}))
    first, second = Routing.objects.filter(association=world.paris).order_by("pk")
    Routing.objects.filter(pk=first.pk).update(respond_by=timezone.now() + timedelta(hours=30))
    Routing.objects.filter(pk=second.pk).update(respond_by=timezone.now() + timedelta(hours=2))
    html = client_for(world.paris_worker).get("/inbox/").content.decode()
    assert html.index(f"routing-{second.pk}") < html.index(f"routing-{first.pk}")


def test_inbox_query_count_is_constant(api, world, django_assert_max_num_queries):
    client = client_for(world.paris_worker)
    api.submitted(world.referrer, ADULT_BODY)
    client.get("/inbox/")
    few = count_queries(lambda: client.get("/inbox/"))
    assert 0 < few <= 12
    for name in ("Ada", "Bea", "Cyd", "Dee"):
        api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": name}))
    with django_assert_max_num_queries(few):
        r = client.get("/inbox/")
    assert r.content.decode().count('href="/routings/') == 5


@pytest.mark.parametrize("who", ["referrer", "analyst", "coordinator"])
def test_wrong_roles_get_the_403_page_and_the_refusal_is_logged(world, who):
    client = client_for(getattr(world, who))
    for url in ("/inbox/", "/cases/", "/workload/", "/routings/1/", "/cases/MNR-2026-000001/"):
        before = logs(AccessAction.REFUSAL)
        r = client.get(url)
        assert r.status_code == 403, url
        assert "Access refused" in r.content.decode()
        assert logs(AccessAction.REFUSAL) == before + 1


def test_anonymous_is_sent_to_sign_in(world):
    r = Client(SERVER_NAME="localhost").get("/inbox/")
    assert r.status_code == 302 and r["Location"].startswith("/sign-in/")


def test_navigation_and_home_link_association_pages(world):
    html = client_for(world.paris_worker).get("/").content.decode()
    assert 'href="/inbox/"' in html and 'href="/cases/"' in html
    assert 'href="/workload/"' not in html
    html = client_for(world.paris_manager).get("/").content.decode()
    assert 'href="/workload/"' in html
    html = client_for(world.referrer).get("/").content.decode()
    assert 'href="/inbox/"' not in html


# --- routing --------------------------------------------------------------------------


def test_routing_detail_shows_the_referral_and_logs_the_read(world, pending):
    reference = pending.referral.reference
    r = client_for(world.paris_worker).get(f"/routings/{pending.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Blessing" in html and "Okafor" in html
    assert "Rencontrée lors d&#x27;un contrôle routier." in html
    assert "Possible duplicate" not in html
    assert 'id="accept-form"' in html and 'id="decline-form"' in html
    assert logs(AccessAction.REFERRAL_VIEW, reference, world.paris_worker) == 1


def test_routing_detail_flags_a_possible_duplicate(api, world, pending):
    api.submitted(world.other_referrer, ADULT_BODY)  # same person, another referrer
    second = Routing.objects.exclude(pk=pending.pk).get(outcome=RoutingOutcome.PENDING)
    worker = world.paris_worker if second.association == world.paris else world.national_worker
    html = client_for(worker).get(f"/routings/{second.pk}/").content.decode()
    assert 'id="possible-duplicate"' in html


def test_accept_opens_the_case_and_redirects_to_it(
    world, pending, django_capture_on_commit_callbacks
):
    client = client_for(world.paris_worker)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/routings/{pending.pk}/accept/")
    case = Case.objects.get(referral=pending.referral)
    assert r.status_code == 302 and r["Location"] == f"/cases/{case.reference}/"
    assert case.association == world.paris and case.assigned_to == world.paris_worker
    r = client.get(r["Location"])
    assert r.status_code == 200 and "Referral accepted: the case is open." in r.content.decode()
    # Accepting again: the service's transition error, shown as a message.
    r = client.post(f"/routings/{pending.pk}/accept/", follow=True)
    assert Case.objects.count() == 1
    assert r.redirect_chain[0][0] == f"/routings/{pending.pk}/"


def test_decline_without_reason_shows_a_field_error_and_changes_nothing(world, pending):
    history = Routing.history.count()
    r = client_for(world.paris_worker).post(f"/routings/{pending.pk}/decline/", {"reason": "  "})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="error-summary"' in html and 'href="#id_reason"' in html
    assert "<title>Error:" in html
    pending.refresh_from_db()
    assert pending.outcome == RoutingOutcome.PENDING
    assert Routing.history.count() == history


def test_decline_with_reason_moves_the_referral_on(
    world, pending, django_capture_on_commit_callbacks
):
    client = client_for(world.paris_worker)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/routings/{pending.pk}/decline/", {"reason": "Plus de place."})
    assert r.status_code == 302 and r["Location"] == "/inbox/"
    pending.refresh_from_db()
    assert pending.outcome == RoutingOutcome.DECLINED and pending.reason == "Plus de place."
    html = client.get("/inbox/").content.decode()
    assert "declined: it goes to the next association" in html
    assert f'href="/routings/{pending.pk}/"' not in html
    # The routing page no longer shows the referral (its grant is gone).
    html = client.get(f"/routings/{pending.pk}/").content.decode()
    assert "Blessing" not in html and "Plus de place." in html


def test_another_associations_routing_is_not_found(world, pending):
    client = client_for(world.national_worker)
    assert client.get(f"/routings/{pending.pk}/").status_code == 404
    assert client.post(f"/routings/{pending.pk}/accept/").status_code == 404
    assert client.post(f"/routings/{pending.pk}/decline/", {"reason": "x"}).status_code == 404
    pending.refresh_from_db()
    assert pending.outcome == RoutingOutcome.PENDING


def test_posts_need_the_csrf_token(world, pending):
    client = client_for(world.paris_worker, enforce_csrf_checks=True)
    assert client.post(f"/routings/{pending.pk}/accept/").status_code == 403
    assert client.post(f"/routings/{pending.pk}/decline/", {"reason": "x"}).status_code == 403
    pending.refresh_from_db()
    assert pending.outcome == RoutingOutcome.PENDING


# --- case list ------------------------------------------------------------------------


def test_case_list_shows_the_associations_cases_with_filters(api, world, open_case):
    client = client_for(world.paris_worker)
    html = client.get("/cases/").content.decode()
    assert f'href="/cases/{open_case.reference}/"' in html and "Blessing" in html
    assert (
        'href="/cases/' + open_case.reference + '/"'
        not in client_for(world.national_worker).get("/cases/").content.decode()
    )

    def shown(query):
        r = client.get(f"/cases/?{query}")
        assert r.status_code == 200
        return open_case.reference in r.content.decode().split('id="case-filters"')[1]

    assert shown("status=open") and not shown("status=closed")
    assert shown("assigned_to=me") and not shown("assigned_to=none")
    assert shown(f"assigned_to={world.paris_worker.pk}")
    assert not shown(f"assigned_to={world.paris_manager.pk}")
    assert shown("exploitation_form=sexual_exploitation")
    assert not shown("exploitation_form=forced_begging")
    assert not shown("overdue=true") and shown("overdue=false")
    ProtectionStep.objects.filter(case=open_case).update(
        due_date=timezone.localdate() - timedelta(days=2)
    )
    assert shown("overdue=true")
    # A value outside the choices is a field error, not a crash, and is not applied.
    r = client.get("/cases/?assigned_to=abc")
    assert r.status_code == 200 and 'id="error-summary"' in r.content.decode()


def test_case_list_paginates_with_a_constant_query_count(
    api, world, open_case, django_assert_max_num_queries
):
    client = client_for(world.paris_worker)
    few = count_queries(lambda: client.get("/cases/?status=open"))
    assert few <= 18  # with the access-log entry of the page shown (4 statements)
    for name in ("Ada", "Bea", "Cyd", "Dee", "Eve", "Fay"):
        api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": name}))
        routing = Routing.objects.get(outcome=RoutingOutcome.PENDING)
        api.post(world.paris_worker, f"/api/v1/routings/{routing.pk}/accept/")
    assert Case.objects.filter(association=world.paris).count() == 7
    with django_assert_max_num_queries(few):
        r = client.get("/cases/?status=open")
    assert r.content.decode().count('href="/cases/MNR-') == 7


def test_case_list_pages(api, world, open_case, monkeypatch):
    monkeypatch.setattr("web.views.association.CASES_PER_PAGE", 1)
    api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Ada"}))
    routing = Routing.objects.get(outcome=RoutingOutcome.PENDING)
    api.post(world.paris_worker, f"/api/v1/routings/{routing.pk}/accept/")
    client = client_for(world.paris_worker)
    html = client.get("/cases/?status=open").content.decode()
    assert 'href="?status=open&amp;page=2"' in html
    assert client.get("/cases/?status=open&page=2").content.decode().count('href="/cases/MNR-') == 1


# --- case page ------------------------------------------------------------------------


def test_case_page_shows_profile_plan_notes_and_logs_the_read(world, open_case):
    client = client_for(world.paris_worker)
    r = client.get(f"/cases/{open_case.reference}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Blessing" in html and "+33 6 12 34 56 78" in html
    steps = list(open_case.steps.all())
    assert len(steps) >= 4  # the proposed plan
    for step in steps:
        assert f'id="step-{step.pk}"' in html
    assert logs(AccessAction.CASE_VIEW, open_case.reference, world.paris_worker) == 1
    assert 'id="close-form"' in html and 'id="transfer-form"' in html


def test_case_page_query_count_is_constant(world, open_case, django_assert_max_num_queries):
    client = client_for(world.paris_worker)
    url = f"/cases/{open_case.reference}/"
    few = count_queries(lambda: client.get(url))
    for i in range(5):
        ProtectionStep.objects.create(case=open_case, kind="lawyer", owner=world.paris_manager)
        CaseNote.objects.create(
            case=open_case, text=f"n{i}", author=world.paris_manager, created_at=timezone.now()
        )
    with django_assert_max_num_queries(few):
        r = client.get(url)
    assert r.content.decode().count('class="mnr-note') == 5


def test_another_associations_case_is_not_found(world, open_case):
    client = client_for(world.national_worker)
    ref = open_case.reference
    assert client.get(f"/cases/{ref}/").status_code == 404
    assert client.get(f"/cases/{ref}/timeline/").status_code == 404
    step = open_case.steps.first()
    for url, data in [
        (f"/cases/{ref}/steps/", {"step-kind": "lawyer"}),
        (f"/cases/{ref}/steps/{step.pk}/", {"version": step.version, "status": "done"}),
        (f"/cases/{ref}/notes/", {"note-text": "x"}),
        (f"/cases/{ref}/close/", {"close-version": 1, "close-reason": "duplicate"}),
        (f"/cases/{ref}/reopen/", {"reopen-version": 1}),
        (f"/cases/{ref}/assign/", {"assign-version": 1}),
        (f"/cases/{ref}/transfer/", {"transfer-to_association": world.national.pk}),
    ]:
        assert client.post(url, data).status_code == 404, url
    assert logs(AccessAction.REFUSAL, ref, world.national_worker) >= 2
    assert not CaseNote.objects.exists()
    open_case.refresh_from_db()
    assert open_case.status == "open" and open_case.version == 1


def test_add_a_step(world, open_case):
    client = client_for(world.paris_worker)
    ref = open_case.reference
    r = client.post(
        f"/cases/{ref}/steps/",
        {
            "step-kind": "lawyer",
            "step-due_date": "2030-01-15",
            "step-owner": world.paris_manager.pk,
            "step-note": "Barreau de Paris",
        },
    )
    assert r.status_code == 302 and r["Location"] == f"/cases/{ref}/#plan"
    step = open_case.steps.get(kind="lawyer")
    assert step.owner == world.paris_manager and str(step.due_date) == "2030-01-15"
    assert (
        step.note == "Barreau de Paris" and step.history.first().history_user == world.paris_worker
    )


def test_add_a_step_with_bad_input_shows_errors_and_writes_nothing(world, open_case):
    client = client_for(world.paris_worker)
    count = open_case.steps.count()
    r = client.post(
        f"/cases/{open_case.reference}/steps/",
        {"step-kind": "", "step-due_date": "2030-02-01", "step-ends_on": "2030-01-01"},
    )
    assert r.status_code == 200
    assert 'href="#id_step-kind"' in r.content.decode()
    # The service's rule (end before start) lands on its field.
    r = client.post(
        f"/cases/{open_case.reference}/steps/",
        {
            "step-kind": "reflection_period",
            "step-due_date": "2030-02-01",
            "step-ends_on": "2030-01-01",
        },
    )
    assert 'href="#id_step-ends_on"' in r.content.decode()
    assert "The end cannot be before the start." in r.content.decode()
    assert open_case.steps.count() == count


@pytest.mark.parametrize(
    "status",
    [StepStatus.DONE, StepStatus.NOT_APPLICABLE, StepStatus.DECLINED_BY_PERSON, StepStatus.BLOCKED],
)
def test_step_status_buttons(world, open_case, status):
    client = client_for(world.paris_worker)
    step = open_case.steps.order_by("pk").first()
    html = client.get(f"/cases/{open_case.reference}/").content.decode()
    assert f'id="step-{step.pk}-{status}"' in html
    r = client.post(
        f"/cases/{open_case.reference}/steps/{step.pk}/",
        {"version": step.version, "status": status},
    )
    assert r.status_code == 302 and r["Location"].endswith(f"#step-{step.pk}")
    step.refresh_from_db()
    assert step.status == status and step.version == 2
    assert (step.done_at is not None) == (status == StepStatus.DONE)
    if status == StepStatus.NOT_APPLICABLE:
        html = client.get(f"/cases/{open_case.reference}/").content.decode()
        assert f'id="step-{step.pk}-planned"' in html  # back to planned
        assert f'id="step-{step.pk}-done"' not in html
        client.post(
            f"/cases/{open_case.reference}/steps/{step.pk}/", {"version": 2, "status": "planned"}
        )
        step.refresh_from_db()
        assert step.status == StepStatus.PLANNED


def test_stale_step_version_shows_a_message_and_writes_nothing(world, open_case):
    client = client_for(world.paris_worker)
    step = open_case.steps.order_by("pk").first()
    url = f"/cases/{open_case.reference}/steps/{step.pk}/"
    assert client.post(url, {"version": step.version, "status": "in_progress"}).status_code == 302
    history = ProtectionStep.history.filter(id=step.pk).count()
    r = client.post(url, {"version": step.version, "status": "done"}, follow=True)
    assert "Someone changed this since you read it: reload and try again." in r.content.decode()
    step.refresh_from_db()
    assert step.status == StepStatus.IN_PROGRESS and step.version == 2
    assert ProtectionStep.history.filter(id=step.pk).count() == history
    # No version at all: refused the same way.
    r = client.post(url, {"status": "done"}, follow=True)
    assert "out of date" in r.content.decode()
    step.refresh_from_db()
    assert step.status == StepStatus.IN_PROGRESS


def test_notes(world, open_case):
    client = client_for(world.paris_worker)
    url = f"/cases/{open_case.reference}/notes/"
    r = client.post(url, {"note-text": "   "})
    assert r.status_code == 200 and 'href="#id_note-text"' in r.content.decode()
    assert not CaseNote.objects.exists()
    r = client.post(url, {"note-text": "Entretien réalisé avec une interprète."})
    assert r.status_code == 302 and r["Location"].endswith("#notes")
    note = CaseNote.objects.get()
    assert note.author == world.paris_worker
    html = client.get(f"/cases/{open_case.reference}/").content.decode()
    assert "Entretien réalisé avec une interprète." in html
    assert world.paris_worker.username in html.split('id="note-list"')[1]


def test_assignment(world, open_case):
    client = client_for(world.paris_manager)
    url = f"/cases/{open_case.reference}/assign/"
    r = client.post(url, {"assign-version": 1, "assign-assigned_to": world.paris_manager.pk})
    assert r.status_code == 302
    open_case.refresh_from_db()
    assert open_case.assigned_to == world.paris_manager and open_case.version == 2
    # Someone outside the association is not a choice.
    r = client.post(url, {"assign-version": 2, "assign-assigned_to": world.national_worker.pk})
    assert r.status_code == 200 and 'href="#id_assign-assigned_to"' in r.content.decode()
    # Stale version: message, nothing written.
    r = client.post(url, {"assign-version": 1, "assign-assigned_to": ""}, follow=True)
    assert "Someone changed this since you read it" in r.content.decode()
    open_case.refresh_from_db()
    assert open_case.assigned_to == world.paris_manager


def test_close_and_reopen_with_the_version_check(world, open_case):
    client = client_for(world.paris_worker)
    ref = open_case.reference
    r = client.post(f"/cases/{ref}/close/", {"close-version": 1, "close-reason": ""})
    assert r.status_code == 200 and 'href="#id_close-reason"' in r.content.decode()
    r = client.post(
        f"/cases/{ref}/close/", {"close-version": 1, "close-reason": "support_completed"}
    )
    assert r.status_code == 302
    open_case.refresh_from_db()
    assert open_case.status == "closed" and open_case.closure_reason == "support_completed"
    html = client.get(f"/cases/{ref}/").content.decode()
    assert 'id="reopen-form"' in html and 'id="step-add-form"' not in html
    # Reopening with the version read before the closure: refused, nothing written.
    r = client.post(f"/cases/{ref}/reopen/", {"reopen-version": 1}, follow=True)
    assert "Someone changed this since you read it" in r.content.decode()
    open_case.refresh_from_db()
    assert open_case.status == "closed"
    r = client.post(f"/cases/{ref}/reopen/", {"reopen-version": 2})
    assert r.status_code == 302
    open_case.refresh_from_db()
    assert open_case.status == "open" and open_case.version == 3


def test_timeline_page_reads_through_the_logged_selector(world, open_case):
    client = client_for(world.paris_worker)
    client.post(f"/cases/{open_case.reference}/notes/", {"note-text": "secret content"})
    r = client.get(f"/cases/{open_case.reference}/timeline/")
    assert r.status_code == 200
    html = r.content.decode()
    for event in (
        "referral_submitted",
        "routing_created",
        "case_opened",
        "step_added",
        "note_added",
    ):
        assert f'data-event="{event}"' in html
    assert "secret content" not in html
    assert logs(AccessAction.CASE_TIMELINE, open_case.reference, world.paris_worker) == 1


# --- transfers ------------------------------------------------------------------------


def request_transfer(world, case, to):
    client = client_for(world.paris_worker)
    return client.post(
        f"/cases/{case.reference}/transfer/",
        {"transfer-to_association": to.pk, "transfer-reason": "Éloignement géographique."},
    )


def test_transfer_request_needs_a_reason_and_a_target(world, open_case):
    r = client_for(world.paris_worker).post(
        f"/cases/{open_case.reference}/transfer/",
        {"transfer-to_association": world.paris.pk, "transfer-reason": " "},
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert 'href="#id_transfer-to_association"' in html  # own association is not a choice
    assert not Transfer.objects.exists()


def test_transfer_accepted_by_the_receiving_association(world, open_case):
    ref = open_case.reference
    r = request_transfer(world, open_case, world.national)
    assert r.status_code == 302
    transfer = Transfer.objects.get()
    paris = client_for(world.paris_worker)
    html = paris.get(f"/cases/{ref}/").content.decode()
    assert 'id="pending-transfer"' in html and 'id="transfer-form"' not in html
    # The sending association cannot accept its own request; a third one cannot see it.
    assert paris.post(f"/transfers/{transfer.pk}/accept/").status_code == 403
    assert (
        client_for(world.minors_worker).post(f"/transfers/{transfer.pk}/accept/").status_code == 404
    )
    national = client_for(world.national_worker)
    for page in ("/inbox/", "/cases/"):
        assert f'id="transfer-{transfer.pk}"' in national.get(page).content.decode()
    r = national.post(f"/transfers/{transfer.pk}/accept/")
    assert r.status_code == 302 and r["Location"] == f"/cases/{ref}/"
    assert national.get(f"/cases/{ref}/").status_code == 200
    # The old association no longer sees the case.
    assert paris.get(f"/cases/{ref}/").status_code == 404
    assert paris.post(f"/cases/{ref}/notes/", {"note-text": "x"}).status_code == 404
    open_case.refresh_from_db()
    assert open_case.association == world.national


def test_transfer_rejected_by_the_receiving_association(world, open_case):
    request_transfer(world, open_case, world.national)
    transfer = Transfer.objects.get()
    national = client_for(world.national_worker)
    r = national.post(f"/transfers/{transfer.pk}/reject/", {"reason": "Pas de place."})
    assert r.status_code == 302 and r["Location"] == "/inbox/"
    transfer.refresh_from_db()
    assert transfer.status == "rejected" and transfer.decision_reason == "Pas de place."
    assert national.get(f"/cases/{open_case.reference}/").status_code == 404
    html = client_for(world.paris_worker).get(f"/cases/{open_case.reference}/").content.decode()
    assert 'id="pending-transfer"' not in html and 'id="transfer-form"' in html


def test_case_posts_need_the_csrf_token(world, open_case):
    client = client_for(world.paris_worker, enforce_csrf_checks=True)
    ref = open_case.reference
    assert client.post(f"/cases/{ref}/notes/", {"note-text": "x"}).status_code == 403
    assert (
        client.post(
            f"/cases/{ref}/close/", {"close-version": 1, "close-reason": "duplicate"}
        ).status_code
        == 403
    )
    assert not CaseNote.objects.exists()
    open_case.refresh_from_db()
    assert open_case.status == "open"


# --- workload -------------------------------------------------------------------------


def test_workload_for_managers(world, open_case):
    r = client_for(world.paris_manager).get("/workload/")
    assert r.status_code == 200
    html = r.content.decode()
    assert re.search(r'id="open-cases">1<', html)
    assert world.paris_worker.username in html


def test_workload_refuses_caseworkers(world, open_case):
    before = logs(AccessAction.REFUSAL, actor=world.paris_worker)
    r = client_for(world.paris_worker).get("/workload/")
    assert r.status_code == 403
    assert logs(AccessAction.REFUSAL, actor=world.paris_worker) == before + 1
