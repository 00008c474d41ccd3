"""Identification decisions in the statistics, through the HTTP API: the final
decision of each stage, its first negative reason and the working days to it
enter the fact rows in the decision's transaction and the figures at the next
publication, protected like every other figure (the cell-key method, whole
grids, counts only); a pending file's age moves with the nightly repair."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identification.models import Identification
from referral.models import Referral
from stats import cellkey
from stats.domains import public_domain
from stats.identification_facts import COLUMNS, file_facts
from stats.models import ReferralFact
from stats.services import facts_drift, facts_repair
from stats.tasks import facts_repair_task
from tests.helpers import login_with_second_factor
from tests.identification.conftest import ADULT_BODY, MINOR_BODY, body, file_url
from tests.identification.test_api import NEGATIVE, recovery_over, ref
from tests.stats.conftest import publish, shown

pytestmark = pytest.mark.django_db

EXPLANATION = "Le récit ne décrit aucun moyen de contrainte."
NOT_IDENTIFIED = {
    "outcome": "not_identified",
    "reasons": ["other", "no_means"],
    "explanation": EXPLANATION,
}
NEGATIVE_TWO = {**NEGATIVE, "reasons": ["no_exploitation", "insufficient_indicators"]}


def quarter() -> str:
    today = timezone.localdate()
    return f"{today.year}-Q{(today.month + 2) // 3}"


def routed(api, world, i: int, data=ADULT_BODY) -> Identification:
    person = {"family_name": f"Okafor{i}"} if data is ADULT_BODY else {"family_name": f"Pop{i}"}
    referral = api.submitted(world.referrer, body(data, person=person))
    return Identification.objects.get(referral__reference=referral["reference"])


def decide(api, user, identification: Identification, data: dict):
    r = api.post(user, file_url(ref(identification), "decide/"), data)
    assert r.status_code == 200, r.content
    return r


def to_formal(api, world, identification: Identification) -> None:
    """The recovery period over, an evidence file, submitted for the formal decision."""
    recovery_over(identification)
    r = api.post(
        world.paris_worker,
        file_url(ref(identification), "evidence/"),
        {"section": "interview", "text": "Entretien.", "on_date": str(timezone.localdate())},
    )
    assert r.status_code == 201, r.content
    r = api.post(world.paris_worker, file_url(ref(identification), "submit/"))
    assert r.status_code == 200, r.content


def fact(identification: Identification) -> ReferralFact:
    return ReferralFact.objects.get(referral_id=identification.referral_id, is_primary=True)


def get(api, user, query: str):
    return api.get(user, f"/api/v1/stats/referrals/?{query}")


def expected(referral_ids) -> int | None:
    ids = list(referral_ids)
    return cellkey.published(len(ids), sum(cellkey.record_key(i) for i in ids))


@pytest.fixture
def decided(api, world, units):
    """16 positive preliminary decisions (one after a reconsideration), of which
    one identified and one not identified at the formal stage; 3 negative;
    2 awaited (one a minor's); 1 anonymous notification (no file). Published."""
    files = {"positive": [], "negative": [], "pending": []}
    for i in range(15):
        identification = routed(api, world, i)
        decide(api, units.idf_dm, identification, {"outcome": "positive"})
        files["positive"].append(identification)
    reconsidered = routed(api, world, 15)
    decide(api, units.idf_dm, reconsidered, NEGATIVE)
    r = api.post(
        world.paris_worker,
        file_url(ref(reconsidered), "reconsider/"),
        {"new_elements": "Nouveau récit, avec interprète."},
    )
    assert r.status_code == 200, r.content
    assert fact(reconsidered).preliminary_outcome == "pending"
    decide(api, units.idf_dm2, reconsidered, {"outcome": "positive"})
    files["positive"].append(reconsidered)
    for i, data in enumerate((NEGATIVE, NEGATIVE, NEGATIVE_TWO)):
        identification = routed(api, world, 20 + i)
        decide(api, units.idf_dm, identification, data)
        files["negative"].append(identification)
    files["pending"].append(routed(api, world, 30))
    files["pending"].append(routed(api, world, 31, MINOR_BODY))
    identified, not_identified = files["positive"][:2]
    for identification in (identified, not_identified):
        to_formal(api, world, identification)
    decide(api, units.idf_dm, identified, {"outcome": "identified"})
    decide(api, units.idf_dm2, not_identified, NOT_IDENTIFIED)
    files["identified"], files["not_identified"] = [identified], [not_identified]
    anonymous = body(
        ADULT_BODY,
        consent_to_referral=False,
        narrative="",
        person={"given_name": "", "family_name": "", "phone": "", "date_of_birth": None},
    )
    assert api.submit(world.referrer, anonymous).status_code == 201
    publish()
    return files


def test_each_decision_refreshes_its_row_in_its_transaction(api, world, units):
    identification = routed(api, world, 0)
    row = fact(identification)
    assert (row.preliminary_outcome, row.preliminary_days, row.pending_age) == (
        "pending",
        "pending",
        "0-5",
    )
    assert (row.formal_outcome, row.formal_days, row.negative_reason) == ("none", "none", "none")
    decide(api, units.idf_dm, identification, NEGATIVE_TWO)
    row = fact(identification)
    assert (row.preliminary_outcome, row.preliminary_days, row.pending_age) == (
        "negative",
        "0-5",
        "none",
    )
    # The first reason in the list's order, not the alphabet's.
    assert row.negative_reason == "no_exploitation"
    assert facts_drift() == []
    # Withdrawn before any decision: nothing at either stage.
    withdrawn = routed(api, world, 1)
    r = api.post(world.referrer, f"/api/v1/referrals/{ref(withdrawn)}/withdraw/", {})
    assert r.status_code == 200, r.content
    row = fact(withdrawn)
    assert (row.outcome, row.preliminary_outcome, row.formal_outcome) == (
        "withdrawn",
        "none",
        "none",
    )
    assert row.pending_age == "none" and facts_drift() == []
    # Withdrawn after a positive preliminary decision: withdrawn at the formal stage.
    presumed = routed(api, world, 2)
    decide(api, units.idf_dm, presumed, {"outcome": "positive"})
    assert (fact(presumed).formal_outcome, fact(presumed).formal_days) == ("pending", "pending")
    r = api.post(world.referrer, f"/api/v1/referrals/{ref(presumed)}/withdraw/", {})
    assert r.status_code == 200, r.content
    row = fact(presumed)
    assert (row.preliminary_outcome, row.formal_outcome, row.formal_days) == (
        "positive",
        "withdrawn",
        "none",
    )
    assert facts_drift() == []


def test_decisions_enter_the_figures_at_the_next_publication(api, world, units, decided, exact):
    release = get(api, world.analyst, "by=preliminary_outcome").json()
    assert [r["preliminary_outcome"] for r in release["rows"]] == public_domain(
        "preliminary_outcome"
    )
    assert shown(release["rows"], "preliminary_outcome") == {
        "none": 1,
        "pending": 2,
        "positive": 16,
        "negative": 3,
    }
    formal = get(api, world.analyst, "by=formal_outcome").json()["rows"]
    assert shown(formal, "formal_outcome") == {
        "none": 6,
        "pending": 14,
        "identified": 1,
        "not_identified": 1,
    }
    reasons = get(api, world.analyst, "by=negative_reason,formal_outcome").json()["rows"]
    assert {
        (r["negative_reason"], r["formal_outcome"]): r["count"] for r in reasons if r["count"]
    } == {
        ("none", "none"): 3,  # the notification and the two awaited
        ("none", "pending"): 14,
        ("none", "identified"): 1,
        ("no_exploitation", "none"): 3,  # NEGATIVE and NEGATIVE_TWO both start with it
        ("no_means", "not_identified"): 1,  # "no_means" comes before "other"
    }
    days = get(api, world.analyst, "by=preliminary_days,formal_days").json()["rows"]
    assert {(r["preliminary_days"], r["formal_days"]): r["count"] for r in days if r["count"]} == {
        ("none", "none"): 1,
        ("pending", "none"): 2,
        ("0-5", "none"): 3,
        ("0-5", "pending"): 14,
        ("0-5", "0-5"): 2,
    }
    ages = get(api, world.analyst, "by=pending_age,minor").json()["rows"]
    assert {(r["pending_age"], r["minor"]): r["count"] for r in ages if r["count"]} == {
        ("none", False): 20,
        ("0-5", False): 1,
        ("0-5", True): 1,
    }
    # Filters by the new dimensions; a bad value is a 400 naming the field.
    only = get(api, world.analyst, "by=sex&preliminary_outcome=negative").json()
    assert shown(only["rows"], "sex") == {"female": 3}
    bad = get(api, world.analyst, "by=sex&preliminary_days=3")
    assert bad.status_code == 400 and "preliminary_days" in bad.json()["error"]["fields"]
    # A decision taken now changes nothing until the next publication.
    before = get(api, world.analyst, "by=preliminary_outcome").json()
    decide(api, units.idf_dm, decided["pending"][0], {"outcome": "positive"})
    assert get(api, world.analyst, "by=preliminary_outcome").json() == before
    publish()
    after = get(api, world.analyst, "by=preliminary_outcome").json()
    assert shown(after["rows"], "preliminary_outcome")["positive"] == 17


def test_small_cells_are_protected_like_the_rest(api, world, units, decided):
    release = get(api, world.analyst, "by=preliminary_outcome").json()
    assert release["privacy"] == "cell-key" and release["threshold"] == 10
    rows = {r["preliminary_outcome"]: r for r in release["rows"]}
    positive = [i.referral_id for i in decided["positive"]]
    assert rows["positive"]["count"] == expected(positive)
    assert rows["positive"]["count"] is not None  # 16: shown whatever the noise
    assert abs(rows["positive"]["count"] - 16) <= cellkey.MAX_NOISE
    # 3 negative, 2 awaited, 1 without a file: "under 10", alike, like an empty cell.
    for value in ("negative", "pending", "none"):
        assert rows[value] == {"preliminary_outcome": value, "count": None, "suppressed": True}
    assert release["totals"][0]["count"] == expected(Referral.objects.values_list("pk", flat=True))
    # The same people show the same figure however they are asked.
    by_sex = get(api, world.analyst, "by=preliminary_outcome,sex").json()
    margin = next(
        r for r in by_sex["totals"] if r["preliminary_outcome"] == "positive" and r["sex"] == "*"
    )
    assert margin["count"] == rows["positive"]["count"]
    report = api.get(world.analyst, f"/api/v1/stats/reports/uk-nrm/?quarter={quarter()}").json()
    table = {r["preliminary_outcome"]: r for r in report["tables"]["reasonable_grounds"]["rows"]}
    assert table["positive"]["count"] == rows["positive"]["count"]
    # Every reason cell is small: every one is hidden, the zeros with them.
    reasons = get(api, world.analyst, "by=negative_reason").json()["rows"]
    assert all(r["suppressed"] for r in reasons if r["negative_reason"] != "none")


def test_the_uk_nrm_layout_has_both_stages(api, world, units, decided, exact):
    r = api.get(world.analyst, f"/api/v1/stats/reports/uk-nrm/?quarter={quarter()}")
    assert r.status_code == 200, r.content
    tables = r.json()["tables"]
    assert {
        "reasonable_grounds",
        "reasonable_grounds_by_age",
        "reasonable_grounds_negative_reasons",
        "reasonable_grounds_time",
        "conclusive_grounds",
        "conclusive_grounds_by_age",
        "conclusive_grounds_negative_reasons",
        "conclusive_grounds_time",
        "awaiting_decision",
    } <= set(tables)
    assert shown(tables["reasonable_grounds"]["rows"], "preliminary_outcome")["negative"] == 3
    rg_reasons = tables["reasonable_grounds_negative_reasons"]
    assert rg_reasons["filters"] == {"preliminary_outcome": "negative"}
    assert shown(rg_reasons["rows"], "negative_reason") == {"no_exploitation": 3}
    cg_reasons = tables["conclusive_grounds_negative_reasons"]["rows"]
    assert shown(cg_reasons, "negative_reason") == {"no_means": 1}
    assert shown(tables["conclusive_grounds"]["rows"], "formal_outcome")["identified"] == 1
    assert shown(tables["conclusive_grounds_time"]["rows"], "formal_days") == {
        "none": 6,
        "pending": 14,
        "0-5": 2,
    }
    assert shown(tables["awaiting_decision"]["rows"], "pending_age") == {"none": 20, "0-5": 2}
    by_age = tables["reasonable_grounds_by_age"]["rows"]
    assert {(r["preliminary_outcome"], r["minor"]) for r in by_age if r["count"]} >= {
        ("pending", True),
        ("positive", False),
    }


def test_an_analyst_gets_counts_only(api, world, units, decided, exact):
    client = api.as_(world.analyst)
    texts = []
    for name in (
        "preliminary_outcome",
        "formal_outcome",
        "negative_reason",
        "preliminary_days",
        "formal_days",
        "pending_age",
    ):
        release = client.get(f"/api/v1/stats/referrals/?by={name},sex").json()
        for row in [*release["rows"], *release["totals"]]:
            assert set(row) == {name, "sex", "count", "suppressed"}, row
        texts.append(str(release))
        texts.append(client.get(f"/api/v1/stats/cases/?by={name}&format=csv").content.decode())
    texts.append(str(client.get(f"/api/v1/stats/reports/uk-nrm/?quarter={quarter()}").json()))
    blob = "\n".join(texts)
    for secret in [
        EXPLANATION,
        NEGATIVE["explanation"],
        "Nouveau récit",
        "Okafor",
        "Entretien",
        units.idf_dm.username,
        *(ref(i) for files in decided.values() for i in files),
    ]:
        assert secret not in blob, secret
    # The figures, never the files: the analyst reads no identification file.
    assert api.get(world.analyst, file_url(ref(decided["negative"][0]))).status_code == 404
    # Who reads no statistics: a decision-maker, a worker, a referrer.
    for who in (units.idf_dm, world.paris_worker, world.referrer):
        assert get(api, who, "by=preliminary_outcome").status_code == 403, who


def test_a_manager_sees_their_associations_decisions(api, world, units, decided, exact):
    own = get(api, world.paris_manager, "by=preliminary_outcome").json()
    assert own["scope"] == "association"
    # Paris is awaited on the adults' referrals; the minor went to another
    # association, and the anonymous notification to none.
    assert shown(own["rows"], "preliminary_outcome") == {
        "pending": 1,
        "positive": 16,
        "negative": 3,
    }


def test_the_web_page_groups_by_the_new_dimensions(api, world, units, decided, exact):
    page = Client(SERVER_NAME="localhost")
    login_with_second_factor(page, world.analyst)
    r = page.get(
        "/statistics/",
        {"measure": "referrals", "by": "preliminary_outcome", "by_2": "formal_days"},
    )
    assert r.status_code == 200
    assert r.context["crossing"].dimensions == ["preliminary_outcome", "formal_days"]
    csv = page.get(
        "/statistics/export.csv", {"measure": "referrals", "by": "formal_outcome", "sex": "female"}
    )
    assert csv.status_code == 200, csv.content
    assert csv.content.decode().splitlines()[0] == "formal_outcome,count,suppressed"


def test_time_to_decision_and_pending_age_in_working_days(api, world, units, exact, caplog):
    now = timezone.now()
    late = routed(api, world, 0)
    # Opened two weeks ago (10 working days), decided now.
    Identification.objects.filter(pk=late.pk).update(opened_at=now - timedelta(days=14))
    decide(api, units.idf_dm, late, {"outcome": "positive"})
    assert fact(late).preliminary_days == "6-10"
    waiting = routed(api, world, 1)
    assert fact(waiting).pending_age == "0-5"
    # Three weeks pass (15 working days): only the age moves, which is not drift.
    Identification.objects.filter(pk=waiting.pk).update(opened_at=now - timedelta(days=21))
    assert facts_drift() == []
    assert fact(waiting).pending_age == "0-5"
    caplog.set_level("INFO", logger="stats.services")
    assert facts_repair_task.delay().get() == 0  # the nightly repair: nothing drifted …
    assert fact(waiting).pending_age == "11-30"  # … but the age is recomputed
    assert "pending identification ages moved for 1 referrals" in caplog.text
    assert "out of date" not in caplog.text
    assert facts_repair(now=now + timedelta(days=40)) == []
    assert fact(waiting).pending_age == "31+" and fact(late).pending_age == "none"
    # A real drift in a decision column is still reported and repaired.
    ReferralFact.objects.filter(referral_id=late.referral_id).update(preliminary_outcome="negative")
    assert facts_drift() == [late.referral_id]
    assert facts_repair(now=now + timedelta(days=40)) == [late.referral_id]
    assert fact(late).preliminary_outcome == "positive"
    publish()
    ages = get(api, world.analyst, "by=pending_age").json()["rows"]
    assert shown(ages, "pending_age") == {"none": 1, "31+": 1}
    times = get(api, world.analyst, "by=preliminary_days").json()["rows"]
    assert shown(times, "preliminary_days") == {"6-10": 1, "pending": 1}


def test_identification_crossings_do_not_grow_with_the_data(
    api, world, units, django_assert_max_num_queries
):
    decide(api, units.idf_dm, routed(api, world, 0), NEGATIVE)
    publish()
    client = api.as_(world.analyst)
    query = "/api/v1/stats/referrals/?by=preliminary_outcome,negative_reason,pending_age"

    def run():
        r = client.get(f"{query}&period={timezone.localdate().year}")
        assert r.status_code == 200
        return r

    with CaptureQueriesContext(connection) as small:
        run()
    first = len(small.captured_queries)
    assert 0 < first <= 8
    for i in range(1, 6):
        identification = routed(api, world, i)
        if i % 2:
            decide(api, units.idf_dm, identification, {"outcome": "positive"})
    publish()
    with django_assert_max_num_queries(first):
        run()


OPENED = timezone.make_aware(datetime(2026, 3, 2, 10))  # a Monday


def _decision(stage: str, outcome: str, days: int, reasons=()) -> dict:
    return {
        "stage": stage,
        "outcome": outcome,
        "reasons": list(reasons),
        "decided_at": OPENED + timedelta(days=days),
    }


@pytest.mark.parametrize(
    ("status", "decisions", "submitted", "expected"),
    [
        ("preliminary_pending", [], None, ("pending", "none", "none", "pending", "none", "0-5")),
        (
            "preliminary_reconsideration",
            [("preliminary", "negative", 1, ["other"])],
            None,
            ("pending", "none", "none", "pending", "none", "0-5"),
        ),
        (
            "not_presumed",
            [("preliminary", "negative", 8, ["other", "no_act"])],
            None,
            ("negative", "none", "no_act", "6-10", "none", "none"),
        ),
        (
            "presumed",
            [("preliminary", "negative", 1, ["other"]), ("preliminary", "positive", 21, [])],
            None,
            ("positive", "pending", "none", "11-30", "pending", "none"),
        ),
        (
            "formal_pending",
            [("preliminary", "positive", 0, [])],
            50,
            ("positive", "pending", "none", "0-5", "pending", "0-5"),
        ),
        (
            "formal_reconsideration",
            [("preliminary", "positive", 0, []), ("formal", "not_identified", 52, ["no_means"])],
            50,
            ("positive", "pending", "none", "0-5", "pending", "0-5"),
        ),
        (
            "not_identified",
            [("preliminary", "positive", 0, []), ("formal", "not_identified", 64, ["no_means"])],
            50,
            ("positive", "not_identified", "no_means", "0-5", "6-10", "none"),
        ),
        (
            "identified",
            [("preliminary", "positive", 0, []), ("formal", "identified", 150, [])],
            50,
            ("positive", "identified", "none", "0-5", "31+", "none"),
        ),
        ("withdrawn", [], None, ("none", "none", "none", "none", "none", "none")),
        (
            "withdrawn",
            [("preliminary", "negative", 1, ["no_exploitation"])],
            None,
            ("negative", "none", "no_exploitation", "0-5", "none", "none"),
        ),
        (
            "withdrawn",
            [("preliminary", "positive", 1, []), ("formal", "withdrawn", 53, ["person_left"])],
            50,
            ("positive", "withdrawn", "none", "0-5", "0-5", "none"),
        ),
    ],
)
def test_each_state_of_a_file_has_its_columns(status, decisions, submitted, expected):
    """Branch by branch: the final decision of each stage, its first reason, the
    working days (from the opening, from the submission) and the pending age."""
    last = {}
    for stage, outcome, days, reasons in decisions:  # in order: the last one stays
        last[stage] = _decision(stage, outcome, days, reasons)
    file = {
        "status": status,
        "opened_at": OPENED,
        "evidence_submitted_at": OPENED + timedelta(days=submitted) if submitted else None,
    }
    today = (OPENED + timedelta(days=(submitted or 0) + 1)).date()
    facts = file_facts(file, last, today=today)
    assert tuple(facts[c] for c in COLUMNS) == expected


def test_deferred_refreshes_compute_each_row_once_at_the_end(api, world, units):
    """Bulk work (the demo seed) refreshes each referral once, at the end of the
    block, with the same rows as event by event."""
    from stats.models import ReferralFact
    from stats.services import facts_deferred
    from tests.identification.test_api import ADULT_BODY, routed

    with facts_deferred():
        identification = routed(api, world, ADULT_BODY)
        assert not ReferralFact.objects.filter(referral=identification.referral).exists()
    deferred = list(
        ReferralFact.objects.filter(referral=identification.referral).values(
            "preliminary_outcome", "outcome", "form"
        )
    )
    assert deferred and deferred[0]["preliminary_outcome"] == "pending"
    other = routed(api, world, ADULT_BODY | {"narrative": "Autre."})
    assert ReferralFact.objects.filter(referral=other.referral).exists()  # at once
