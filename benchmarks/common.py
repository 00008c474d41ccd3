"""Shared set-up for benchmarks: a fresh PostgreSQL database and Django."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import environ


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database for benchmarks (it is recreated).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key")
    # Benchmark-only keys (random, published here, used nowhere else).
    os.environ.setdefault(
        "MNR_FIELD_ENCRYPTION_KEYS", "6Jpr-yAh7Xx4e_l2bMc4QMYBja3nhPx4wg6RcHCzAV4="
    )
    os.environ.setdefault("MNR_BLIND_INDEX_KEY", "Q1VtbDl0c2JrX2Jsa25kX2tleV8zMl9ieXRlc19fXyE=")
    os.environ.setdefault("MNR_AUDIT_CHAIN_KEY", "n0Ewq0fXKZ0Gf1sQ2m0uHq3mDk9a2yq6cC0wR0yX8k4=")
    os.environ.setdefault("MNR_AUDIT_SIGNING_KEY", "xq8Zb3JxkF1c2m8Lh0pT4wN6vR2yQ9sD5gA7eU1iK3o=")
    os.environ.setdefault(
        "MNR_AUDIT_CHECKPOINT_DIR", str(Path(tempfile.gettempdir()) / "mnr-bench-checkpoints")
    )
    os.environ.setdefault("MNR_THROTTLE_USER", "1000000/min")
    os.environ.setdefault("MNR_THROTTLE_STATS", "1000000/min")
    # The benchmark's client speaks plain HTTP, as behind a TLS-terminating proxy.
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    if os.environ.get("MNR_BENCH_REUSE") != "1":
        _recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _recreate_database(url: str) -> None:
    import psycopg

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def measure(fn: Callable[[int], object], n: int, warmup: int = 10) -> dict[str, float]:
    for i in range(warmup):
        fn(-1 - i)
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "n": n,
        "median_ms": statistics.median(samples),
        "p90_ms": samples[int(0.9 * (n - 1))],
        "max_ms": samples[-1],
    }


def measure_paired(
    fn: Callable[[int], object], n: int, *, switch: Callable[[bool], None], warmup: int = 10
) -> tuple[dict[str, float], dict[str, float]]:
    """The same request with a feature on and off, alternately (on, off, on,
    off…), so that drift on a busy machine (caches, other processes) falls on
    both sides alike; returns the (on, off) summaries."""
    for i in range(warmup):
        switch(i % 2 == 0)
        fn(-1 - i)
    samples: dict[bool, list[float]] = {True: [], False: []}
    for i in range(2 * n):
        on = i % 2 == 0
        switch(on)
        start = time.perf_counter()
        fn(i)
        samples[on].append((time.perf_counter() - start) * 1000)
    switch(True)

    def summary(values: list[float]) -> dict[str, float]:
        values.sort()
        return {
            "n": len(values),
            "median_ms": statistics.median(values),
            "p90_ms": values[int(0.9 * (len(values) - 1))],
            "max_ms": values[-1],
        }

    return summary(samples[True]), summary(samples[False])


def show(name: str, result: dict[str, float], target_ms: float | None = None) -> None:
    verdict = ""
    if target_ms is not None:
        verdict = "  PASS" if result["median_ms"] <= target_ms else "  FAIL"
        verdict += f" (target median ≤ {target_ms} ms)"
    print(
        f"{name}: n={result['n']} median={result['median_ms']:.2f} ms "
        f"p90={result['p90_ms']:.2f} ms max={result['max_ms']:.2f} ms{verdict}"
    )
