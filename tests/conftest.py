"""Shared fixtures.

Tests that need PostgreSQL or Redis use the ``postgres`` / ``redis_url``
fixtures: without DATABASE_URL (PostgreSQL) or REDIS_URL they are skipped, and
with MNR_FAIL_ON_SKIP=1 (CI) any skipped test fails the run.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import AgencyFactory, UserFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the services they need (``-m postgres``, ``-m "not redis"``)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "postgres" in names:
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("MNR_FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"MNR_FAIL_ON_SKIP=1: {len(skipped)} test(s) skipped; CI needs PostgreSQL and Redis.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def postgres(db) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def redis_url() -> str:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://…")
    return settings.REDIS_URL


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the database, migrations' data included: reload
    the départements and regions when a test uses the database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue(
        "transactional_db" if marker and marker.kwargs.get("transaction") else "db"
    )
    from agencies.models import Departement
    from agencies.reference import load_reference_data

    if not Departement.objects.exists():
        load_reference_data()


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Throttling counters live in the cache (Redis in CI): start each test clean.
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient(SERVER_NAME="localhost")


@pytest.fixture
def make_member(db):
    """make_member(kind="association", role="caseworker", agency=None) → User with membership."""

    def make(*, role: str, kind: str | None = None, agency=None, **agency_kwargs):
        if agency is None:
            agency = AgencyFactory(kind=kind or "frontline", **agency_kwargs)
        return UserFactory(membership_agency=agency, membership_role=role)

    return make


@pytest.fixture
def as_user(api_client):
    """as_user(user) → an APIClient authenticated as that user (session)."""

    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login
