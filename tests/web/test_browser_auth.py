"""Sign-in, second factor, lockout, expiry, sign-out and language, in Chromium."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import AgencyFactory, UserFactory
from tests.web.conftest import (
    assert_accessible,
    enrol_totp,
    screenshots,
    sign_in,
    submit,
    totp_code,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def referrer():
    return UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )


@pytest.fixture
def caseworker():
    return UserFactory(
        membership_agency=AgencyFactory(kind="association"), membership_role="caseworker"
    )


def test_signin_page_renders_accessibly_in_french(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "signin")


def test_demo_signin_page_lists_accounts_accessibly(page, settings):
    settings.MNR_DEMO_MODE = True
    page.goto("/sign-in/")
    expect(page.locator("table code", has_text="asso.paris.manager")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "signin-demo")


def test_referrer_signs_in_and_out(page, referrer):
    sign_in(page, referrer)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_contain_text(referrer.username)
    assert_accessible(page)
    screenshots(page, "home-referrer")
    with page.expect_navigation():
        page.locator(".fr-header__tools form[action='/sign-out/'] button").click()
    expect(page).to_have_url(re.compile(r"/sign-in/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))


def test_wrong_password_shows_a_focused_error_summary(page, referrer):
    page.goto("/sign-in/")
    page.locator("#id_username").fill(referrer.username)
    page.locator("#id_password").fill("wrong-password")
    submit(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Erreur|^Error"))
    assert_accessible(page)
    screenshots(page, "signin-error")


def test_lockout_after_repeated_failures(page, referrer):
    page.goto("/sign-in/")
    for _ in range(5):
        page.locator("#id_username").fill(referrer.username)
        page.locator("#id_password").fill("wrong-password")
        submit(page)
    # Even the right password is refused now.
    page.locator("#id_username").fill(referrer.username)
    page.locator("#id_password").fill("a-long-test-password")
    submit(page)
    expect(page).to_have_url(re.compile(r"/sign-in/$"))
    expect(page.locator("#error-summary")).to_contain_text("15")


def test_enrolment_then_totp_sign_in(page, caseworker):
    page.goto("/sign-in/")
    page.locator("#id_username").fill(caseworker.username)
    page.locator("#id_password").fill("a-long-test-password")
    submit(page)
    expect(page).to_have_url(re.compile(r"/sign-in/two-factor/$"))
    expect(page.locator(".mnr-qr svg")).to_be_visible()
    assert_accessible(page)
    screenshots(page, "two-factor-setup")
    device = TOTPDevice.objects.get(user=caseworker, confirmed=False)
    page.locator("#id_otp").fill(totp_code(device))
    submit(page)
    codes = page.locator(".mnr-recovery-codes code")
    expect(codes).to_have_count(10)
    assert_accessible(page)
    screenshots(page, "recovery-codes")
    with page.expect_navigation():
        page.locator("main a.fr-btn").click()
    expect(page.locator("h1")).to_contain_text(caseworker.username)

    # Next time: password, then the app's code (the next 30-second step, as a
    # TOTP code is accepted only once).
    with page.expect_navigation():
        page.locator(".fr-header__tools form[action='/sign-out/'] button").click()
    time.sleep(max(0.0, 30 - time.time() % 30) + 0.5)
    sign_in(page, caseworker)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_contain_text(caseworker.username)


def test_recovery_code_at_the_code_step(page, caseworker):
    enrol_totp(caseworker)
    static = caseworker.staticdevice_set.create(name="MNR recovery codes", confirmed=True)
    static.token_set.create(token="pqrst67890")
    page.goto("/sign-in/")
    page.locator("#id_username").fill(caseworker.username)
    page.locator("#id_password").fill("a-long-test-password")
    submit(page)
    expect(page).to_have_url(re.compile(r"/sign-in/code/$"))
    assert_accessible(page)
    screenshots(page, "signin-code")
    page.locator("#id_otp").fill("pqrst67890")
    submit(page)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".fr-alert--warning")).to_be_visible()
    assert not static.token_set.exists()


def test_session_expires_after_inactivity(page, referrer, settings):
    settings.SESSION_COOKIE_AGE = 2
    sign_in(page, referrer)
    expect(page.locator("h1")).to_contain_text(referrer.username)
    time.sleep(3)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))


def test_language_switch_to_english(page, referrer):
    sign_in(page, referrer)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    with page.expect_navigation():
        page.locator(".fr-header__tools button[name=language][value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".fr-header__tools form[action='/sign-out/'] button")).to_have_text(
        "Sign out"
    )
    assert_accessible(page)
