"""Agency directory: signed-in users only, no personal data, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Departement
from tests.factories import AgencyFactory, UserFactory, accreditation

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer():
    return UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )


def make_associations(n: int) -> None:
    paris, lyon = Departement.objects.filter(code__in=["75", "69"])
    for _ in range(n):
        asso = AgencyFactory(kind="association", contact_email="someone@example.org")
        accreditation(asso, national=False, departements=[paris, lyon])
        accreditation(asso, national=True, valid_from=asso.created_at.date())


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_anonymous_refused(api_client):
    r = api_client.get("/api/v1/agencies/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_directory_lists_agencies_with_accreditations_and_no_personal_data(api_client, referrer):
    make_associations(1)
    api_client.force_authenticate(referrer)
    body = api_client.get("/api/v1/agencies/?kind=association").json()
    assert body["count"] == 1
    agency = body["results"][0]
    assert set(agency) == {
        "id",
        "name",
        "kind",
        "sector",
        "departement",
        "region",
        "active",
        "accreditations",
    }
    assert len(agency["accreditations"]) == 2
    assert sorted(agency["accreditations"][0]["departements"]) == ["69", "75"]
    text = str(body)
    assert "someone@example.org" not in text
    assert referrer.username not in text


def test_query_count_is_constant_in_number_of_agencies(
    api_client, referrer, django_assert_max_num_queries
):
    api_client.force_authenticate(referrer)
    make_associations(2)
    few = count_queries(api_client, "/api/v1/agencies/")
    make_associations(30)
    many = count_queries(api_client, "/api/v1/agencies/?page_size=200")
    assert few == many
    with django_assert_max_num_queries(6):
        api_client.get("/api/v1/agencies/")


def test_filters_and_bad_filter(api_client, referrer):
    make_associations(1)
    api_client.force_authenticate(referrer)
    assert api_client.get("/api/v1/agencies/?departement=75").json()["count"] == 2
    r = api_client.get("/api/v1/agencies/?kind=spaceship")
    assert r.status_code == 400
    assert "kind" in r.json()["error"]["fields"]


def test_detail_and_missing_agency(api_client, referrer):
    api_client.force_authenticate(referrer)
    agency = referrer.membership.agency
    assert api_client.get(f"/api/v1/agencies/{agency.pk}/").json()["name"] == agency.name
    r = api_client.get("/api/v1/agencies/999999/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_expired_accreditations_are_not_listed(api_client, referrer):
    from datetime import date

    asso = AgencyFactory(kind="association")
    accreditation(asso, valid_from=date(2020, 1, 1), valid_until=date(2021, 1, 1))
    api_client.force_authenticate(referrer)
    body = api_client.get(f"/api/v1/agencies/{asso.pk}/").json()
    assert body["accreditations"] == []
