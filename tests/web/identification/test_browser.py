"""Identification in Chromium, from a referral filed on the web to the formal
identification: the referrer files a minor's referral through the guided form;
the minors association's caseworker accepts it; the unit's decision-maker
trained for children decides the preliminary stage (positive); after the
recovery period (time travel in the database) the caseworker adds to the
evidence file and asks for the formal decision; the decision-maker identifies
the person; the referrer reads the stage and the status. axe on the new pages.

Each person keeps a browser context of their own (a TOTP code cannot be used
twice); elements are found by id, texts by the label Django gives the code in
the page's language (French)."""

# The shared fixtures (world, units) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from cases.models import Case
from identification.models import Identification, Stage, Status
from referral.models import Referral, Routing, RoutingOutcome
from tests.web.conftest import DESKTOP, assert_accessible, enrol_totp, screenshots, sign_in
from tests.web.test_e2e import CHILD_CODE, click_and_wait, fill_step, tick

from .conftest import units, world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def french(label) -> str:
    with translation.override("fr"):
        return str(label)


def test_a_referral_filed_on_the_web_reaches_formal_identification(page, live_server, world, units):
    violations: list[str] = []

    def context_page() -> Page:
        """Another person's browser, checked for CSP violations like ``page``."""
        other = page.context.browser.new_context(
            base_url=live_server.url, viewport=DESKTOP, locale="fr-FR"
        ).new_page()
        other.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return other

    enrol_totp(world.minors_worker)
    enrol_totp(units.idf_child_dm)  # decision-makers use a second factor too

    # 1. The referrer files a minor's referral (forced criminality in the 93).
    sign_in(page, world.referrer)
    page.goto("/referrals/new/")
    for number in range(1, 6):
        fill_step(page, number)
    referral = Referral.objects.get(referring_user=world.referrer)
    identification = Identification.objects.get(referral=referral)
    assert identification.unit == units.idf and identification.minor
    assert identification.status == Status.PRELIMINARY_PENDING
    routing = Routing.objects.get(referral=referral, outcome=RoutingOutcome.PENDING)

    # 2. The minors association's caseworker accepts it: the case page shows the file.
    worker = context_page()
    sign_in(worker, world.minors_worker)
    worker.goto("/inbox/")
    click_and_wait(worker, f"#routing-{routing.pk} a")
    click_and_wait(worker, "#accept-button")
    case = Case.objects.get(referral=referral)
    expect(worker).to_have_url(re.compile(rf"/cases/{case.reference}/$"))
    expect(worker.locator("#identification-status")).to_have_text(
        french(Status.PRELIMINARY_PENDING.label)
    )

    # 3. The decision-maker trained for children: the inbox, the file, positive.
    unit = context_page()
    sign_in(unit, units.idf_child_dm)
    unit.goto("/identification/")
    expect(unit.locator(f"#file-{identification.pk}")).to_be_visible()
    expect(unit.locator(f"#minor-{identification.pk}")).to_be_visible()
    assert_accessible(unit)
    screenshots(unit, "identification-inbox")
    click_and_wait(unit, f"#file-{identification.pk} a")
    expect(unit.locator("#indicator-list li")).to_have_count(1)
    assert_accessible(unit)
    screenshots(unit, "identification-file")
    tick(unit, "id_decision-outcome_0")  # positive
    click_and_wait(unit, "#decide-button")
    expect(unit).to_have_url(re.compile(r"/identification/$"))
    identification.refresh_from_db()
    assert identification.status == Status.PRESUMED
    assert identification.history.first().history_user == units.idf_child_dm

    # Time travel: the recovery and reflection period has ended.
    start = timezone.localdate() - timedelta(days=31)
    Identification.objects.filter(pk=identification.pk).update(
        recovery_starts_on=start, recovery_ends_on=start + timedelta(days=30)
    )

    # 4. The caseworker adds a confirmed indicator, then asks for the formal decision.
    worker.goto(f"/cases/{case.reference}/#identification")
    expect(worker.locator("#evidence-submit-form")).to_have_count(0)
    worker.locator("#id_evidence-section").select_option("indicator_confirmed")
    worker.locator("#id_evidence-indicator").select_option(CHILD_CODE)
    worker.locator("#id_evidence-on_date").fill(timezone.localdate().isoformat())
    worker.locator("#id_evidence-text").fill("Confirmé en entretien avec l'éducatrice.")
    click_and_wait(worker, "#evidence-add-button")
    expect(worker.locator("#evidence-list li")).to_have_count(1)
    expect(worker.locator("#evidence-submit-form")).to_be_visible()
    assert_accessible(worker)
    screenshots(worker, "identification-case-section")
    click_and_wait(worker, "#evidence-submit-button")
    identification.refresh_from_db()
    assert identification.status == Status.FORMAL_PENDING
    expect(worker.locator("#identification-status")).to_have_text(
        french(Status.FORMAL_PENDING.label)
    )

    # 5. The decision-maker identifies the person.
    unit.goto("/identification/")
    click_and_wait(unit, f"#file-{identification.pk} a")
    expect(unit.locator("#evidence-list li")).to_have_count(1)
    tick(unit, "id_decision-outcome_0")  # identified
    click_and_wait(unit, "#decide-button")
    identification.refresh_from_db()
    assert identification.status == Status.IDENTIFIED
    expect(unit.locator(f"#file-{identification.pk}")).to_have_count(0)  # no longer the unit's

    # 6. The referrer reads the stage and the status, and nothing of the reasons.
    page.goto(f"/referrals/{referral.reference}/")
    status = page.locator("#identification-status")
    expect(status).to_contain_text(french(Stage.FORMAL.label))
    expect(status).to_contain_text(french(Status.IDENTIFIED.label))
    expect(page.locator("#decision-list")).to_have_count(0)
    # The caseworker sees both decisions.
    worker.goto(f"/cases/{case.reference}/")
    expect(worker.locator("#decision-list > li")).to_have_count(2)

    for other in (worker, unit):
        other.context.close()
    assert not violations, violations
