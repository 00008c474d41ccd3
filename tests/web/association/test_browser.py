"""The association pages in Chromium: a caseworker signs in with the second
factor, answers the inbox, runs the case to its closure; the manager reads the
workload. axe and screenshots at desktop and phone widths on each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseNote, ProtectionStep, StepStatus
from referral.models import Routing, RoutingOutcome
from tests.referral.conftest import ADULT_BODY, body
from tests.web.conftest import assert_accessible, enrol_totp, screenshots, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def click_and_wait(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


def test_caseworker_runs_a_case_from_the_inbox_to_closure(page, api, world):
    api.submitted(world.referrer, ADULT_BODY)
    api.submitted(
        world.referrer, body(ADULT_BODY, immediate_danger=True, person={"given_name": "Joy"})
    )
    routing = Routing.objects.filter(
        association=world.paris, outcome=RoutingOutcome.PENDING
    ).first()
    enrol_totp(world.paris_worker)
    sign_in(page, world.paris_worker)
    expect(page.locator("main a[href='/inbox/']")).to_be_visible()  # home tile

    page.goto("/inbox/")
    expect(page.locator(f"#routing-{routing.pk}")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "association-inbox")

    click_and_wait(page, f"#routing-{routing.pk} a")
    expect(page.locator("#accept-form")).to_be_visible()
    # Declining without a reason: the error summary, focused; nothing changes.
    click_and_wait(page, "#decline-button")
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page)
    screenshots(page, "association-routing-decline-error")
    routing.refresh_from_db()
    assert routing.outcome == RoutingOutcome.PENDING

    click_and_wait(page, "#accept-button")
    case = Case.objects.get(referral=routing.referral)
    expect(page).to_have_url(re.compile(rf"/cases/{case.reference}/$"))

    page.locator("#id_step-kind").select_option("lawyer")
    page.locator("#id_step-due_date").fill("2030-01-15")
    page.locator("#id_step-owner").select_option(str(world.paris_worker.pk))
    click_and_wait(page, "#step-add-button")
    step = ProtectionStep.objects.get(case=case, kind="lawyer")
    assert step.owner == world.paris_worker

    click_and_wait(page, f"#step-{step.pk}-done")
    step.refresh_from_db()
    assert step.status == StepStatus.DONE
    expect(page.locator(f"#step-{step.pk}-status")).to_have_class(re.compile("fr-badge--success"))

    page.locator("#id_note-text").fill("Premier entretien avec une interprète.")
    click_and_wait(page, "#note-add-button")
    assert CaseNote.objects.filter(case=case, author=world.paris_worker).count() == 1
    expect(page.locator("#note-list li")).to_have_count(1)
    assert_accessible(page)
    screenshots(page, "association-case")

    click_and_wait(page, "#timeline-link")
    expect(page.locator("#timeline-table tbody tr").first).to_be_visible()
    assert_accessible(page)
    screenshots(page, "association-timeline")

    page.goto(f"/cases/{case.reference}/")
    page.locator("#id_close-reason").select_option("support_completed")
    click_and_wait(page, "#close-button")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    expect(page.locator("#reopen-form")).to_be_visible()

    page.goto("/cases/")
    expect(page.locator(f"#case-table a[href='/cases/{case.reference}/']")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "association-case-list")


def test_manager_reads_the_workload(page, api, world):
    api.submitted(world.referrer, ADULT_BODY)
    enrol_totp(world.paris_manager)
    sign_in(page, world.paris_manager)
    page.goto("/workload/")
    expect(page.locator("#pending-routings")).to_have_text("1")
    assert_accessible(page)
    screenshots(page, "association-workload")


def test_caseworker_is_refused_the_workload(page, world):
    enrol_totp(world.paris_worker)
    sign_in(page, world.paris_worker)
    response = page.goto("/workload/")
    assert response.status == 403
    expect(page.locator("h1")).to_be_visible()
