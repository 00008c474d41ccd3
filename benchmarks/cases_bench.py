"""Case benchmarks (issue 4): case detail and step update on PostgreSQL with
100,000 cases in the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mnr_bench \
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python -m benchmarks.cases_bench

Data are bulk-inserted (no history rows for the synthetic bulk; the measured
writes create theirs as usual): 50 associations, 100,000 referrals with their
presumed victims, cases, 6 steps and 1 note each, and the grants.
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import timedelta

from benchmarks.common import measure, measure_paired, setup_django, show

CASES = int(os.environ.get("MNR_BENCH_CASES", "100000"))
ASSOCIATIONS = 50
BATCH = 5000


def build(rng: random.Random):
    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from agencies import services as agency_services
    from agencies.models import Departement
    from cases.models import (
        Case,
        CaseGroupObjectPermission,
        CaseNote,
        ProtectionStep,
        StepKind,
    )
    from referral.models import (
        PresumedVictim,
        Referral,
        ReferralGroupObjectPermission,
        ReferralUserObjectPermission,
    )

    started = time.perf_counter()
    deps = list(Departement.objects.all())
    associations = [
        agency_services.agency_create(
            actor=None,
            name=f"Association {i:02d}",
            kind="association",
            departement=rng.choice(deps),
        )
        for i in range(ASSOCIATIONS)
    ]
    workers = [
        agency_services.user_create(
            actor=None,
            username=f"worker{i:02d}",
            password="bench-password-123",
            agency=a,
            role="caseworker",
        )
        for i, a in enumerate(associations)
    ]
    police = agency_services.agency_create(
        actor=None, name="Police bench", kind="frontline", sector="police", departement=deps[74]
    )
    referrer = agency_services.user_create(
        actor=None,
        username="bench.referrer",
        password="bench-password-123",
        agency=police,
        role="referrer",
    )
    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            codename__in=["view_case", "change_case", "view_referral"]
        )
    }
    now = timezone.now()
    kinds = list(StepKind.values)
    forms = ["sexual_exploitation", "labour_exploitation", "forced_criminality", "forced_begging"]
    for start in range(0, CASES, BATCH):
        n = min(BATCH, CASES - start)
        referrals = Referral.objects.bulk_create(
            [
                Referral(
                    reference=f"MNR-2025-{start + i + 1:06d}",
                    referring_user=referrer,
                    referring_agency=police,
                    submitted_at=now - timedelta(days=rng.randint(1, 1000)),
                    status="accepted",
                    exploitation_forms=[rng.choice(forms)],
                    exploitation_departement=rng.choice(deps),
                    indicators=["coercion_at_destination.debt_bondage"],
                    indicator_list_version="ilo-2009-adapted.1",
                    narrative="Synthetic benchmark narrative.",
                    needs=["shelter"],
                    consent_to_referral=True,
                )
                for i in range(n)
            ]
        )
        PresumedVictim.objects.bulk_create(
            [
                PresumedVictim(
                    referral=r,
                    given_name="Bench",
                    family_name=f"Person{r.pk}",
                    date_of_birth="1990-01-01",
                    sex=rng.choice(["female", "male"]),
                    nationality="NG",
                    age_years=35,
                )
                for r in referrals
            ]
        )
        owners = [rng.randrange(ASSOCIATIONS) for _ in referrals]
        cases = Case.objects.bulk_create(
            [
                Case(
                    referral=r,
                    reference=r.reference,
                    association=associations[o],
                    assigned_to=workers[o],
                    opened_at=r.submitted_at,
                )
                for r, o in zip(referrals, owners, strict=True)
            ]
        )
        ProtectionStep.objects.bulk_create(
            [
                ProtectionStep(case=c, kind=kind, due_date=(c.opened_at + timedelta(days=7)).date())
                for c in cases
                for kind in rng.sample(kinds, 6)
            ],
            batch_size=BATCH,
        )
        CaseNote.objects.bulk_create(
            [
                CaseNote(case=c, text="Synthetic note.", author=workers[o], created_at=c.opened_at)
                for c, o in zip(cases, owners, strict=True)
            ]
        )
        CaseGroupObjectPermission.objects.bulk_create(
            [
                CaseGroupObjectPermission(
                    content_object=c, group_id=associations[o].group_id, permission=perms[p]
                )
                for c, o in zip(cases, owners, strict=True)
                for p in ("view_case", "change_case")
            ],
            batch_size=BATCH,
        )
        ReferralGroupObjectPermission.objects.bulk_create(
            [
                ReferralGroupObjectPermission(
                    content_object=r,
                    group_id=associations[o].group_id,
                    permission=perms["view_referral"],
                )
                for r, o in zip(referrals, owners, strict=True)
            ]
        )
        ReferralUserObjectPermission.objects.bulk_create(
            [
                ReferralUserObjectPermission(
                    content_object=r, user=referrer, permission=perms["view_referral"]
                )
                for r in referrals
            ]
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {CASES} cases in {time.perf_counter() - started:.0f} s")
    return workers[0], associations[0]


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.test import Client

    from agencies.services import token_issue
    from cases.models import Case, ProtectionStep

    rng = random.Random(11)
    if os.environ.get("MNR_BENCH_REUSE") == "1":  # measure again on the data already built
        from agencies.models import User

        worker = User.objects.select_related("membership__agency").get(username="worker00")
        association = worker.membership.agency
    else:
        worker, association = build(rng)
    print(
        f"PostgreSQL; {Case.objects.count()} cases, {ProtectionStep.objects.count()} steps; "
        f"broker: {'Redis' if settings.REDIS_URL else 'in-process'}"
    )
    _, key = token_issue(user=worker)
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {key}")
    refs = list(
        Case.objects.filter(association=association).values_list("reference", flat=True)[:200]
    )

    def detail(i: int) -> None:
        r = client.get(f"/api/v1/cases/{refs[i % len(refs)]}/")
        assert r.status_code == 200, r.content

    steps = list(
        ProtectionStep.objects.filter(case__association=association)
        .select_related("case")
        .order_by("pk")[:200]
    )
    etags = {s.pk: f'"step-{s.pk}-v{s.version}"' for s in steps}

    def update(i: int) -> None:
        step = steps[i % len(steps)]
        r = client.patch(
            f"/api/v1/cases/{step.case.reference}/steps/{step.pk}/",
            json.dumps({"note": f"update {i}"}),
            content_type="application/json",
            HTTP_IF_MATCH=etags[step.pk],
        )
        assert r.status_code == 200, r.content
        etags[step.pk] = r.headers["ETag"]

    # Issue 4 targets, audit on (history + access log), as in production.
    with_audit = {"detail": measure(detail, 500), "update": measure(update, 500)}
    show("case detail (GET /api/v1/cases/{ref}/)", with_audit["detail"], target_ms=30)
    show("step update (PATCH /api/v1/cases/{ref}/steps/{id}/)", with_audit["update"], target_ms=30)

    # Issue 5: the audit's cost, measured without it in the same run.
    settings.MNR_AUDIT_ACCESS_LOG = False
    settings.SIMPLE_HISTORY_ENABLED = False
    without = {"detail": measure(detail, 500), "update": measure(update, 500)}
    settings.MNR_AUDIT_ACCESS_LOG = True
    settings.SIMPLE_HISTORY_ENABLED = True
    again = {"detail": measure(detail, 500), "update": measure(update, 500)}
    show("case detail, audit off", without["detail"])
    show("step update, audit off", without["update"])
    show("case detail, audit on (second pass)", again["detail"])
    show("step update, audit on (second pass)", again["update"])
    for name in ("detail", "update"):
        on = (with_audit[name]["median_ms"] + again[name]["median_ms"]) / 2
        off = without[name]["median_ms"]
        overhead = (on - off) / off * 100
        verdict = "PASS" if overhead <= 20 else "FAIL"
        print(
            f"audit overhead on {name}: {overhead:+.1f}% (mean of the two audit-on medians "
            f"{on:.2f} ms vs off {off:.2f} ms)  {verdict} (target ≤ 20%)"
        )

    def case_list(i: int) -> None:
        r = client.get("/api/v1/cases/?page_size=50")
        assert r.status_code == 200

    show("case list, 50 per page (GET /api/v1/cases/)", measure(case_list, 100))

    # Issue 13: a list that shows names writes one access-log entry with the
    # references shown. Its cost, and the audit's on detail and update again,
    # measured with the switch flipped between every two requests (the runs
    # above, on / off / on in blocks, drift by more than the effect measured).
    def access_log(on: bool) -> None:
        settings.MNR_AUDIT_ACCESS_LOG = on

    def audit(on: bool) -> None:
        settings.MNR_AUDIT_ACCESS_LOG = on
        settings.SIMPLE_HISTORY_ENABLED = on

    for label, fn, switch, n, target in (
        ("case list, 50 per page: list-read logging", case_list, access_log, 300, 10),
        ("case detail: audit", detail, audit, 1000, 20),
        ("step update: audit", update, audit, 1000, 20),
    ):
        on, off = measure_paired(fn, n, switch=switch)
        overhead = (on["median_ms"] - off["median_ms"]) / off["median_ms"] * 100
        show(f"{label} on (paired)", on)
        show(f"{label} off (paired)", off)
        verdict = "PASS" if overhead <= target else "FAIL"
        print(f"{label} overhead (paired): {overhead:+.1f}%  {verdict} (target ≤ {target}%)")


if __name__ == "__main__":
    main()
