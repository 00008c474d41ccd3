"""Differentially private releases: OpenDP noise, non-negative integers, public
grid, per-user budget per period recorded and refused once spent."""

from __future__ import annotations

import sys
from statistics import mean

import pytest

from audit.models import AccessLog
from stats.models import PrivacySpend
from tests.cases.conftest import ADULT_BODY, body

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(api, world):
    for i in range(6):
        api.submitted(world.referrer, body(ADULT_BODY, person={"family_name": f"P{i}"}))
    from django.utils import timezone

    return str(timezone.localdate().year)


def dp(api, user, query):
    return api.get(user, f"/api/v1/stats/referrals/?privacy=dp&{query}")


def test_dp_release_is_noisy_non_negative_over_a_public_grid(api, world, data, settings):
    settings.MNR_DP_BUDGET = 1.0
    r = dp(api, world.analyst, f"by=sex&period={data}&epsilon=0.5")
    assert r.status_code == 200, r.content
    release = r.json()
    assert release["privacy"] == "dp" and release["epsilon"] == 0.5
    assert "OpenDP" in release["mechanism"]
    assert [row["sex"] for row in release["rows"]] == ["female", "male", "other", "unknown"]
    assert all(isinstance(row["count"], int) and row["count"] >= 0 for row in release["rows"])
    assert release["totals"][0]["count"] == sum(row["count"] for row in release["rows"])
    assert release["budget_remaining"] == 0.5
    spend = PrivacySpend.objects.get()
    assert spend.user == world.analyst and spend.period == data and spend.epsilon == 0.5
    entry = AccessLog.objects.get(action="stats.export")
    assert entry.detail["privacy"] == "dp" and entry.detail["epsilon"] == 0.5


def test_budget_is_refused_once_spent_per_user_and_period(api, world, data, settings):
    settings.MNR_DP_BUDGET = 1.0
    assert dp(api, world.analyst, f"by=sex&period={data}&epsilon=0.6").status_code == 200
    refused = dp(api, world.analyst, f"by=sex&period={data}&epsilon=0.6")
    assert refused.status_code == 409
    assert "budget" in refused.json()["error"]["message"].lower()
    assert PrivacySpend.objects.count() == 1
    # Another period, or another analyst, has its own budget.
    assert dp(api, world.analyst, f"by=sex&period={int(data) - 1}&epsilon=0.6").status_code == 200
    assert dp(api, world.coordinator, f"by=sex&period={data}&epsilon=0.6").status_code == 200


def test_noise_is_centred_on_the_true_counts(api, world, data, settings):
    settings.MNR_DP_BUDGET = 1000.0
    females = [
        next(
            r["count"]
            for r in dp(api, world.analyst, f"by=sex&period={data}&epsilon=2").json()["rows"]
            if r["sex"] == "female"
        )
        for _ in range(60)
    ]
    assert abs(mean(females) - 6) < 1.0  # Laplace scale 0.5 around the 6 referrals
    assert len(set(females)) > 1  # and it is noise


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("by=sex&epsilon=0.5", "period"),
        ("by=sex&period=2025", "epsilon"),
        ("by=sex&period=2025&epsilon=-1", "epsilon"),
        ("by=sex&period=2025&epsilon=abc", "epsilon"),
        ("by=sex&period=2025&epsilon=5", "epsilon"),
    ],
)
def test_bad_dp_queries(api, world, data, query, field):
    r = dp(api, world.analyst, query)
    assert r.status_code == 400 and field in r.json()["error"]["fields"]
    assert not PrivacySpend.objects.exists()


def test_without_opendp_the_option_is_a_clear_400(api, world, data, monkeypatch):
    monkeypatch.setitem(sys.modules, "opendp.prelude", None)  # as if the extra were absent
    r = dp(api, world.analyst, f"by=sex&period={data}&epsilon=0.5")
    assert r.status_code == 400
    assert "OpenDP" in r.json()["error"]["fields"]["privacy"][0]
    assert not PrivacySpend.objects.exists()


def test_referrers_get_no_dp_either(api, world, data):
    assert dp(api, world.referrer, f"by=sex&period={data}&epsilon=0.5").status_code == 403
    assert not PrivacySpend.objects.exists()


def test_multi_valued_dimension_raises_sensitivity(api, world, data, settings):
    settings.MNR_DP_BUDGET = 1.0
    release = dp(api, world.analyst, f"by=exploitation_form&period={data}&epsilon=1").json()
    assert "L1 sensitivity 7" in release["mechanism"]
    assert len(release["rows"]) == 7
