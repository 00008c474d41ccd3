"""Browser tests: Playwright (sync API) drives Debian's Chromium
(/usr/bin/chromium, installed by .ci/run — never `playwright install`) against
pytest-django's live server.

Fixtures and helpers for page authors:
- ``page``: a fresh browser context and page on the live server (French,
  1280 px); relative URLs work (``page.goto("/")``). After the test, any
  Content-Security-Policy violation reported by the browser fails it.
- ``sign_in(page, user, password=PASSWORD)``: signs in through the form, giving
  the TOTP code when asked (the user must have a confirmed device: see
  ``enrol_totp``).
- ``assert_accessible(page)``: axe-core scan; fails on serious or critical violations.
- ``screenshots(page, name)``: full-page screenshots at 1280 and 360 px into
  screenshots/ (git-ignored), and fails if the page scrolls sideways at 360 px.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, sync_playwright

from tests.helpers import ROOT

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# the tests make there are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Page:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert not csp_violations, csp_violations


def totp_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def enrol_totp(user) -> TOTPDevice:
    """A confirmed TOTP device for ``user`` (as after enrolment)."""
    return TOTPDevice.objects.create(user=user, name="MNR", confirmed=True)


def sign_in(page: Page, user, password: str = PASSWORD) -> None:
    page.goto("/sign-in/")
    # Fields by id, buttons by place: the texts change with the catalogues.
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(password)
    submit(page)
    if "/sign-in/code/" in page.url:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        page.locator("#id_otp").fill(totp_code(device))
        submit(page)


def submit(page: Page) -> None:
    """Press the main form's submit button and wait for the next page."""
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)


def screenshots(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        if size is PHONE:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name}: {overflow}px of sideways scrolling at 360 px"
    page.set_viewport_size(DESKTOP)
