"""The attacker test (issue 11): a population of known truth with rare
combinations, every release an analyst and a manager can obtain for the year,
attacked jointly with integer programming. No small count may be pinned
(exactly, or to an interval excluding both 0 and 10), and no zero proven.

Also: each differencing example that broke per-release suppression, replayed on
the cell-key method; and a Hypothesis search over random small populations."""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from common.errors import ValidationFailed
from stats import cellkey
from stats.reports import report
from stats.selectors import table
from tests.stats.attacker import Attack
from tests.stats.population import Person, build, constants

pytestmark = pytest.mark.django_db

DIMS = [
    "sex",
    "minor",
    "age_group",
    "nationality",
    "departement",
    "exploitation_form",
    "quarter",
    "month",
]
PERIOD_DIMS = {"quarter", "month"}
QUARTERS = [f"2025-Q{q}" for q in range(1, 5)]
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def population(seed: int = 11) -> list[Person]:
    """397 referrals of 2025 over two sexes, minors and adults, two
    nationalities, two départements, two forms and twelve months (768 finest
    cells with the case flag: enough for every kind of combination, small
    enough for exact integer programming)."""
    rng = random.Random(seed)
    forms = ["sexual_exploitation", "forced_begging"]
    people = []
    for _ in range(210):  # the bulk: Parisian adult Nigerian women, sexual exploitation
        month = rng.randint(1, 12)
        people.append(Person("female", False, "NG", "75", forms[0], month, rng.random() < 0.45))
    for _ in range(110):  # Eritrean boys and men, forced begging
        minor, month = rng.random() < 0.5, rng.randint(1, 12)
        people.append(Person("male", minor, "ER", "75", forms[1], month, rng.random() < 0.35))
    for _ in range(72):  # a mixture
        people.append(
            Person(
                rng.choice(["female", "male"]),
                rng.random() < 0.3,
                rng.choice(["NG", "ER"]),
                "75",
                rng.choice(forms),
                rng.randint(1, 12),
                rng.random() < 0.4,
            )
        )
    # Rare combinations: one person; two persons; a whole small département of
    # one profile (two Eritrean girls referred for forced begging in Creuse).
    people.append(Person("male", False, "NG", "75", forms[1], 5, case=True))
    people += [Person("female", True, "ER", "75", forms[0], m) for m in (8, 9)]
    people += [Person("female", True, "ER", "23", forms[1], m) for m in (3, 4)]
    return people


def _release(attack: Attack, *, period: str, filters: dict, cases_only: bool = False, **kwargs):
    text = {k: str(v).lower() if isinstance(v, bool) else v for k, v in filters.items()}
    try:
        release = table(period=period, filters=text, **kwargs)
    except ValidationFailed:
        return  # a crossing too large: refused, nothing released
    attack.add(
        release, period=period, filters={**filters, **({"case": True} if cases_only else {})}
    )


def collect(
    attack: Attack, *, analyst, manager, max_by: int = 3, months: bool = True, filters: bool = True
) -> None:
    """Every release of the year: every `by` of up to three dimensions, for the
    year and each quarter (and each month below three dimensions), with every
    single-value filter (below three dimensions), both measures, the analyst's
    and the manager's; and the survey and UK reports."""
    values = {
        d: attack.support[d]
        for d in ("sex", "minor", "nationality", "departement", "exploitation_form")
    }
    values["age_group"] = sorted({("minor" if m else "25-34") for m in attack.support["minor"]})
    values["exploitation_form"] = attack.support["exploitation_form"]
    for size in range(1, max_by + 1):
        for by in combinations(DIMS, size):
            by = list(by)
            for measure in ("referrals", "cases"):
                for period in ["2025", *QUARTERS]:
                    _release(
                        attack, measure=measure, by=by, period=period, filters={}, user=analyst
                    )
                if months and size < 3 and not PERIOD_DIMS & set(by):
                    for period in MONTHS:
                        _release(
                            attack, measure=measure, by=by, period=period, filters={}, user=analyst
                        )
                if filters and size < 3:
                    for name, domain in values.items():
                        if name in by:
                            continue
                        for value in domain:
                            _release(
                                attack,
                                measure=measure,
                                by=by,
                                period="2025",
                                filters={name: value},
                                user=analyst,
                            )
            if size < 3:
                # The manager: the cases their association holds.
                for period in ["2025", *QUARTERS]:
                    _release(
                        attack,
                        measure="referrals",
                        by=by,
                        period=period,
                        filters={},
                        user=manager,
                        cases_only=True,
                    )
    for name, period in [("survey", "2025"), *(("uk-nrm", q) for q in QUARTERS)]:
        body = report(name=name, period=period, user=analyst)
        for release in body["tables"].values():
            attack.add(release, period=period, filters=release["filters"])


def assert_protected(attack: Attack) -> None:
    attack.check_truth_is_feasible()
    small, zero = attack.targets()
    assert small, "the population has small cells to attack"
    pinned = attack.determined(small)
    assert not pinned, [(attack.describe(m), low, high) for m, low, high in pinned[:5]]
    proven = attack.proven_zero(zero)
    assert not proven, [attack.describe(m) for m in proven[:5]]


@pytest.fixture
def people(world):
    people = population()
    build(people, referrer=world.referrer, association=world.paris)
    return people


def test_joint_attack_on_every_release_of_a_year(world, people, settings):
    attack = Attack(people, constants=constants())
    collect(attack, analyst=world.analyst, manager=world.paris_manager)
    assert attack.releases > 2000 and len(attack.constraints) > 1000
    small, _ = attack.targets()
    assert len(small) > 100
    assert_protected(attack)


def test_the_same_attack_breaks_unperturbed_figures(world, people, settings):
    """The attack is strong enough to matter: without the perturbation (figures
    under 10 hidden, the others exact — per-release suppression without
    complements), it pins small counts."""
    settings.MNR_STATS_PERTURB = False
    attack = Attack(people, exact=True, constants=constants())  # a shown v means exactly v
    collect(
        attack,
        analyst=world.analyst,
        manager=world.paris_manager,
        max_by=2,
        months=False,
        filters=False,
    )
    small, _ = attack.targets()
    assert attack.determined(small, first=True)


# The differencing examples of issue 11, replayed.


def _year(attack: Attack, world, by: list[str], filters: dict | None = None) -> None:
    """The analyst's release of 2025's referrals by ``by``, into the attack."""
    _release(
        attack, measure="referrals", by=by, period="2025", filters=filters or {}, user=world.analyst
    )


def test_sex_differencing_reveals_nothing(world):
    """`by=sex` (female 89, total 133) and `by=minor&sex=male` (40) made
    'unknown' = 4 (3 minors, 1 adult)."""
    people = (
        [Person("female", False, "NG", "75", "sexual_exploitation", 1 + i % 12) for i in range(89)]
        + [Person("male", i < 10, "NG", "75", "sexual_exploitation", 1 + i % 12) for i in range(40)]
        + [
            Person("unknown", i < 3, "NG", "75", "sexual_exploitation", 1 + i % 12)
            for i in range(4)
        ]
    )
    build(people, referrer=world.referrer, association=world.paris)
    attack = Attack(people, constants=constants())
    _year(attack, world, ["sex"])
    for sex in ("female", "male", "unknown"):
        _year(attack, world, ["minor"], {"sex": sex})
    _year(attack, world, ["sex", "minor"])
    assert_protected(attack)


def test_departement_differencing_reveals_nothing(world):
    """`by=departement` (91 → 13) minus `by=departement&sex=female` (91 → 12)
    revealed one man."""
    people = [Person("female", False, "NG", "91", "sexual_exploitation", 1 + i) for i in range(12)]
    people += [Person("male", False, "NG", "91", "sexual_exploitation", 6)]
    people += [
        Person("female", False, "NG", "75", "sexual_exploitation", 1 + i % 12) for i in range(40)
    ]
    build(people, referrer=world.referrer, association=world.paris)
    attack = Attack(people, constants=constants())
    for filters in ({}, {"sex": "female"}, {"sex": "male"}):
        _year(attack, world, ["departement"], filters)
    _year(attack, world, ["departement", "sex"])
    assert_protected(attack)


def test_which_rows_exist_tells_nothing(world, people):
    """Two Eritrean girls in Creuse: the rows listed are the grid, the same as
    for a département where no one was referred, and nothing is shown."""
    creuse = table(
        measure="referrals",
        by=["nationality", "exploitation_form"],
        period="2025",
        filters={"departement": "23"},
        user=world.analyst,
    )
    empty = table(
        measure="referrals",
        by=["nationality", "exploitation_form"],
        period="2025",
        filters={"departement": "48"},
        user=world.analyst,
    )
    assert [r["nationality"] for r in creuse["rows"]] == [r["nationality"] for r in empty["rows"]]
    assert creuse["rows"] == empty["rows"] and creuse["totals"] == empty["totals"]


def test_the_largest_category_is_shown_and_large_cells_are_never_hidden(world, people):
    survey = report(name="survey", period="2025", user=world.analyst)
    counts = {}
    for p in people:
        counts[p.form] = counts.get(p.form, 0) + 1
    rows = {
        r["exploitation_form"]: r["count"] for r in survey["tables"]["identified_by_form"]["rows"]
    }
    largest = max(counts, key=counts.get)
    assert rows[largest] is not None and abs(rows[largest] - counts[largest]) <= cellkey.MAX_NOISE
    for form, n in counts.items():
        if n >= 50:
            assert rows[form] is not None


# Hypothesis: random small populations, a smaller collection of releases.

PROFILE = st.tuples(
    st.sampled_from(["female", "male"]),
    st.booleans(),
    st.sampled_from(["NG", "ER"]),
    st.sampled_from(["75", "23"]),
    st.sampled_from(["sexual_exploitation", "forced_begging"]),
    st.sampled_from([1, 4, 7, 10]),  # one month a quarter: a small exact program
    st.booleans(),
)


@hsettings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    profiles=st.lists(PROFILE, min_size=1, max_size=6),
    weights=st.lists(st.integers(1, 30), min_size=6, max_size=6),
)
def test_random_small_populations_are_not_disclosed(world, profiles, weights):
    people = []
    for profile, weight in zip(profiles, weights, strict=False):
        sex, minor, nat, dep, form, month, case = profile
        people += [
            Person(sex, minor, nat, dep, form, 1 + (month + i) % 12, case) for i in range(weight)
        ]
    build(people, referrer=world.referrer, association=world.paris)
    attack = Attack(people, constants=constants())
    collect(
        attack,
        analyst=world.analyst,
        manager=world.paris_manager,
        max_by=2,
        months=False,
        filters=True,
    )
    small, zero = attack.targets()
    attack.check_truth_is_feasible()
    assert not attack.determined(small)
    assert not attack.proven_zero(zero)
    assert np.all(attack.truth >= 0)
