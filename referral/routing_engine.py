"""The routing engine (docs/domain.md, "Routing"): a pure function from the referral's facts,
the associations' accreditations, their loads and the associations already tried
to a ranked list of candidates with an explanation. No database, no clock.

Eligible: an active association with an accreditation valid on the day that
covers at least one of the referral's forms of exploitation, the person's public
(minor / adult woman / adult man) and the département where the person is (or
national), with capacity left, and not already tried for this referral.

Ranked:
- usually by proximity of the association's seat to the person (same
  département, then same region, then elsewhere), then lowest load (open cases ÷
  capacity; unlimited capacity counts as no load), then name;
- when secure relocation is needed, associations offering relocation first and
  those seated in the département of exploitation last, then load, then name
  (proximity to where the person is exploited is then a risk, not a merit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

# Publics of the person (what the referral needs) and of accreditations.
MINORS = "minors"
ADULT_WOMEN = "adult_women"
ADULT_MEN = "adult_men"
ADULTS = "adults"  # an adult whose sex is other or unknown: either adult public fits

TIER_DEPARTEMENT = "departement"
TIER_REGION = "region"
TIER_NATIONAL = "national"
TIER_ORDER = {TIER_DEPARTEMENT: 0, TIER_REGION: 1, TIER_NATIONAL: 2}

# Exclusion reasons, in the order they are checked.
INACTIVE = "inactive"
ALREADY_TRIED = "already_tried"
NO_VALID_ACCREDITATION = "no_valid_accreditation"
FORM_NOT_COVERED = "form_not_covered"
PUBLIC_NOT_COVERED = "public_not_covered"
TERRITORY_NOT_COVERED = "territory_not_covered"
CAPACITY_FULL = "capacity_full"
ACCREDITATION_CHECKS = (
    NO_VALID_ACCREDITATION,
    FORM_NOT_COVERED,
    PUBLIC_NOT_COVERED,
    TERRITORY_NOT_COVERED,
)


@dataclass(frozen=True)
class ReferralFacts:
    forms: frozenset[str]
    public: str  # MINORS, ADULT_WOMEN, ADULT_MEN or ADULTS
    departement: str | None  # where the person is (else where exploited); None: unknown
    region: str | None
    exploitation_departement: str | None
    needs_relocation: bool
    today: date


@dataclass(frozen=True)
class AccreditationFacts:
    valid_from: date
    valid_until: date
    forms: frozenset[str]
    publics: frozenset[str]
    national: bool
    departements: frozenset[str]
    capacity: int | None
    secure_relocation: bool


@dataclass(frozen=True)
class AssociationFacts:
    id: int
    name: str
    active: bool
    departement: str | None
    region: str | None
    accreditations: tuple[AccreditationFacts, ...]


@dataclass(frozen=True)
class Candidate:
    association_id: int
    name: str
    tier: str
    open_cases: int
    capacity: int | None
    load: float
    secure_relocation: bool
    in_exploitation_departement: bool


@dataclass(frozen=True)
class Exclusion:
    association_id: int
    name: str
    reason: str


@dataclass
class Decision:
    referral: ReferralFacts
    candidates: list[Candidate] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)

    @property
    def chosen(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def explanation(self, *, keep: int = 20) -> dict:
        """What is stored on the Routing: the rules applied, the ranking and why
        the others were left out (JSON; no personal data)."""
        facts = self.referral
        return {
            "engine": "mnr-routing-1",
            "facts": {
                "forms": sorted(facts.forms),
                "public": facts.public,
                "departement": facts.departement,
                "region": facts.region,
                "exploitation_departement": facts.exploitation_departement,
                "needs_relocation": facts.needs_relocation,
                "date": facts.today.isoformat(),
            },
            "ranking": (
                ["secure_relocation_first", "exploitation_departement_last", "load", "name"]
                if facts.needs_relocation
                else ["departement", "region", "national", "load", "name"]
            ),
            "chosen": self.chosen.association_id if self.chosen else None,
            "candidates": [
                {
                    "association": c.association_id,
                    "name": c.name,
                    "tier": c.tier,
                    "open_cases": c.open_cases,
                    "capacity": c.capacity,
                    "load": round(c.load, 4),
                    "secure_relocation": c.secure_relocation,
                }
                for c in self.candidates[:keep]
            ],
            "candidates_total": len(self.candidates),
            "excluded_by_reason": dict(sorted(Counter(e.reason for e in self.excluded).items())),
            "excluded": [
                {"association": e.association_id, "name": e.name, "reason": e.reason}
                for e in self.excluded[:keep]
            ],
        }


def _public_fits(public: str, publics: frozenset[str]) -> bool:
    if public == ADULTS:
        return bool(publics & {ADULT_WOMEN, ADULT_MEN})
    return public in publics


def _first_failure(referral: ReferralFacts, acc: AccreditationFacts) -> str | None:
    if not (acc.valid_from <= referral.today <= acc.valid_until):
        return NO_VALID_ACCREDITATION
    if not (acc.forms & referral.forms):
        return FORM_NOT_COVERED
    if not _public_fits(referral.public, acc.publics):
        return PUBLIC_NOT_COVERED
    if not acc.national and referral.departement not in acc.departements:
        return TERRITORY_NOT_COVERED
    return None


def _tier(referral: ReferralFacts, association: AssociationFacts) -> str:
    if referral.departement and association.departement == referral.departement:
        return TIER_DEPARTEMENT
    if referral.region and association.region == referral.region:
        return TIER_REGION
    return TIER_NATIONAL


def rank(
    referral: ReferralFacts,
    associations: Iterable[AssociationFacts],
    *,
    open_cases: Mapping[int, int],
    tried: Collection[int] = (),
) -> Decision:
    decision = Decision(referral=referral)
    tried_set = set(tried)
    for association in associations:
        if not association.active:
            decision.excluded.append(Exclusion(association.id, association.name, INACTIVE))
            continue
        if association.id in tried_set:
            decision.excluded.append(Exclusion(association.id, association.name, ALREADY_TRIED))
            continue
        matching: list[AccreditationFacts] = []
        furthest = -1
        for acc in association.accreditations:
            failure = _first_failure(referral, acc)
            if failure is None:
                matching.append(acc)
            else:
                furthest = max(furthest, ACCREDITATION_CHECKS.index(failure))
        if not matching:
            reason = ACCREDITATION_CHECKS[max(furthest, 0)]
            decision.excluded.append(Exclusion(association.id, association.name, reason))
            continue
        capacities = [a.capacity for a in matching]
        capacity = None if None in capacities else max(c for c in capacities if c is not None)
        load_now = open_cases.get(association.id, 0)
        if capacity is not None and load_now >= capacity:
            decision.excluded.append(Exclusion(association.id, association.name, CAPACITY_FULL))
            continue
        decision.candidates.append(
            Candidate(
                association_id=association.id,
                name=association.name,
                tier=_tier(referral, association),
                open_cases=load_now,
                capacity=capacity,
                load=0.0 if capacity is None else load_now / capacity,
                secure_relocation=any(a.secure_relocation for a in matching),
                in_exploitation_departement=(
                    referral.exploitation_departement is not None
                    and association.departement == referral.exploitation_departement
                ),
            )
        )
    if referral.needs_relocation:
        decision.candidates.sort(
            key=lambda c: (
                not c.secure_relocation,
                c.in_exploitation_departement,
                c.load,
                c.name,
                c.association_id,
            )
        )
    else:
        decision.candidates.sort(
            key=lambda c: (TIER_ORDER[c.tier], c.load, c.name, c.association_id)
        )
    return decision
