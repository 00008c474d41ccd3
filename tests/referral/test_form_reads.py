"""Reads that let a form adapt before submission (the web's referral form): the
presumption of minority, decided by the same rule as the submission, and the
indicator checklist for one public."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from referral import indicators
from referral.services import PersonInput, person_presumed_minor

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("person", "minor"),
    [
        ({"date_of_birth": TODAY - timedelta(days=365 * 15)}, True),
        ({"estimated_age": 16}, True),
        ({"estimated_age": 25, "declared_minor": True}, True),
        ({"date_of_birth": date(2000, 1, 1), "declared_minor": True}, True),
        ({"estimated_age": 25}, False),
        ({}, False),
        # Implausible values are ignored here (the submission rejects them).
        ({"date_of_birth": date(2030, 1, 1)}, False),
        ({"estimated_age": 200}, False),
        # A date of birth wins over a contradictory estimate.
        ({"date_of_birth": date(2000, 1, 1), "estimated_age": 12}, False),
    ],
)
def test_person_presumed_minor_follows_the_submission_rule(person, minor):
    assert person_presumed_minor(PersonInput(**person), today=TODAY) is minor


def test_checklist_for_adults_and_children():
    adult = indicators.checklist(indicators.CURRENT_VERSION, "en", minor=False)
    child = indicators.checklist(indicators.CURRENT_VERSION, "fr", minor=True)
    data = indicators.load(indicators.CURRENT_VERSION)
    adult_codes = {i["code"] for g in adult for i in g["indicators"]}
    child_codes = {i["code"] for g in child for i in g["indicators"]}
    counts = data["counts"]
    assert len(adult_codes) == sum(c["adult"] for c in counts.values())
    assert len(child_codes) == sum(c["child"] for c in counts.values())
    assert "child_specific" not in [g["code"] for g in adult]
    assert child[-1]["code"] == "child_specific"
    assert adult[0]["label"] == "Deceptive recruitment"
    assert child[0]["label"] == "Recrutement trompeur"
    assert (adult_codes | child_codes) == indicators.known_codes()
