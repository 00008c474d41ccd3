"""The routing engine, table-tested: each scenario gives the referral's facts, the
associations, their loads and the ones already tried, and expects the ranking
(association ids in order) and, where it matters, why others were excluded."""

from __future__ import annotations

from datetime import date

import pytest

from referral.routing_engine import (
    ADULT_MEN,
    ADULT_WOMEN,
    ADULTS,
    ALREADY_TRIED,
    CAPACITY_FULL,
    FORM_NOT_COVERED,
    INACTIVE,
    MINORS,
    NO_VALID_ACCREDITATION,
    PUBLIC_NOT_COVERED,
    TERRITORY_NOT_COVERED,
    AccreditationFacts,
    AssociationFacts,
    ReferralFacts,
    rank,
)

TODAY = date(2026, 11, 27)
SEX, LAB, DOM, CRIM, BEG = (
    "sexual_exploitation",
    "labour_exploitation",
    "domestic_servitude",
    "forced_criminality",
    "forced_begging",
)
REGION_OF = {"75": "11", "93": "11", "92": "11", "13": "93", "06": "93", "69": "84", "971": "01"}


def facts(
    *,
    forms=(SEX,),
    public=ADULT_WOMEN,
    dep="93",
    exploitation="75",
    relocation=False,
    today=TODAY,
) -> ReferralFacts:
    return ReferralFacts(
        forms=frozenset(forms),
        public=public,
        departement=dep,
        region=REGION_OF.get(dep) if dep else None,
        exploitation_departement=exploitation,
        needs_relocation=relocation,
        today=today,
    )


def acc(
    *,
    forms=(SEX, LAB, DOM, CRIM, BEG),
    publics=(ADULT_WOMEN, ADULT_MEN),
    deps=(),
    national=None,
    capacity=None,
    relocation=False,
    start=date(2024, 1, 1),
    end=date(2028, 12, 31),
) -> AccreditationFacts:
    return AccreditationFacts(
        valid_from=start,
        valid_until=end,
        forms=frozenset(forms),
        publics=frozenset(publics),
        national=(not deps) if national is None else national,
        departements=frozenset(deps),
        capacity=capacity,
        secure_relocation=relocation,
    )


def asso(id_, seat, *accreditations, name=None, active=True) -> AssociationFacts:
    return AssociationFacts(
        id=id_,
        name=name or f"Asso {id_:03d}",
        active=active,
        departement=seat,
        region=REGION_OF.get(seat),
        accreditations=tuple(accreditations) or (acc(),),
    )


IDF = ("75", "77", "78", "91", "92", "93", "94", "95")

SCENARIOS = [
    # (id, referral facts, associations, open cases, tried, expected ranking, expected exclusions)
    (
        "same département first",
        facts(dep="93"),
        [asso(1, "75"), asso(2, "93"), asso(3, "13")],
        {},
        (),
        [2, 1, 3],
        {},
    ),
    (
        "same region before national",
        facts(dep="92"),
        [asso(1, "13"), asso(2, "75")],
        {},
        (),
        [2, 1],
        {},
    ),
    (
        "national only when nobody nearer",
        facts(dep="69"),
        [asso(1, "13"), asso(2, "75", acc(deps=IDF))],
        {},
        (),
        [1],
        {2: TERRITORY_NOT_COVERED},
    ),
    (
        "territory lists the département",
        facts(dep="93"),
        [asso(1, "75", acc(deps=IDF))],
        {},
        (),
        [1],
        {},
    ),
    (
        "territory does not list it",
        facts(dep="13"),
        [asso(1, "75", acc(deps=IDF))],
        {},
        (),
        [],
        {1: TERRITORY_NOT_COVERED},
    ),
    (
        "minor needs a minors accreditation",
        facts(public=MINORS),
        [asso(1, "93"), asso(2, "13", acc(publics=(MINORS,)))],
        {},
        (),
        [2],
        {1: PUBLIC_NOT_COVERED},
    ),
    (
        "adult never goes to a minors-only association",
        facts(public=ADULT_MEN),
        [asso(1, "93", acc(publics=(MINORS,))), asso(2, "13", acc(publics=(ADULT_MEN,)))],
        {},
        (),
        [2],
        {1: PUBLIC_NOT_COVERED},
    ),
    (
        "adult woman not taken by a men-only association",
        facts(public=ADULT_WOMEN),
        [asso(1, "93", acc(publics=(ADULT_MEN,)))],
        {},
        (),
        [],
        {1: PUBLIC_NOT_COVERED},
    ),
    (
        "adult of unknown sex fits either adult public",
        facts(public=ADULTS),
        [asso(1, "93", acc(publics=(ADULT_MEN,))), asso(2, "13", acc(publics=(MINORS,)))],
        {},
        (),
        [1],
        {2: PUBLIC_NOT_COVERED},
    ),
    (
        "form must be covered",
        facts(forms=(BEG,)),
        [asso(1, "93", acc(forms=(SEX,))), asso(2, "75", acc(forms=(BEG,)))],
        {},
        (),
        [2],
        {1: FORM_NOT_COVERED},
    ),
    (
        "one covered form out of several is enough",
        facts(forms=(SEX, "organ_removal")),
        [asso(1, "93", acc(forms=(SEX,)))],
        {},
        (),
        [1],
        {},
    ),
    (
        "expired accreditation",
        facts(),
        [asso(1, "93", acc(end=date(2026, 11, 26))), asso(2, "13")],
        {},
        (),
        [2],
        {1: NO_VALID_ACCREDITATION},
    ),
    (
        "accreditation not yet valid",
        facts(),
        [asso(1, "93", acc(start=date(2026, 11, 28))), asso(2, "13")],
        {},
        (),
        [2],
        {1: NO_VALID_ACCREDITATION},
    ),
    (
        "valid on its first and last day",
        facts(),
        [asso(1, "93", acc(start=TODAY)), asso(2, "75", acc(end=TODAY))],
        {},
        (),
        [1, 2],
        {},
    ),
    (
        "renewed accreditation counts",
        facts(),
        [asso(1, "93", acc(end=date(2025, 12, 31)), acc(start=date(2026, 1, 1)))],
        {},
        (),
        [1],
        {},
    ),
    (
        "capacity full",
        facts(),
        [asso(1, "93", acc(capacity=10)), asso(2, "13", acc(capacity=10))],
        {1: 10, 2: 3},
        (),
        [2],
        {1: CAPACITY_FULL},
    ),
    (
        "lowest load breaks a tie of proximity",
        facts(dep="69"),
        [asso(1, "13", acc(capacity=10)), asso(2, "06", acc(capacity=100))],
        {1: 5, 2: 20},
        (),
        [2, 1],
        {},
    ),
    (
        "unlimited capacity counts as no load",
        facts(dep="69"),
        [asso(1, "13", acc(capacity=10)), asso(2, "06", acc(capacity=None))],
        {1: 1, 2: 500},
        (),
        [2, 1],
        {},
    ),
    (
        "name breaks a full tie",
        facts(dep="69"),
        [asso(2, "13", name="Zèbre"), asso(1, "06", name="Alouette")],
        {},
        (),
        [1, 2],
        {},
    ),
    (
        "already tried associations are skipped",
        facts(),
        [asso(1, "93"), asso(2, "75"), asso(3, "13")],
        {},
        (1,),
        [2, 3],
        {1: ALREADY_TRIED},
    ),
    (
        "every candidate declined: nobody left",
        facts(),
        [asso(1, "93"), asso(2, "75")],
        {},
        (1, 2),
        [],
        {1: ALREADY_TRIED, 2: ALREADY_TRIED},
    ),
    (
        "inactive association skipped",
        facts(),
        [asso(1, "93", active=False), asso(2, "13")],
        {},
        (),
        [2],
        {1: INACTIVE},
    ),
    (
        "relocation: relocating associations first",
        facts(relocation=True),
        [asso(1, "93"), asso(2, "13", acc(relocation=True))],
        {},
        (),
        [2, 1],
        {},
    ),
    (
        "relocation: exploitation département last",
        facts(dep="93", exploitation="75", relocation=True),
        [asso(1, "75"), asso(2, "93"), asso(3, "13")],
        {},
        (),
        [2, 3, 1],
        {},
    ),
    (
        "relocation: relocating one in the exploitation département still before others",
        facts(exploitation="75", relocation=True),
        [asso(1, "75", acc(relocation=True)), asso(2, "13")],
        {},
        (),
        [1, 2],
        {},
    ),
    (
        "relocation: load ranks relocating associations",
        facts(relocation=True),
        [
            asso(1, "13", acc(relocation=True, capacity=10)),
            asso(2, "06", acc(relocation=True, capacity=10)),
        ],
        {1: 6, 2: 2},
        (),
        [2, 1],
        {},
    ),
    (
        "person's département unknown: national only",
        facts(dep=None, exploitation=None),
        [asso(1, "75", acc(deps=IDF)), asso(2, "13")],
        {},
        (),
        [2],
        {1: TERRITORY_NOT_COVERED},
    ),
    (
        "overseas département",
        facts(dep="971"),
        [asso(1, "971", acc(deps=("971",))), asso(2, "13")],
        {},
        (),
        [1, 2],
        {},
    ),
    (
        "minor in danger with relocation and capacity",
        facts(public=MINORS, relocation=True, forms=(CRIM,)),
        [
            asso(1, "93", acc(publics=(MINORS,), capacity=5)),
            asso(2, "13", acc(publics=(MINORS,), relocation=True, capacity=5)),
            asso(3, "06", acc(publics=(MINORS,), relocation=True, capacity=5)),
        ],
        {1: 0, 2: 5, 3: 1},
        (),
        [3, 1],
        {2: CAPACITY_FULL},
    ),
    ("no association at all", facts(), [], {}, (), [], {}),
]


@pytest.mark.parametrize(
    ("referral", "associations", "loads", "tried", "ranking", "excluded"),
    [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS],
)
def test_routing_engine(referral, associations, loads, tried, ranking, excluded):
    decision = rank(referral, associations, open_cases=loads, tried=tried)
    assert [c.association_id for c in decision.candidates] == ranking
    assert {e.association_id: e.reason for e in decision.excluded} == excluded
    explanation = decision.explanation()
    assert explanation["chosen"] == (ranking[0] if ranking else None)
    assert explanation["candidates_total"] == len(ranking)


def test_at_least_25_scenarios():
    assert len(SCENARIOS) >= 25


def test_explanation_is_json_and_names_rules():
    import json

    decision = rank(
        facts(relocation=True), [asso(1, "93"), asso(2, "13", acc(relocation=True))], open_cases={}
    )
    explanation = json.loads(json.dumps(decision.explanation()))
    assert explanation["ranking"][0] == "secure_relocation_first"
    assert explanation["facts"]["public"] == ADULT_WOMEN
    assert explanation["candidates"][0]["secure_relocation"] is True


def test_tiers_reported():
    decision = rank(facts(dep="93"), [asso(1, "93"), asso(2, "75"), asso(3, "13")], open_cases={})
    assert [c.tier for c in decision.candidates] == ["departement", "region", "national"]
