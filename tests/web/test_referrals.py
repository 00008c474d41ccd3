"""Referrer pages through HTTP: the guided referral (steps, saved progress, the
back button, the service's rules shown on the right step, idempotent resubmit),
"Mes signalements" and a referral's page with withdrawal; refusals and CSRF."""

# The shared fixtures (world, api) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AccessAction, AccessLog
from common import crypto
from referral.models import Referral, ReferralStatus
from tests.cases.conftest import ADULT_BODY, MINOR_BODY, accept, api, body, world  # noqa: F401
from tests.helpers import login_with_second_factor

pytestmark = pytest.mark.django_db

SITUATION = {
    "immediate_danger": "no",
    "exploitation_forms": ["forced_criminality"],
    "place": "france",
    "exploitation_departement": "93",
}
MINOR = {
    "consent_to_referral": "no",
    "given_name": "Ionut",
    "family_name": "Stanescu",
    "estimated_age": "14",
    "declared_minor": "on",
    "sex": "male",
    "nationality": "RO",
    "language_1": "ro",
    "current_departement": "93",
}
ADULT = {
    "consent_to_referral": "yes",
    "given_name": "Blessing",
    "family_name": "Okafor",
    "date_of_birth": "1999-04-02",
    "sex": "female",
    "nationality": "NG",
    "language_1": "en",
    "phone": "+33 6 12 34 56 78",
    "current_departement": "93",
}
CHILD_CODE = "child_specific.group_begging_or_stealing_supervised_by_adults"
ADULT_CODE = "coercion_at_destination.debt_bondage"
NEEDS = {"needs": ["shelter", "medical"], "narrative": "Interpellé avec un groupe encadré."}


def step(n: int) -> str:
    return f"/referrals/new/{n}/"


@pytest.fixture
def referrer_client(world) -> Client:
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.referrer)
    return client


def fill(client: Client, person: dict, indicators: list[str], needs: dict = NEEDS) -> None:
    """Steps 1 to 4, each accepted (redirected to the next)."""
    for n, data in enumerate([SITUATION, person, {"indicators": indicators}, needs], start=1):
        r = client.post(step(n), data)
        assert r.status_code == 302 and r["Location"] == step(n + 1), r.content.decode()[:3000]


def draft(client: Client) -> dict:
    return json.loads(crypto.decrypt(client.session["mnr_referral_draft"]))


def draft_key(client: Client) -> str:
    return draft(client)["key"]


def submit(client: Client, capture, key: str | None = None):
    with capture(execute=True):
        return client.post(step(5), {"draft": key or draft_key(client), "confirm": "on"})


# --- the steps ----------------------------------------------------------------------


def test_start_shows_step_one_with_the_stepper(referrer_client):
    r = referrer_client.get("/referrals/new/")
    assert r.status_code == 302 and r["Location"] == step(1)
    page = referrer_client.get(step(1)).content.decode()
    assert 'class="fr-stepper"' in page and 'data-fr-current-step="1"' in page
    assert "Step 1 of 5" in page
    assert 'id="step-back"' not in page  # nothing before step 1


def test_step_one_requires_its_choices_and_saves_nothing(referrer_client):
    r = referrer_client.post(step(1), {"place": "france"})
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="error-summary"' in page
    assert 'href="#id_immediate_danger_0"' in page  # the summary links to the field
    assert 'href="#id_exploitation_forms_0"' in page
    assert 'href="#id_exploitation_departement"' in page  # France needs the département
    assert r.context["form"].errors.keys() == {
        "immediate_danger",
        "exploitation_forms",
        "exploitation_departement",
    }
    assert draft(referrer_client)["done"] == []
    assert referrer_client.get(step(2))["Location"] == step(1)  # cannot skip ahead


def test_step_two_checks_formats(referrer_client):
    referrer_client.post(step(1), SITUATION)
    r = referrer_client.post(
        step(2), {**ADULT, "date_of_birth": "not a date", "estimated_age": "300"}
    )
    assert r.status_code == 200
    assert set(r.context["form"].errors) == {"date_of_birth", "estimated_age"}


def test_progress_is_kept_between_steps_and_on_reload(referrer_client):
    referrer_client.post(step(1), SITUATION)
    referrer_client.post(step(2), ADULT)
    # Reload / back in the browser: the saved answers are shown again.
    page = referrer_client.get(step(1)).content.decode()
    assert 'value="forced_criminality" dsfr="dsfr" id="id_exploitation_forms_3" checked' in page
    page = referrer_client.get(step(2)).content.decode()
    assert 'value="Blessing"' in page and 'value="1999-04-02"' in page
    # Starting again resumes at the first step not done.
    assert referrer_client.get("/referrals/new/")["Location"] == step(3)


def test_the_draft_is_encrypted_in_the_session_table(referrer_client):
    referrer_client.post(step(1), SITUATION)
    referrer_client.post(step(2), ADULT)
    stored = Session.objects.get(session_key=referrer_client.session.session_key).session_data
    decoded = json.dumps(SessionStore().decode(stored))
    for clear in ("Blessing", "Okafor", "1999-04-02", "12 34 56 78"):
        assert clear not in stored and clear not in decoded
    assert referrer_client.get(step(2)).content.decode().count('value="Okafor"') == 1


def test_previous_button_keeps_what_was_typed_without_checking_it(referrer_client):
    referrer_client.post(step(1), SITUATION)
    r = referrer_client.post(step(2), {"action": "back", "given_name": "Blessing"})
    assert r.status_code == 302 and r["Location"] == step(1)
    page = referrer_client.get(step(2)).content.decode()
    assert 'value="Blessing"' in page and 'id="error-summary"' not in page


def test_no_personal_data_in_any_url(referrer_client, django_capture_on_commit_callbacks):
    locations = []
    for n, data in enumerate([SITUATION, ADULT, {"indicators": [ADULT_CODE]}, NEEDS], start=1):
        locations.append(referrer_client.post(step(n), data)["Location"])
    locations.append(submit(referrer_client, django_capture_on_commit_callbacks)["Location"])
    for location in locations:
        assert "Blessing" not in location and "Okafor" not in location and "1999" not in location


def test_indicators_follow_the_persons_public_and_language(referrer_client):
    referrer_client.post(step(1), SITUATION)
    referrer_client.post(step(2), ADULT)
    page = referrer_client.get(step(3)).content.decode()
    assert ADULT_CODE in page and CHILD_CODE not in page
    assert "Deceptive recruitment" in page  # the data's English label
    referrer_client.post(step(2), MINOR)
    page = referrer_client.get(step(3), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert CHILD_CODE in page and "Recrutement trompeur" in page


def test_unknown_indicator_is_refused_by_the_form(referrer_client):
    referrer_client.post(step(1), SITUATION)
    referrer_client.post(step(2), ADULT)
    r = referrer_client.post(step(3), {"indicators": ["made.up"]})
    assert r.status_code == 200 and "indicators" in r.context["form"].errors


def test_review_summarises_everything(referrer_client):
    fill(referrer_client, ADULT, [ADULT_CODE])
    r = referrer_client.get(step(5))
    page = r.content.decode()
    for text in (
        "Blessing",
        "Okafor",
        "02/04/1999",
        "Nigeria",
        "English",
        "93 — Seine-Saint-Denis",
    ):
        assert text in page
    assert "Forced criminality" in page and "Shelter" in page
    assert "which will contact them" in page  # what happens: an adult who agreed
    assert 'name="draft"' in page


def test_last_step_needs_the_confirmation(referrer_client):
    fill(referrer_client, ADULT, [ADULT_CODE])
    r = referrer_client.post(step(5), {"draft": draft_key(referrer_client)})
    assert r.status_code == 200 and "confirm" in r.context["form"].errors
    assert not Referral.objects.exists()


# --- submitting ---------------------------------------------------------------------


def test_minor_is_submitted_and_the_crip_notice_shown(
    referrer_client, world, django_capture_on_commit_callbacks
):
    fill(referrer_client, MINOR, [CHILD_CODE])
    assert "presumed to be a minor" in referrer_client.get(step(5)).content.decode()
    r = submit(referrer_client, django_capture_on_commit_callbacks)
    referral = Referral.objects.get()
    assert r["Location"] == f"/referrals/{referral.reference}/submitted/"
    assert referral.referring_user == world.referrer
    assert referral.person.presumed_minor and referral.crip_agency == world.crip93
    assert referral.indicators == [CHILD_CODE]
    assert referral.person.languages == ["ro"]
    assert "mnr_referral_draft" not in referrer_client.session  # the draft is cleared
    page = referrer_client.get(r["Location"]).content.decode()
    assert referral.reference in page and 'id="crip-notified"' in page
    assert world.minors.name in page  # routed to the association for minors
    detail = referrer_client.get(f"/referrals/{referral.reference}/").content.decode()
    assert 'id="crip-status"' in detail and "Notified" in detail


def test_adult_without_consent_cannot_give_identity(
    referrer_client, django_capture_on_commit_callbacks
):
    adult_refusing = {**ADULT, "consent_to_referral": "no"}
    fill(referrer_client, adult_refusing, [ADULT_CODE])
    page = referrer_client.get(step(5)).content.decode()
    assert "anonymous notification" in page
    r = submit(referrer_client, django_capture_on_commit_callbacks)
    assert r.status_code == 200 and not Referral.objects.exists()
    page = r.content.decode()
    assert "<title>Error: " in page
    # The service's refusals, each linked to its step and field.
    for anchor in (
        "/referrals/new/2/#id_given_name",
        "/referrals/new/2/#id_family_name",
        "/referrals/new/2/#id_date_of_birth",
        "/referrals/new/2/#id_phone",
        "/referrals/new/4/#id_narrative",
    ):
        assert f'href="{anchor}"' in page
    # On step 2, the refused fields carry the error.
    r = referrer_client.get(step(2))
    assert {"given_name", "family_name", "date_of_birth", "phone"} <= set(r.context["form"].errors)
    # Emptied, the anonymous notification goes through.
    referrer_client.post(
        step(2),
        {**adult_refusing, "given_name": "", "family_name": "", "date_of_birth": "", "phone": ""},
    )
    referrer_client.post(step(4), {"needs": ["shelter"], "narrative": ""})
    r = submit(referrer_client, django_capture_on_commit_callbacks)
    assert r.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.NOTIFIED and referral.person.given_name == ""
    page = referrer_client.get(r["Location"]).content.decode()
    assert "anonymous notification" in page


def test_resubmitting_never_creates_a_second_referral(
    referrer_client, django_capture_on_commit_callbacks
):
    fill(referrer_client, ADULT, [ADULT_CODE])
    sealed = referrer_client.session["mnr_referral_draft"]
    key = draft_key(referrer_client)
    first = submit(referrer_client, django_capture_on_commit_callbacks)
    # The same page posted again (back button, double click after the draft was cleared).
    again = submit(referrer_client, django_capture_on_commit_callbacks, key=key)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    # A double click whose second request still saw the draft: the service replays.
    session = referrer_client.session
    session["mnr_referral_draft"] = sealed
    session.pop("mnr_referral_submitted")
    session.save()
    replay = submit(referrer_client, django_capture_on_commit_callbacks, key=key)
    assert replay["Location"] == first["Location"]
    assert Referral.objects.count() == 1


def test_a_new_draft_after_submitting_files_a_new_referral(
    referrer_client, django_capture_on_commit_callbacks
):
    fill(referrer_client, ADULT, [ADULT_CODE])
    first_key = draft_key(referrer_client)
    submit(referrer_client, django_capture_on_commit_callbacks)
    assert referrer_client.get("/referrals/new/")["Location"] == step(1)
    fill(referrer_client, MINOR, [CHILD_CODE])
    assert draft_key(referrer_client) != first_key
    submit(referrer_client, django_capture_on_commit_callbacks)
    assert Referral.objects.count() == 2


# --- refusals -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["paris_worker", "analyst", "coordinator"])
@pytest.mark.parametrize(
    "url", ["/referrals/new/", "/referrals/new/1/", "/referrals/", "/referrals/MNR-2026-000001/"]
)
def test_other_roles_get_a_logged_403(world, who, url):
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    login_with_second_factor(client, getattr(world, who))
    r = client.get(url)
    assert r.status_code == 403
    entry = AccessLog.objects.get(action=AccessAction.REFUSAL, actor=getattr(world, who))
    assert entry.detail == {"method": "GET", "path": url}


def test_association_cannot_post_a_step(world):
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, world.paris_worker)
    assert client.post(step(1), SITUATION).status_code == 403
    assert "mnr_referral_draft" not in client.session


def test_anonymous_is_sent_to_sign_in(world):
    r = Client(SERVER_NAME="localhost").get("/referrals/new/1/")
    assert r.status_code == 302 and r["Location"].startswith("/sign-in/")


def test_another_referrers_referral_is_not_found(api, world, referrer_client):
    other = api.submitted(world.other_referrer, ADULT_BODY)["reference"]
    assert referrer_client.get(f"/referrals/{other}/").status_code == 404
    assert referrer_client.get(f"/referrals/{other}/submitted/").status_code == 404
    r = referrer_client.post(f"/referrals/{other}/withdraw/", {"reason": "x"})
    assert r.status_code == 404
    assert Referral.objects.get(reference=other).status == ReferralStatus.ROUTED
    assert referrer_client.get("/referrals/MNR-2020-999999/").status_code == 404


def test_csrf_is_enforced(api, world):
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    client = Client(SERVER_NAME="localhost", enforce_csrf_checks=True)
    client.force_login(world.referrer)
    assert client.post(step(1), SITUATION).status_code == 403
    assert client.post(f"/referrals/{reference}/withdraw/", {"reason": "x"}).status_code == 403
    assert Referral.objects.get(reference=reference).status == ReferralStatus.ROUTED
    # With the token from the page, the same POST goes through.
    client.get(step(1))
    token = client.cookies["csrftoken"].value
    r = client.post(step(1), {**SITUATION, "csrfmiddlewaretoken": token})
    assert r.status_code == 302


# --- Mes signalements ---------------------------------------------------------------


def test_list_shows_own_referrals_with_status_and_association(api, world, referrer_client):
    adult = api.submitted(world.referrer, ADULT_BODY)["reference"]
    minor = api.submitted(world.referrer, MINOR_BODY)["reference"]
    other = api.submitted(world.other_referrer, ADULT_BODY)["reference"]
    r = referrer_client.get("/referrals/")
    page = r.content.decode()
    assert adult in page and minor in page and other not in page
    assert world.paris.name in page and world.minors.name in page
    assert "fr-badge--info" in page
    assert "Okafor" not in page  # names are not listed
    r = referrer_client.get("/referrals/", {"status": "withdrawn"})
    assert adult not in r.content.decode() and 'id="no-referrals"' in r.content.decode()


def test_list_shows_the_case_status_never_its_content(api, world, referrer_client):
    case = accept(api, world, ADULT_BODY, world.paris_worker)
    page = referrer_client.get("/referrals/").content.decode()
    assert "fr-badge--success" in page and "Open" in page
    detail = referrer_client.get(f"/referrals/{case['referral']['reference']}/").content.decode()
    assert "Open" in detail and "/cases/" not in detail
    assert 'id="withdraw-submit"' not in detail  # accepted: no longer withdrawable


def test_list_filter_rejects_unknown_status_gracefully(referrer_client):
    r = referrer_client.get("/referrals/", {"status": "nonsense"})
    assert r.status_code == 200 and "status" in r.context["filters"].errors


def test_list_query_count_is_constant(api, world, referrer_client, django_assert_max_num_queries):
    api.submitted(world.referrer, ADULT_BODY)
    reset_queries()  # request_started empties the log: start from an empty one
    with CaptureQueriesContext(connection) as few:
        assert referrer_client.get("/referrals/").status_code == 200
    count = len(few.captured_queries)  # now: the log is emptied by the next request
    assert 0 < count <= 12
    for _ in range(6):
        api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Autre"}))
    accept(api, world, MINOR_BODY, world.minors_worker)
    with django_assert_max_num_queries(count):
        r = referrer_client.get("/referrals/")
    assert len(r.context["rows"]) == 8


def test_list_is_paginated(api, world, referrer_client, monkeypatch):
    monkeypatch.setattr("web.views.referrals.PAGE_SIZE", 2)
    refs = [api.submitted(world.referrer, ADULT_BODY)["reference"] for _ in range(3)]
    page1 = referrer_client.get("/referrals/").content.decode()
    page2 = referrer_client.get("/referrals/", {"page": 2}).content.decode()
    assert refs[2] in page1 and refs[0] not in page1
    assert refs[0] in page2 and 'class="fr-pagination"' in page1


# --- a referral's page and withdrawal -----------------------------------------------


def test_detail_shows_what_the_author_may_see_and_logs_the_read(api, world, referrer_client):
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    r = referrer_client.get(f"/referrals/{reference}/")
    page = r.content.decode()
    for text in ("Blessing", "Okafor", "02/04/1999", "Nigeria", "English", world.paris.name):
        assert text in page
    assert "Debt bondage" in page  # the indicator's label, not its code
    assert 'id="withdraw-submit"' in page
    assert AccessLog.objects.filter(
        action=AccessAction.REFERRAL_VIEW, actor=world.referrer, target_id=reference
    ).exists()


def test_withdraw_with_an_optional_reason(api, world, referrer_client):
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    url = f"/referrals/{reference}/withdraw/"
    r = referrer_client.post(url, {"reason": "x" * 501})
    assert r.status_code == 200 and "reason" in r.context["form"].errors
    assert Referral.objects.get(reference=reference).status == ReferralStatus.ROUTED
    r = referrer_client.post(url, {"reason": "Déjà signalé par un collègue."})
    assert r.status_code == 302 and r["Location"] == f"/referrals/{reference}/"
    referral = Referral.objects.get(reference=reference)
    assert referral.status == ReferralStatus.WITHDRAWN
    assert referral.routings.get().outcome == "cancelled"
    page = referrer_client.get(r["Location"]).content.decode()
    assert "Déjà signalé" in page and 'id="withdraw-submit"' not in page
    # As in the API, the reason may be left out.
    other = api.submitted(world.referrer, ADULT_BODY)["reference"]
    r = referrer_client.post(f"/referrals/{other}/withdraw/", {"reason": ""})
    assert r.status_code == 302
    assert Referral.objects.get(reference=other).status == ReferralStatus.WITHDRAWN


def test_withdrawing_an_accepted_referral_is_refused_with_a_message(api, world, referrer_client):
    reference = accept(api, world, ADULT_BODY, world.paris_worker)["referral"]["reference"]
    url = f"/referrals/{reference}/withdraw/"
    r = referrer_client.post(url, {"reason": "trop tard"}, follow=True)
    assert r.redirect_chain[-1][0] == f"/referrals/{reference}/"
    assert Referral.objects.get(reference=reference).status == ReferralStatus.ACCEPTED
    assert "fr-alert--error" in r.content.decode()


def test_withdraw_is_post_only(api, world, referrer_client):
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    assert referrer_client.get(f"/referrals/{reference}/withdraw/").status_code == 405


def test_home_links_a_referrer_to_both_pages(referrer_client):
    page = referrer_client.get("/").content.decode()
    assert 'href="/referrals/new/"' in page and 'href="/referrals/"' in page
