"""The identification pages through Django's test client: the unit's inbox,
file, decision and dashboard; the Identification section of the case page
(evidence, the request for the formal decision, reconsideration); the stage
and status on the referrer's page. Refusals by role, by region and by the
children's training; bad input shows field errors, never a 500.

Clients ask for English (tests/web/association/conftest.py): until the
catalogue is compiled, the English msgids show in either language."""

# The shared fixtures (world, api, units) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Role
from audit.models import AccessAction, AccessLog
from cases.services import SHARE_GRANTEE_ROLES
from identification.models import Decision, Evidence, Identification, Reconsideration
from tests.web.test_refusals import DECISION_MAKER, PAGES

from .conftest import (
    ADULT_BODY,
    MINOR_BODY,
    accepted_case,
    api,  # noqa: F401
    body,
    client_for,
    recovery_over,
    routed,
    units,  # noqa: F401
    world,  # noqa: F401
)

pytestmark = pytest.mark.django_db

INDICATOR = "coercion_at_destination.debt_bondage"
INBOX = "/identification/"
DASHBOARD = "/identification/dashboard/"


def file_url(identification: Identification, tail: str = "") -> str:
    return f"/identification/{identification.referral.reference}/{tail}"


def case_url(identification: Identification, tail: str = "") -> str:
    return f"/cases/{identification.referral.reference}/{tail}"


def decide(client, identification: Identification, **data):
    identification.refresh_from_db()
    fields = {"version": identification.version, **data}
    return client.post(
        file_url(identification, "decide/"), {f"decision-{k}": v for k, v in fields.items()}
    )


def add_evidence(client, identification: Identification, **data):
    return client.post(
        case_url(identification, "identification/evidence/"),
        {f"evidence-{k}": v for k, v in data.items()},
    )


NEGATIVE = {
    "outcome": "negative",
    "reasons": ["no_exploitation", "insufficient_indicators"],
    "explanation": "Aucun élément d'exploitation à ce stade.",
}


# --- the unit's inbox and dashboard ---------------------------------------------------


def test_the_inbox_lists_danger_first_then_minors_with_badges_and_time_left(api, world, units):
    adult = routed(api, world)
    minor = routed(api, world, MINOR_BODY)
    danger = routed(api, world, body(ADULT_BODY, immediate_danger=True, narrative="Autre."))
    r = client_for(units.idf_child_dm).get(INBOX)
    assert r.status_code == 200
    html = r.content.decode()
    rows = [html.index(f'id="file-{f.pk}"') for f in (danger, minor, adult)]
    assert rows == sorted(rows)  # danger, then the minor, then the rest
    assert f'id="danger-{danger.pk}"' in html and f'id="minor-{minor.pk}"' in html
    assert f'id="minor-{adult.pk}"' not in html and f'id="danger-{adult.pk}"' not in html
    assert ">DANGER<" in html and ">MINOR<" in html  # "MINEUR" in French
    assert f'href="/identification/{adult.referral.reference}/"' in html
    assert "Blessing" not in html and "Okafor" not in html  # no identity
    # Untrained for children: the minor's file is not theirs.
    html = client_for(units.idf_dm).get(INBOX).content.decode()
    assert f'id="file-{adult.pk}"' in html and f'id="file-{minor.pk}"' not in html
    # Another region's unit lists none of them.
    assert 'id="identification-empty"' in client_for(units.occ_dm).get(INBOX).content.decode()


def test_an_overdue_file_says_so(api, world, units):
    identification = routed(api, world)
    Identification.objects.filter(pk=identification.pk).update(
        decide_by=timezone.now() - timedelta(hours=3)
    )
    html = client_for(units.idf_dm).get(INBOX).content.decode()
    assert f'id="overdue-{identification.pk}"' in html and "Overdue by 3 h" in html
    html = client_for(units.idf_dm).get(file_url(identification)).content.decode()
    assert 'id="time-left"' in html and "Overdue by" in html


def test_the_inbox_query_count_is_constant(api, world, units, django_assert_max_num_queries):
    routed(api, world)
    client = client_for(units.idf_dm)
    client.get(INBOX)
    with django_assert_max_num_queries(12) as first:
        client.get(INBOX)
    few = len(first.captured_queries)
    for name in ("Ada", "Bea", "Cyd"):
        routed(api, world, body(ADULT_BODY, person={"given_name": name}))
    with django_assert_max_num_queries(few):
        r = client.get(INBOX)
    assert r.content.decode().count('href="/identification/MNR-') == 4


def test_the_dashboard_counts_the_units_backlog(api, world, units):
    routed(api, world)
    routed(api, world, body(ADULT_BODY, immediate_danger=True))
    late = routed(api, world, body(ADULT_BODY, narrative="En retard."))
    Identification.objects.filter(pk=late.pk).update(decide_by=timezone.now() - timedelta(hours=1))
    r = client_for(units.idf_dm).get(DASHBOARD)
    assert r.status_code == 200
    dashboard = r.context["dashboard"]
    assert (dashboard.pending, dashboard.danger, dashboard.overdue) == (3, 1, 1)
    html = r.content.decode()
    assert 'id="figure-pending"><strong>3</strong>' in html
    assert 'id="figure-overdue"><strong>1</strong>' in html


def test_the_navigation_and_home_lead_decision_makers_to_their_pages(units):
    html = client_for(units.idf_dm).get("/").content.decode()
    assert f'href="{INBOX}"' in html and f'href="{DASHBOARD}"' in html
    assert 'href="/inbox/"' not in html and 'href="/cases/"' not in html


# --- the file page --------------------------------------------------------------------


def test_the_file_page_shows_what_the_unit_decides_on_without_identity(api, world, units):
    identification = routed(api, world)
    r = client_for(units.idf_dm).get(file_url(identification))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="referral-facts"' in html and "Sexual exploitation" in html
    assert "Rencontrée lors d&#x27;un contrôle routier." in html  # the narrative
    assert 'id="indicator-list"' in html and "Debt bondage" in html  # a label, not the code
    assert INDICATOR not in html
    assert "Blessing" not in html and "Okafor" not in html and "+33" not in html
    # The preliminary stage's outcomes only, and its reasons.
    assert 'value="positive"' in html and 'value="negative"' in html
    assert 'value="identified"' not in html and 'value="withdrawn"' not in html
    assert 'value="no_exploitation"' in html and 'value="person_left"' not in html
    assert AccessLog.objects.filter(
        action=AccessAction.IDENTIFICATION_VIEW,
        actor=units.idf_dm,
        target_id=identification.referral.reference,
    ).exists()


def test_the_formal_stage_offers_its_outcomes_and_withdrawal_reasons(api, world, units):
    identification = routed(api, world)
    accepted_case(api, world.paris_worker)
    assert decide(client_for(units.idf_dm), identification, outcome="positive").status_code == 302
    recovery_over(identification)
    worker = client_for(world.paris_worker)
    add_evidence(worker, identification, section="interview", text="Entretien avec interprète.")
    worker.post(case_url(identification, "identification/submit/"))
    html = client_for(units.idf_dm).get(file_url(identification)).content.decode()
    for code in ("identified", "not_identified", "withdrawn", "person_left", "no_act"):
        assert f'value="{code}"' in html, code
    assert 'value="positive"' not in html
    assert "Entretien avec interprète." in html  # the evidence file
    assert 'id="decision-list"' in html  # the preliminary decision


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["referrer", "paris_worker", "coordinator", "analyst"])
def test_other_roles_are_refused_the_units_pages(api, world, units, who):
    identification = routed(api, world)
    client = client_for(getattr(world, who))
    for url in (INBOX, DASHBOARD, file_url(identification)):
        assert client.get(url).status_code == 403, url
    r = client.post(file_url(identification, "decide/"), {"decision-outcome": "positive"})
    assert r.status_code == 403
    assert not Decision.objects.exists()


def test_decision_makers_are_refused_every_other_page(units):
    client = client_for(units.idf_dm)
    for name, page in PAGES.items():
        if name == "home" or DECISION_MAKER in page.allowed:
            continue
        if name.startswith("shared-case") and Role.DECISION_MAKER in SHARE_GRANTEE_ROLES:
            continue  # who a case may be shared with is cases.services' rule
        r = getattr(client, page.method)(page.url())
        assert r.status_code == 403, (name, r.status_code)


def test_another_regions_unit_gets_404(api, world, units):
    identification = routed(api, world)
    client = client_for(units.occ_dm)
    assert client.get(file_url(identification)).status_code == 404
    r = client.post(
        file_url(identification, "decide/"),
        {"decision-outcome": "positive", "decision-version": identification.version},
    )
    assert r.status_code == 404
    identification.refresh_from_db()
    assert identification.status == "preliminary_pending" and not Decision.objects.exists()
    assert client.get("/identification/MNR-1999-999999/").status_code == 404


def test_a_minors_file_is_not_found_for_a_member_not_trained_for_children(api, world, units):
    identification = routed(api, world, MINOR_BODY)
    untrained = client_for(units.idf_dm)
    assert untrained.get(file_url(identification)).status_code == 404
    assert decide(untrained, identification, outcome="positive").status_code == 404
    assert client_for(units.idf_child_dm).get(file_url(identification)).status_code == 200


def test_the_association_of_another_case_is_refused_the_identification_forms(api, world, units):
    identification = routed(api, world)
    accepted_case(api, world.paris_worker)
    r = add_evidence(
        client_for(world.national_worker), identification, section="interview", text="x"
    )
    assert r.status_code == 404
    r = client_for(world.national_worker).post(case_url(identification, "identification/submit/"))
    assert r.status_code == 404
    assert not Evidence.objects.exists()


# --- deciding -------------------------------------------------------------------------


def test_a_positive_decision_through_the_form_opens_the_recovery_period(api, world, units):
    identification = routed(api, world)
    case = accepted_case(api, world.paris_worker)
    r = decide(client_for(units.idf_dm), identification, outcome="positive")
    assert r.status_code == 302 and r["Location"] == INBOX
    identification.refresh_from_db()
    assert identification.status == "presumed"
    assert identification.recovery_starts_on == timezone.localdate()
    assert identification.history.first().history_user == units.idf_dm
    # The association reads it on the case page, with the period's dates.
    html = client_for(world.paris_worker).get(f"/cases/{case.reference}/").content.decode()
    assert 'id="identification"' in html and "Presumed victim (recovery period)" in html
    end = identification.recovery_ends_on.strftime("%m/%d/%Y")
    assert end in html or identification.recovery_ends_on.strftime("%d/%m/%Y") in html
    assert 'id="evidence-submit-later"' in html and 'id="evidence-submit-form"' not in html


def test_a_negative_decision_shows_its_reasons_to_the_association_only(api, world, units):
    identification = routed(api, world)
    case = accepted_case(api, world.paris_worker)
    r = decide(client_for(units.idf_dm), identification, **NEGATIVE)
    assert r.status_code == 302
    decision = Decision.objects.get()
    assert decision.outcome == "negative" and decision.reasons == sorted(NEGATIVE["reasons"])
    html = client_for(world.paris_worker).get(f"/cases/{case.reference}/").content.decode()
    assert "No purpose of exploitation" in html and "Indicators not sufficient" in html
    assert "Aucun élément d&#x27;exploitation à ce stade." in html
    assert 'id="reconsider-form"' in html
    # The referrer: the stage and the status, no reasons.
    r = client_for(world.referrer).get(f"/referrals/{identification.referral.reference}/")
    html = r.content.decode()
    assert 'id="identification-status"' in html and "Not a presumed victim" in html
    assert "No purpose of exploitation" not in html and "Aucun élément" not in html


def test_bad_decisions_show_field_errors_and_decide_nothing(api, world, units):
    identification = routed(api, world)
    client = client_for(units.idf_dm)
    cases = [
        ({}, {"outcome"}),
        ({"outcome": "identified"}, {"outcome"}),  # not an outcome of this stage
        ({"outcome": "negative"}, {"reasons", "explanation"}),
        ({"outcome": "positive", "reasons": ["no_act"]}, {"reasons"}),
        ({"outcome": "negative", "reasons": ["person_left"], "explanation": "x"}, {"reasons"}),
        ({"outcome": "positive", "explanation": "x" * 5001}, {"explanation"}),
    ]
    for data, fields in cases:
        r = decide(client, identification, **data)
        assert r.status_code == 200, (data, r.status_code)
        assert set(r.context["form"].errors) == fields, (data, r.context["form"].errors)
        html = r.content.decode()
        assert 'id="error-summary"' in html and "<title>Error:" in html
    identification.refresh_from_db()
    assert identification.status == "preliminary_pending" and not Decision.objects.exists()


def test_a_stale_page_or_a_missing_version_decides_nothing(api, world, units):
    identification = routed(api, world)
    client = client_for(units.idf_dm)
    r = client.post(file_url(identification, "decide/"), {"decision-outcome": "positive"})
    assert r.status_code == 302 and r["Location"] == file_url(identification)
    r = client.post(
        file_url(identification, "decide/"),
        {"decision-outcome": "positive", "decision-version": identification.version + 5},
        follow=True,
    )
    assert r.status_code == 200 and "reload" in r.content.decode()
    assert not Decision.objects.exists()


def test_a_decided_file_leaves_no_form_and_a_final_one_leaves_the_unit(api, world, units):
    identification = routed(api, world)
    accepted_case(api, world.paris_worker)
    client = client_for(units.idf_dm)
    decide(client, identification, outcome="positive")
    html = client.get(file_url(identification)).content.decode()
    assert 'id="decide-none"' in html and 'id="decision-form"' not in html
    recovery_over(identification)
    worker = client_for(world.paris_worker)
    add_evidence(worker, identification, section="document_seen", text="Passeport vu.")
    worker.post(case_url(identification, "identification/submit/"))
    assert decide(client, identification, outcome="identified").status_code == 302
    assert client.get(file_url(identification)).status_code == 404  # no longer the unit's


# --- the case page's Identification section -------------------------------------------


def test_evidence_is_added_from_the_case_page_and_bad_input_shows_errors(api, world, units):
    identification = routed(api, world)
    accepted_case(api, world.paris_worker)
    worker = client_for(world.paris_worker)
    html = worker.get(case_url(identification)).content.decode()
    assert 'id="evidence-form"' in html and f'value="{INDICATOR}"' in html
    tomorrow = timezone.localdate() + timedelta(days=1)
    bad = [
        ({"section": "indicator_confirmed", "text": "Vu."}, {"indicator"}),
        ({"section": "interview", "text": "Vu.", "indicator": INDICATOR}, {"indicator"}),
        ({"section": "interview", "text": "Vu.", "on_date": str(tomorrow)}, {"on_date"}),
        ({"section": "interview", "text": ""}, {"text"}),
        ({"section": "nonsense", "text": "Vu."}, {"section"}),
        ({"section": "interview", "text": "Vu.", "on_date": "31/02/2026"}, {"on_date"}),
    ]
    for data, fields in bad:
        r = add_evidence(worker, identification, **data)
        assert r.status_code == 200, (data, r.status_code)
        assert set(r.context["evidence_form"].errors) == fields, data
        assert 'id="error-summary"' in r.content.decode()
    assert not Evidence.objects.exists()
    r = add_evidence(
        worker,
        identification,
        section="indicator_confirmed",
        indicator=INDICATOR,
        on_date=str(timezone.localdate()),
        text="Dette envers le réseau confirmée en entretien.",
    )
    assert r.status_code == 302 and r["Location"].endswith("#identification")
    entry = Evidence.objects.get()
    assert (entry.indicator, entry.added_by) == (INDICATOR, world.paris_worker)
    html = worker.get(case_url(identification)).content.decode()
    assert f'id="evidence-{entry.pk}"' in html and "Debt bondage" in html


def test_the_formal_decision_is_asked_only_when_possible(api, world, units):
    identification = routed(api, world)
    accepted_case(api, world.paris_worker)
    worker = client_for(world.paris_worker)
    decide(client_for(units.idf_dm), identification, outcome="positive")
    add_evidence(worker, identification, section="first_assessment", text="Récit cohérent.")
    recovery_over(identification)
    # The first assessment alone is not enough: no button, and the service refuses.
    html = worker.get(case_url(identification)).content.decode()
    assert 'id="evidence-submit-form"' not in html
    r = worker.post(case_url(identification, "identification/submit/"), follow=True)
    assert r.status_code == 200 and "Add what the file rests on" in r.content.decode()
    add_evidence(worker, identification, section="interview", text="Entretien.")
    html = worker.get(case_url(identification)).content.decode()
    assert 'id="evidence-submit-form"' in html
    r = worker.post(case_url(identification, "identification/submit/"))
    assert r.status_code == 302
    identification.refresh_from_db()
    assert identification.status == "formal_pending" and identification.decide_by is not None
    html = worker.get(case_url(identification)).content.decode()
    assert 'id="evidence-submit-form"' not in html and 'id="identification-deadline"' in html


def test_a_negative_decision_is_reconsidered_from_the_case_page(api, world, units):
    identification = routed(api, world)
    accepted_case(api, world.paris_worker)
    decide(client_for(units.idf_dm), identification, **NEGATIVE)
    worker = client_for(world.paris_worker)
    url = case_url(identification, "identification/reconsider/")
    r = worker.post(url, {"reconsider-new_elements": "  "})
    assert r.status_code == 200 and set(r.context["reconsider_form"].errors) == {"new_elements"}
    r = worker.post(url, {"reconsider-new_elements": "Nouveau récit avec une interprète."})
    assert r.status_code == 302 and r["Location"].endswith("#identification")
    identification.refresh_from_db()
    assert identification.status == "preliminary_reconsideration"
    assert Reconsideration.objects.get().requested_by == world.paris_worker
    html = worker.get(case_url(identification)).content.decode()
    assert 'id="reconsider-form"' not in html and "Nouveau récit" in html
    # Once only.
    r = worker.post(url, {"reconsider-new_elements": "Encore."}, follow=True)
    assert Reconsideration.objects.count() == 1
    # The member who decided does not decide again; another one does.
    html = client_for(units.idf_dm).get(file_url(identification)).content.decode()
    assert 'id="decide-other-member"' in html and 'id="decision-form"' not in html
    other = client_for(units.idf_dm2)
    assert 'id="decision-form"' in other.get(file_url(identification)).content.decode()
    assert decide(other, identification, outcome="positive").status_code == 302
    identification.refresh_from_db()
    assert identification.status == "presumed"
    assert Decision.objects.filter(reconsideration=True, decided_by=units.idf_dm2).exists()


def test_a_case_without_a_file_shows_no_identification_section(api, world):
    case = accepted_case(api, (api.submitted(world.referrer, ADULT_BODY), world.paris_worker)[1])
    html = client_for(world.paris_worker).get(f"/cases/{case.reference}/").content.decode()
    assert 'id="identification"' not in html
    assert not AccessLog.objects.filter(action=AccessAction.REFUSAL).exists()


def test_the_referrer_sees_the_stage_and_status_only(api, world, units):
    identification = routed(api, world)
    url = f"/referrals/{identification.referral.reference}/"
    html = client_for(world.referrer).get(url).content.decode()
    assert 'id="identification-status"' in html
    assert "Preliminary identification: Preliminary decision pending" in html
    assert 'id="decision-list"' not in html and 'id="evidence-list"' not in html
    # Another referrer of the same agency does not read the file (nor the referral).
    assert client_for(world.other_referrer).get(url).status_code == 404
