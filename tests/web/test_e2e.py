"""The whole journey in Chromium, and an axe scan of every main page.

1. A referrer files a referral for a minor through the guided form; the minors
   association's caseworker (second factor) accepts it from the inbox, plans a
   protection step, completes it and closes the case; the MIPROF analyst
   (second factor) finds it counted on the statistics dashboard. The web
   channel records its actors in the history, like the API and the tasks.
2. Every main page, scanned by axe at desktop and at 360 px (serious or
   critical violations fail), with its screenshots (screenshots/, git-ignored).

Elements are found by id, role or position, never by their visible text (the
catalogues change); the statistics rows are found by the label Django itself
gives the code, in the page's language.
"""

# The shared fixtures (world, api) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from cases.models import Case, ProtectionStep, StepStatus
from referral.models import Referral, ReferralStatus, Routing, RoutingOutcome
from stats.services import stats_publish
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, World, api, body, world  # noqa: F401
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    assert_accessible,
    enrol_totp,
    screenshots,
    sign_in,
)
from web.charts import Labeller

pytestmark = pytest.mark.django_db(transaction=True)

CHILD_CODE = "child_specific.group_begging_or_stealing_supervised_by_adults"


def tick(page: Page, input_id: str) -> None:
    """DSFR hides the native box behind its label: click the label."""
    page.locator(f"label[for='{input_id}']").click()
    expect(page.locator(f"#{input_id}")).to_be_checked()


def click_and_wait(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def fill_step(page: Page, number: int) -> None:
    """Answer step ``number`` of the guided form (a minor, forced criminality in
    the 93) and go on to the next one."""
    expect(page).to_have_url(re.compile(rf"/referrals/new/{number}/$"))
    if number == 1:
        tick(page, "id_immediate_danger_1")  # no
        tick(page, "id_exploitation_forms_3")  # forced criminality
        tick(page, "id_place_0")  # in France
        page.select_option("#id_exploitation_departement", "93")
    elif number == 2:
        tick(page, "id_consent_to_referral_1")  # no, or not asked
        page.locator("#id_given_name").fill("Ionut")
        page.locator("#id_estimated_age").fill("14")
        tick(page, "id_declared_minor")
        tick(page, "id_sex_1")  # male
        page.select_option("#id_nationality", "RO")
        page.select_option("#id_current_departement", "93")
    elif number == 3:
        page.locator(".fr-accordion__btn").last.click()
        tick(page, page.locator(f"input[value='{CHILD_CODE}']").get_attribute("id"))
    elif number == 4:
        tick(page, "id_needs_0")
        page.locator("#id_narrative").fill("Interpellé avec un groupe encadré par des adultes.")
    elif number == 5:
        tick(page, "id_confirm")
    click_and_wait(page, "#step-next")


def label(name: str, code) -> str:
    """The label the dashboard shows for a code, in French (the page's language)."""
    with translation.override("fr"):
        return Labeller().label(name, code)


def minors_by_form(page: Page) -> dict[str, str]:
    """This year's referrals for minors by form of exploitation, as the
    dashboard's table shows them: {row label: count cell}."""
    year = date.today().year
    page.goto(f"/statistics/?measure=referrals&by=exploitation_form&period={year}&minor=true")
    rows = page.locator("#table-crossing tbody tr")
    found = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        value = cells.last.inner_text().strip()
        if value.isdigit():  # the grid lists every form; only figures shown count here
            found[cells.first.inner_text().strip()] = value
    return found


def test_a_minor_referred_on_the_web_is_protected_closed_and_counted(
    page, live_server, api, world, settings
):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    # Another minor's referral first, so that the analyst's table is not empty before.
    api.submitted(world.other_referrer, body(MINOR_BODY, exploitation_forms=["forced_begging"]))
    stats_publish()
    enrol_totp(world.analyst)
    enrol_totp(world.minors_worker)
    criminality = label("exploitation_form", "forced_criminality")
    begging = label("exploitation_form", "forced_begging")

    # The analyst's figures before, in a browser of their own (a TOTP code
    # cannot be used twice: they stay signed in until the end).
    analyst = page.context.browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, locale="fr-FR"
    ).new_page()
    sign_in(analyst, world.analyst)
    before = minors_by_form(analyst)
    assert before == {begging: "1"}, before

    # 1. The referrer files the referral, step by step, from the home page.
    sign_in(page, world.referrer)
    click_and_wait(page, "main a[href='/referrals/new/']")
    for number in range(1, 6):
        expect(page.locator(".fr-stepper__steps")).to_have_attribute(
            "data-fr-current-step", str(number)
        )
        screenshots(page, f"e2e-1-referral-step-{number}")
        fill_step(page, number)
    referral = Referral.objects.get(referring_user=world.referrer)
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.reference}/submitted/$"))
    screenshots(page, "e2e-1-referral-submitted")
    assert referral.person.presumed_minor and referral.crip_agency == world.crip93
    # Routed on commit (tasks run in-process in tests) to the minors' association.
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ROUTED, referral.status
    routing = Routing.objects.get(referral=referral, outcome=RoutingOutcome.PENDING)
    assert routing.association == world.minors
    page.goto("/referrals/")
    expect(page.locator("#referral-table tbody tr")).to_have_count(1)
    page.context.clear_cookies()

    # 2. The caseworker: the inbox, the routing, acceptance.
    sign_in(page, world.minors_worker)
    page.goto("/inbox/")
    expect(page.locator(f"#routing-{routing.pk}")).to_be_visible()
    screenshots(page, "e2e-2-inbox")
    click_and_wait(page, f"#routing-{routing.pk} a")
    screenshots(page, "e2e-2-routing")
    click_and_wait(page, "#accept-button")
    case = Case.objects.get(referral=referral)
    assert case.association == world.minors
    expect(page).to_have_url(re.compile(rf"/cases/{case.reference}/$"))

    # A protection step, planned then completed.
    page.locator("#id_step-kind").select_option("lawyer")
    page.locator("#id_step-due_date").fill("2030-01-15")
    page.locator("#id_step-owner").select_option(str(world.minors_worker.pk))
    click_and_wait(page, "#step-add-button")
    step = ProtectionStep.objects.get(case=case, kind="lawyer")
    expect(page.locator(f"#step-{step.pk}-status")).to_be_visible()
    screenshots(page, "e2e-2-case-step-planned")
    click_and_wait(page, f"#step-{step.pk}-done")
    step.refresh_from_db()
    assert step.status == StepStatus.DONE
    expect(page.locator(f"#step-{step.pk}-status")).to_have_class(re.compile("fr-badge--success"))

    # Closure with a reason.
    page.locator("#id_close-reason").select_option("support_completed")
    click_and_wait(page, "#close-button")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closure_reason == "support_completed"
    expect(page.locator("#reopen-form")).to_be_visible()
    screenshots(page, "e2e-2-case-closed")

    # The web channel's history names the caseworker as the actor.
    assert case.history.first().history_user == world.minors_worker
    assert step.history.first().history_user == world.minors_worker
    assert routing.history.first().history_user == world.minors_worker
    page.context.clear_cookies()

    # 3. The analyst: after the next publication, the new referral is counted,
    # next to the earlier one (until then, the figures stay as published).
    assert minors_by_form(analyst) == before
    stats_publish()
    after = minors_by_form(analyst)
    assert after == {begging: "1", criminality: "1"}, after
    expect(analyst.locator("#crossing-result svg[role=img]")).to_be_visible()
    screenshots(analyst, "e2e-3-statistics")
    analyst.context.close()


# --- axe on every main page, desktop and phone ---------------------------------------


def escalated(api, world: World) -> Referral:
    """An adult's referral both adult associations declined: the desk's."""
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "Complet"})
    return Referral.objects.get(reference=reference, status=ReferralStatus.ESCALATED)


def pending_routing(api, world: World) -> Routing:
    api.submitted(world.referrer, ADULT_BODY)
    return Routing.objects.get(association=world.paris, outcome=RoutingOutcome.PENDING)


def paris_case(api, world: World) -> Case:
    routing = pending_routing(api, world)
    r = api.post(world.paris_worker, f"/api/v1/routings/{routing.pk}/accept/")
    assert r.status_code == 201, r.content
    return Case.objects.get(reference=r.json()["reference"])


def statistics_url(api, world: World) -> str:
    for i in range(3):
        api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": f"Doe{i}"}))
    api.submitted(world.other_referrer, MINOR_BODY)
    year = date.today().year
    return f"/statistics/?measure=referrals&by=exploitation_form&by_2=minor&period={year}"


@dataclass(frozen=True)
class Scene:
    """A main page: who opens it, how to get there (the data it needs), and
    the status it answers."""

    name: str
    user: str | None  # an attribute of World; None: anonymous
    url: Callable[..., str]
    status: int = 200
    steps_before: int = 0  # guided form: steps to answer first


def _referral_form(step: int) -> Scene:
    return Scene(
        f"referral-step-{step}", "referrer", lambda api, w: "/referrals/new/", 200, step - 1
    )


SCENES = [
    Scene("signin", None, lambda api, w: "/sign-in/"),
    *[
        Scene(f"home-{who}", who, lambda api, w: "/")
        for who in ("referrer", "paris_worker", "paris_manager", "coordinator", "analyst", "admin")
    ],
    *[_referral_form(step) for step in range(1, 6)],
    Scene(
        "referral-list",
        "referrer",
        lambda api, w: api.submitted(w.referrer, ADULT_BODY) and "/referrals/",
    ),
    Scene(
        "referral-detail",
        "referrer",
        lambda api, w: f"/referrals/{api.submitted(w.referrer, MINOR_BODY)['reference']}/",
    ),
    Scene("inbox", "paris_worker", lambda api, w: pending_routing(api, w) and "/inbox/"),
    Scene(
        "routing-detail",
        "paris_worker",
        lambda api, w: f"/routings/{pending_routing(api, w).pk}/",
    ),
    Scene("case-list", "paris_worker", lambda api, w: paris_case(api, w) and "/cases/"),
    Scene("case-detail", "paris_worker", lambda api, w: f"/cases/{paris_case(api, w).reference}/"),
    Scene(
        "case-timeline",
        "paris_worker",
        lambda api, w: f"/cases/{paris_case(api, w).reference}/timeline/",
    ),
    Scene("workload", "paris_manager", lambda api, w: paris_case(api, w) and "/workload/"),
    Scene("escalations", "coordinator", lambda api, w: escalated(api, w) and "/escalations/"),
    Scene(
        "escalation-assign",
        "coordinator",
        lambda api, w: f"/escalations/{escalated(api, w).reference}/assign/",
    ),
    Scene("statistics-crossing", "analyst", statistics_url),
    Scene("error-403", "referrer", lambda api, w: "/inbox/", 403),
    Scene("error-404", "paris_worker", lambda api, w: "/cases/MNR-1999-999999/", 404),
]


@pytest.mark.parametrize("scene", SCENES, ids=[scene.name for scene in SCENES])
def test_every_main_page_passes_axe_at_desktop_and_phone_width(page, api, world, settings, scene):
    settings.MNR_STATS_THRESHOLD = 1
    settings.MNR_STATS_PERTURB = False
    url = scene.url(api, world)
    stats_publish()
    if scene.user is not None:
        user = getattr(world, scene.user)
        if scene.user != "referrer":  # staff give a second factor
            enrol_totp(user)
        sign_in(page, user)
    response = page.goto(url)
    for number in range(1, scene.steps_before + 1):
        fill_step(page, number)
    if scene.steps_before:
        expect(page).to_have_url(re.compile(rf"/referrals/new/{scene.steps_before + 1}/$"))
    else:
        assert response.status == scene.status, (scene.name, response.status, page.url)
        assert not page.url.endswith(("/sign-in/code/", "/sign-in/two-factor/")), page.url
    if scene.name == "statistics-crossing":
        expect(page.locator("#table-crossing tbody tr").first).to_be_visible()
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    screenshots(page, f"page-{scene.name}")
