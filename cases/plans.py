"""Plan templates: the first protection steps proposed from a referral's facts
(docs/domain.md, "The case"). A pure function, table-tested; caseworkers then add, edit,
complete or set aside steps.

- always: safety assessment within 24 h, initial interview within 7 days,
  medical care, legal information (rights, complaint, compensation);
- a (presumed) minor: a child protection measure (ASE);
- a foreign adult from outside the EU/EEA/Switzerland: the 30-day recovery and
  reflection period (CESEDA R.425-1, with its end date) and a residence permit
  (CESEDA L.425-1) — citizens of the EU/EEA/Switzerland need neither;
- an adult exploited sexually: the exit-from-prostitution pathway is offered;
- immediate danger or a need for secure relocation: secure relocation;
- needs stated by the referrer: emergency shelter, interpreter, psychological
  support.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .models import StepKind

# EU member states, the other EEA states and Switzerland (ISO 3166-1 alpha-2).
FREE_MOVEMENT = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
        "CH",
    ]
)
REFLECTION_DAYS = 30


@dataclass(frozen=True)
class PlanFacts:
    minor: bool
    nationality: str  # "" when unknown
    forms: frozenset[str]
    immediate_danger: bool
    needs: frozenset[str]
    opened_on: date


@dataclass(frozen=True)
class PlannedStep:
    kind: str
    due_date: date
    ends_on: date | None = None


def needs_residence_rights(nationality: str) -> bool:
    """A known nationality from outside the EU/EEA/Switzerland."""
    return bool(nationality) and nationality not in FREE_MOVEMENT


def propose_plan(facts: PlanFacts) -> list[PlannedStep]:
    day = facts.opened_on

    def due(days: int) -> date:
        return day + timedelta(days=days)

    steps = [
        PlannedStep(StepKind.SAFETY_ASSESSMENT, due(1)),
        PlannedStep(StepKind.INITIAL_INTERVIEW, due(7)),
        PlannedStep(StepKind.MEDICAL_CARE, due(14)),
        PlannedStep(StepKind.LEGAL_INFORMATION, due(14)),
    ]
    if facts.immediate_danger or "secure_relocation" in facts.needs:
        steps.append(PlannedStep(StepKind.SECURE_RELOCATION, due(2)))
    if "shelter" in facts.needs:
        steps.append(PlannedStep(StepKind.EMERGENCY_SHELTER, due(1)))
    if "interpreter" in facts.needs:
        steps.append(PlannedStep(StepKind.INTERPRETER, due(3)))
    if "psychological" in facts.needs:
        steps.append(PlannedStep(StepKind.PSYCHOLOGICAL_SUPPORT, due(14)))
    if facts.minor:
        steps.append(PlannedStep(StepKind.CHILD_PROTECTION, due(3)))
    else:
        if needs_residence_rights(facts.nationality):
            steps.append(
                PlannedStep(StepKind.REFLECTION_PERIOD, due(0), ends_on=due(REFLECTION_DAYS))
            )
            steps.append(PlannedStep(StepKind.RESIDENCE_PERMIT, due(REFLECTION_DAYS)))
        if "sexual_exploitation" in facts.forms:
            steps.append(PlannedStep(StepKind.EXIT_PATHWAY, due(30)))
    return sorted(steps, key=lambda s: (s.due_date, s.kind))
