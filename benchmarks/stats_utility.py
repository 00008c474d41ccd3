"""Utility and cost of the statistics' protection (issue 11), on whatever data
the database holds (benchmarks.stats_bench builds 1,000,000 referrals; with
MNR_BENCH_DEMO=1 this script seeds the demo data instead):

- no cell whose true count is ≥ 50 is hidden;
- median absolute relative error ≤ 5 % on cells whose true count is ≥ 100;
- the largest category of every survey table is shown;
- memory under 4 parallel worst-case requests (the largest grid allowed, and one
  refused before it is built), as the peak resident size of the process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mnr_bench_demo MNR_BENCH_DEMO=1 \
    .venv/bin/python -m benchmarks.stats_utility
"""

from __future__ import annotations

import os
import resource
import statistics
import threading
import time

from benchmarks.common import setup_django

CROSSINGS = [
    ["exploitation_form"],
    ["sex"],
    ["age_group"],
    ["nationality"],
    ["departement"],
    ["region", "sex"],
    ["exploitation_form", "sex"],
    ["exploitation_form", "minor"],
    ["month"],
    ["quarter", "region"],
    ["referring_sector", "outcome"],
]


def utility(user, years: list[str]) -> dict:
    from stats.cellkey import published
    from stats.reports import SURVEY, report
    from stats.selectors import figures, scope_for, table

    scope = scope_for(user)
    hidden_50 = errors = 0
    relative: list[float] = []
    cells = 0
    for year in years:
        for measure in ("referrals", "cases"):
            for by in CROSSINGS:
                release = table(measure=measure, by=by, period=year, user=user)
                truth = figures(measure=measure, by=by, period=year, filters={}, scope=scope)
                for row in release["rows"]:
                    n, s = truth.get(tuple(row[d] for d in by), (0, 0))
                    assert row["count"] == published(n, s)
                    cells += 1
                    if n >= 50 and row["count"] is None:
                        hidden_50 += 1
                    if n >= 100:
                        relative.append(abs(row["count"] - n) / n)
        survey = report(name="survey", period=year, user=user)
        for key, measure, by, _ in SURVEY:
            truth = figures(measure=measure, by=by, period=year, filters={}, scope=scope)
            if not truth:
                continue
            largest = max(truth, key=lambda k: truth[k][0])
            row = next(
                r for r in survey["tables"][key]["rows"] if tuple(r[d] for d in by) == largest
            )
            if row["count"] is None and truth[largest][0] >= 15:
                errors += 1
    return {
        "cells": cells,
        "hidden_ge_50": hidden_50,
        "cells_ge_100": len(relative),
        "median_rel_error_ge_100": statistics.median(relative) if relative else None,
        "max_rel_error_ge_100": max(relative) if relative else None,
        "largest_hidden": errors,
    }


def memory(user) -> dict:
    from django.test import Client

    from agencies.services import token_issue

    _, key = token_issue(user=user)
    queries = [
        "/api/v1/stats/referrals/?by=nationality,region,minor&period=2025",
        "/api/v1/stats/referrals/?by=nationality,departement,month,step_delivered&period=2031",
        "/api/v1/stats/cases/?by=nationality,region,minor&period=2025",
        "/api/v1/stats/referrals/?by=nationality,departement,month,step_delivered&period=2031",
    ]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    codes: list[int] = []

    def run(url: str) -> None:
        codes.append(
            Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {key}").get(url).status_code
        )

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "codes": sorted(codes),
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb_before": round(before / 1024),
        "peak_rss_mb_after": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(years: list[str] | None = None) -> None:
    from django.conf import settings

    from agencies.models import User

    if os.environ.get("MNR_BENCH_DEMO") == "1":
        from django.core.management import call_command

        settings.MNR_DEMO_MODE = True
        call_command("seed_demo", verbosity=0)
        user = User.objects.get(username="miprof.analyste")
        years = ["2024", "2025", "2026"]
    else:
        user = User.objects.get(username="bench.analyst")
    from stats.services import stats_publish

    started = time.perf_counter()
    publication = stats_publish()
    print(f"publication: {publication.rows} rows in {time.perf_counter() - started:.1f} s")
    print("utility:", utility(user, years or ["2023", "2024", "2025", "2026"]))
    print("4 parallel worst-case requests:", memory(user))


if __name__ == "__main__":
    setup_django()
    main()
