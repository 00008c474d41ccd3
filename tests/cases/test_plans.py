"""Plan templates, table-tested: which steps are proposed, with which dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases.plans import PlanFacts, propose_plan

DAY = date(2026, 11, 27)
ALWAYS = {"safety_assessment", "initial_interview", "medical_care", "legal_information"}


def facts(**kw) -> PlanFacts:
    base = {
        "minor": False,
        "nationality": "FR",
        "forms": frozenset({"labour_exploitation"}),
        "immediate_danger": False,
        "needs": frozenset(),
        "opened_on": DAY,
    }
    base.update(kw)
    return PlanFacts(**base)


@pytest.mark.parametrize(
    ("kw", "expected_extra"),
    [
        ({}, set()),
        ({"minor": True}, {"child_protection"}),
        ({"minor": True, "nationality": "NG"}, {"child_protection"}),  # minors: ASE, not CESEDA
        ({"nationality": "NG"}, {"reflection_period", "residence_permit"}),
        ({"nationality": "RO"}, set()),  # EU citizen: free movement
        ({"nationality": "CH"}, set()),
        ({"nationality": ""}, set()),  # unknown: not assumed foreign
        ({"forms": frozenset({"sexual_exploitation"})}, {"exit_pathway"}),
        ({"forms": frozenset({"sexual_exploitation"}), "minor": True}, {"child_protection"}),
        (
            {"forms": frozenset({"sexual_exploitation"}), "nationality": "CN"},
            {"exit_pathway", "reflection_period", "residence_permit"},
        ),
        ({"immediate_danger": True}, {"secure_relocation"}),
        ({"needs": frozenset({"secure_relocation"})}, {"secure_relocation"}),
        ({"needs": frozenset({"shelter"})}, {"emergency_shelter"}),
        (
            {"needs": frozenset({"interpreter", "psychological"})},
            {"interpreter", "psychological_support"},
        ),
        (
            {"immediate_danger": True, "minor": True, "needs": frozenset({"shelter"})},
            {"secure_relocation", "child_protection", "emergency_shelter"},
        ),
    ],
)
def test_plan_template(kw, expected_extra):
    steps = propose_plan(facts(**kw))
    kinds = [s.kind for s in steps]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == ALWAYS | expected_extra


def test_due_dates_and_reflection_period_end():
    steps = {s.kind: s for s in propose_plan(facts(nationality="NG", immediate_danger=True))}
    assert steps["safety_assessment"].due_date == DAY + timedelta(days=1)  # within 24 h
    assert steps["initial_interview"].due_date == DAY + timedelta(days=7)
    assert steps["secure_relocation"].due_date == DAY + timedelta(days=2)
    reflection = steps["reflection_period"]
    assert reflection.due_date == DAY
    assert reflection.ends_on == DAY + timedelta(days=30)
    assert steps["residence_permit"].due_date == DAY + timedelta(days=30)
    assert all(s.ends_on is None for k, s in steps.items() if k != "reflection_period")


def test_steps_come_sorted_by_due_date():
    dates = [s.due_date for s in propose_plan(facts(nationality="NG", minor=False))]
    assert dates == sorted(dates)
