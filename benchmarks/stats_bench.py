"""Statistics benchmark (issue 6): with 1,000,000 synthetic referrals on
PostgreSQL, a two-dimension crossing for one year and the whole survey report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mnr_bench_stats \
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python -m benchmarks.stats_bench

Rows are bulk-inserted without identity fields (statistics never read them):
1,000,000 referrals over 2023-2026 with their presumed victims and forms,
30 % accepted with a case, complaint-filed steps on a tenth of the cases; then
the statistics table (stats.ReferralFact) is rebuilt from them, as the nightly
job does.
MNR_BENCH_REUSE=1 measures again on the data already built.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

from benchmarks.common import measure, setup_django, show

REFERRALS = int(os.environ.get("MNR_BENCH_REFERRALS", "1000000"))
BATCH = 10_000


def build(rng: random.Random) -> None:
    from agencies import services as agency_services
    from agencies.models import Departement
    from cases.models import Case, ProtectionStep
    from referral.models import PresumedVictim, Referral, ReferralForm

    started = time.perf_counter()
    deps = list(Departement.objects.values_list("code", flat=True))
    sectors = ["police", "gendarmerie", "justice", "education", "health", "social_services"]
    agencies = [
        agency_services.agency_create(
            actor=None,
            name=f"Frontline {s}",
            kind="frontline",
            sector=s,
            departement=Departement.objects.get(code="75"),
        )
        for s in sectors
    ]
    associations = [
        agency_services.agency_create(
            actor=None,
            name=f"Association {i}",
            kind="association",
            departement=Departement.objects.get(code=rng.choice(deps)),
        )
        for i in range(20)
    ]
    referrer = agency_services.user_create(
        actor=None,
        username="bench.referrer",
        password="bench-password-123",
        agency=agencies[0],
        role="referrer",
    )
    agency_services.user_create(
        actor=None,
        username="bench.analyst",
        password="bench-password-123",
        agency=agency_services.agency_create(actor=None, name="MIPROF bench", kind="coordinator"),
        role="analyst",
    )
    forms = (
        ["sexual_exploitation"] * 5
        + ["labour_exploitation"] * 2
        + [
            "domestic_servitude",
            "forced_criminality",
            "forced_begging",
            "other",
        ]
    )
    nationalities = ["NG", "FR", "RO", "CN", "CI", "BR", "MA", "BG", "DZ", "VN", "", "AF", "UA"]
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span = 4 * 365 * 86400
    for offset in range(0, REFERRALS, BATCH):
        n = min(BATCH, REFERRALS - offset)
        referrals = Referral.objects.bulk_create(
            [
                Referral(
                    reference=f"MNR-B-{offset + i:08d}",
                    referring_user=referrer,
                    referring_agency=rng.choice(agencies),
                    submitted_at=start + timedelta(seconds=rng.randrange(span)),
                    status=rng.choice(
                        [
                            "accepted",
                            "accepted",
                            "accepted",
                            "routed",
                            "notified",
                            "escalated",
                            "withdrawn",
                        ]
                    ),
                    exploitation_forms=[],
                    exploitation_departement_id=None
                    if (abroad := rng.random() < 0.15)
                    else rng.choice(deps),
                    exploitation_country="ES" if abroad else "",
                    indicator_list_version="ilo-2009-adapted.1",
                    consent_to_referral=True,
                )
                for i in range(n)
            ]
        )
        PresumedVictim.objects.bulk_create(
            [
                PresumedVictim(
                    referral=r,
                    sex=rng.choices(["female", "male", "other", "unknown"], [64, 33, 1, 2])[0],
                    nationality=rng.choice(nationalities),
                    age_years=(age := rng.choice([None, *range(12, 70)])),
                    presumed_minor=age is not None and age < 18,
                    current_departement_id=rng.choice(deps),
                )
                for r in referrals
            ]
        )
        ReferralForm.objects.bulk_create(
            [
                ReferralForm(referral=r, form=form)
                for r in referrals
                for form in {rng.choice(forms) for _ in range(1 + (rng.random() < 0.1))}
            ],
            ignore_conflicts=True,
        )
        accepted = [r for r in referrals if r.status == "accepted" and rng.random() < 0.7]
        cases = Case.objects.bulk_create(
            [
                Case(
                    referral=r,
                    reference=r.reference,
                    association=rng.choice(associations),
                    opened_at=r.submitted_at + timedelta(days=2),
                )
                for r in accepted
            ]
        )
        ProtectionStep.objects.bulk_create(
            [
                ProtectionStep(case=c, kind="complaint_filed", status="done", done_at=c.opened_at)
                for c in cases
                if rng.random() < 0.1
            ]
        )
    print(f"built {REFERRALS} referrals in {time.perf_counter() - started:.0f} s")
    # Bulk inserts bypass the services, so the statistics table is computed
    # here the way the nightly job and the migration do it.
    from stats.services import facts_rebuild

    started = time.perf_counter()
    rows = facts_rebuild()
    print(f"statistics table: {rows} rows rebuilt in {time.perf_counter() - started:.0f} s")
    from stats.services import stats_publish

    started = time.perf_counter()
    stats_publish()
    print(f"published in {time.perf_counter() - started:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    setup_django()
    from django.test import Client

    from agencies.models import User
    from referral.models import Referral

    rng = random.Random(5)
    if os.environ.get("MNR_BENCH_REUSE") != "1":
        build(rng)

    print(f"PostgreSQL; {Referral.objects.count()} referrals")
    from agencies.services import token_issue

    # A token as MIPROF's scripts use (issued after the second factor).
    _, key = token_issue(user=User.objects.get(username="bench.analyst"))
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {key}")

    def crossing(i: int) -> None:
        r = client.get("/api/v1/stats/referrals/?by=exploitation_form,sex&period=2025")
        assert r.status_code == 200, r.content

    def survey(i: int) -> None:
        r = client.get("/api/v1/stats/reports/survey/?year=2025")
        assert r.status_code == 200, r.content

    show(
        "two-dimension crossing for one year (form × sex, 2025)",
        measure(crossing, 20, warmup=2),
        target_ms=500,
    )
    show("survey report for one year (6 tables)", measure(survey, 10, warmup=1), target_ms=2000)
    from benchmarks import stats_utility

    stats_utility.main()


if __name__ == "__main__":
    main()
