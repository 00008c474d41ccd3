"""A referrer files a referral for a minor on a phone (360 px), in Chromium:
every step, the back button, the review, the confirmation with the CRIP
notice, then "Mes signalements" and the referral's page. Axe on every page,
screenshots of each. Elements are found by id or value, never by their text."""

# The shared fixtures (world) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from referral.models import Referral
from tests.referral.conftest import world  # noqa: F401
from tests.web.conftest import PHONE, assert_accessible, screenshots, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CHILD_CODE = "child_specific.group_begging_or_stealing_supervised_by_adults"


def tick(page: Page, input_id: str) -> None:
    """DSFR hides the native box behind its label: click the label."""
    page.locator(f"label[for='{input_id}']").click()
    expect(page.locator(f"#{input_id}")).to_be_checked()


def go(page: Page, button_id: str) -> None:
    with page.expect_navigation():
        page.locator(f"#{button_id}").click()


def check_step(page: Page, number: int) -> None:
    expect(page).to_have_url(re.compile(rf"/referrals/new/{number}/$"))
    stepper = page.locator(".fr-stepper__steps")
    expect(stepper).to_have_attribute("data-fr-current-step", str(number))
    expect(stepper).to_have_attribute("data-fr-steps", "5")
    assert_accessible(page)
    screenshots(page, f"referral-step-{number}")
    page.set_viewport_size(PHONE)


def test_referrer_files_a_referral_for_a_minor_on_a_phone(page: Page, world):
    page.set_viewport_size(PHONE)
    sign_in(page, world.referrer)
    page.goto("/")
    with page.expect_navigation():
        page.locator("main a[href='/referrals/new/']").first.click()

    # 1. The situation — first sent empty: the error summary, linked to the fields.
    check_step(page, 1)
    go(page, "step-next")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary a[href='#id_exploitation_forms_0']")).to_be_visible()
    assert_accessible(page)
    tick(page, "id_immediate_danger_1")  # no
    tick(page, "id_exploitation_forms_3")  # forced criminality
    tick(page, "id_place_0")  # in France
    page.select_option("#id_exploitation_departement", "93")
    go(page, "step-next")

    # 2. The person, with the rules on consent and minors explained.
    check_step(page, 2)
    expect(page.locator("#consent-rules")).to_be_visible()
    tick(page, "id_consent_to_referral_1")  # no, or not asked
    page.locator("#id_given_name").fill("Ionut")
    # "Précédent": back to step 1, which kept its answers; then forward again.
    go(page, "step-back")
    expect(page).to_have_url(re.compile(r"/referrals/new/1/$"))
    expect(page.locator("#id_exploitation_forms_3")).to_be_checked()
    expect(page.locator("#id_exploitation_departement")).to_have_value("93")
    go(page, "step-next")
    expect(page.locator("#id_given_name")).to_have_value("Ionut")
    page.locator("#id_estimated_age").fill("14")
    tick(page, "id_declared_minor")
    tick(page, "id_sex_1")  # male
    page.select_option("#id_nationality", "RO")
    page.select_option("#id_language_1", "ro")
    page.select_option("#id_current_departement", "93")
    go(page, "step-next")

    # 3. The children's indicator list, by dimension.
    check_step(page, 3)
    box = page.locator(f"input[value='{CHILD_CODE}']")
    page.locator(".fr-accordion__btn").last.click()
    tick(page, box.get_attribute("id"))
    go(page, "step-next")

    # 4. Needs.
    check_step(page, 4)
    tick(page, "id_needs_0")
    tick(page, "id_needs_6")  # child protection
    page.locator("#id_narrative").fill("Interpellé avec un groupe encadré par des adultes.")
    go(page, "step-next")

    # 5. Review: the summary, what will happen (minor), the confirmation.
    check_step(page, 5)
    expect(page.locator("#what-happens")).to_be_visible()
    expect(page.locator("main dl.mnr-summary").nth(1)).to_contain_text("Ionut")
    tick(page, "id_confirm")
    go(page, "step-next")

    referral = Referral.objects.get()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.reference}/submitted/$"))
    expect(page.locator("h2.fr-alert__title")).to_contain_text(referral.reference)
    expect(page.locator("#crip-notified")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "referral-submitted")
    assert referral.person.presumed_minor and referral.crip_agency == world.crip93

    # Back on the last step (browser history): the same referral, never a second one.
    page.go_back()
    page.set_viewport_size(PHONE)
    page.reload()
    assert Referral.objects.count() == 1

    # Mes signalements.
    page.goto("/referrals/")
    row = page.locator("#referral-table tbody tr").first
    expect(row).to_contain_text(referral.reference)
    assert_accessible(page)
    screenshots(page, "referral-list")
    page.set_viewport_size(PHONE)
    with page.expect_navigation():
        row.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(referral.reference)
    expect(page.locator("#crip-status")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "referral-detail")
