"""The coordination desk and the statistics dashboard in Chromium: the desk
assigns an escalated referral; the analyst picks a crossing, reads the chart
and its table, and downloads the CSV. Each page is scanned by axe and
screenshotted at desktop and phone width."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from common.choices import ExploitationForm
from referral.models import Referral, Routing
from stats.services import stats_publish
from tests.referral import conftest as referral_world
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, body
from tests.web.conftest import assert_accessible, enrol_totp, screenshots, sign_in, submit

pytestmark = pytest.mark.django_db(transaction=True)

world = referral_world.world
api = referral_world.api


def escalate(api, world) -> Referral:
    reference = api.submitted(world.referrer, ADULT_BODY)["reference"]
    for worker in (world.paris_worker, world.national_worker):
        routing = api.pending_routing(worker)
        api.post(worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "Complet"})
    referral = Referral.objects.get(reference=reference)
    assert referral.status == "escalated"
    return referral


def test_the_desk_assigns_an_escalated_referral(page, api, world):
    referral = escalate(api, world)
    enrol_totp(world.coordinator)
    sign_in(page, world.coordinator)

    page.goto("/escalations/")
    expect(page.locator("#escalations tbody tr")).to_have_count(1)
    expect(page.locator("#escalations tbody th")).to_have_text(referral.reference)
    assert_accessible(page)
    screenshots(page, "escalation-list")

    page.locator("#escalations tbody a.fr-btn").click()
    expect(page).to_have_url(re.compile(rf"/escalations/{referral.reference}/assign/$"))
    expect(page.locator("#associations tbody tr")).to_have_count(3)
    assert_accessible(page)
    screenshots(page, "escalation-assign")

    # A wrong choice first: the field error, focused in the error summary.
    page.locator("#id_association").select_option(str(world.paris.pk))
    page.locator("#id_association").evaluate("(el, v) => el.options[1].value = v", "999999")
    page.locator("#id_association").select_option(index=1)
    submit(page)
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#error-summary a[href='#id_association']")).to_have_count(1)
    assert_accessible(page)
    screenshots(page, "escalation-assign-error")

    page.locator("#id_association").select_option(str(world.paris.pk))
    submit(page)
    expect(page).to_have_url(re.compile(r"/escalations/$"))
    expect(page.locator(".fr-alert--success")).to_be_visible()
    expect(page.locator("#no-escalations")).to_be_visible()
    routing = Routing.objects.get(referral=referral, outcome="pending")
    assert routing.association == world.paris and routing.assigned_by == world.coordinator


def test_the_analyst_reads_a_crossing_and_downloads_it(page, api, world, settings):
    settings.MNR_STATS_THRESHOLD = 10
    for i in range(8):
        api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": f"Doe{i}"}))
    for _ in range(4):
        api.submitted(
            world.referrer,
            body(ADULT_BODY, exploitation_forms=["labour_exploitation"], person={"sex": "male"}),
        )
    for i in range(2):
        api.submitted(world.other_referrer, body(MINOR_BODY, person={"family_name": f"Roe{i}"}))
    for i in range(14):
        api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": f"Poe{i}"}))
    stats_publish()
    enrol_totp(world.analyst)
    sign_in(page, world.analyst)

    page.goto("/statistics/")
    # The year's survey is there from the start.
    expect(page.locator("#chart-identified_by_form svg[role=img]")).to_be_visible()
    assert_accessible(page)

    page.locator("#id_measure").select_option("referrals")
    page.locator("#id_by").select_option("exploitation_form")
    page.locator("#id_by_2").select_option("minor")
    page.locator("#id_period").fill(str(date.today().year))
    with page.expect_navigation():
        page.locator("#crossing-submit").click()
    expect(page.locator("#crossing-result svg[role=img]")).to_be_visible()
    rows = page.locator("#table-crossing tbody tr")
    cells = len(ExploitationForm.values) * 2  # the whole grid: every form, minors or not
    expect(rows).to_have_count(cells)
    # 22 adult women (sexual exploitation): shown, within 5; everything else is
    # under 10 whatever its perturbation: statistical secrecy, and no bar.
    secret = page.locator("#table-crossing tbody .mnr-secret").count()
    assert secret == cells - 1
    expect(page.locator("#chart-crossing rect")).to_have_count(1)
    expect(page.locator(".mnr-stat-notes").first).to_contain_text("5")
    assert_accessible(page)
    screenshots(page, "statistics")

    with page.expect_download() as download_info:
        page.locator("#csv-download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "exploitation_form,minor,count,suppressed"
    assert len(lines) > cells and any(line.endswith(",,true") for line in lines)


def test_the_statistics_page_shows_field_errors(page, world):
    enrol_totp(world.analyst)
    sign_in(page, world.analyst)
    page.goto("/statistics/?measure=referrals&by=sex&period=2025-Q9")
    expect(page.locator("#error-summary a[href='#id_period']")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^(Erreur|Error)"))
    assert_accessible(page)
    screenshots(page, "statistics-error")
