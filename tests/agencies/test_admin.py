"""The platform admin runs agencies, accreditations and memberships in the admin,
through the same services (groups follow memberships)."""

from __future__ import annotations

import pytest
from django.test import Client

from agencies.models import Accreditation, Agency, Membership
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    platform = AgencyFactory(kind="platform", departement_code=None)
    admin = UserFactory(membership_agency=platform, membership_role="admin")
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, admin)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/agencies/agency/?q=Agency&kind__exact=association",
        "/admin/agencies/accreditation/?national__exact=1",
        "/admin/agencies/membership/?role__exact=caseworker&q=user",
        "/admin/agencies/user/?q=user&is_active__exact=1",
        "/admin/agencies/departement/?q=Seine",
    ],
)
def test_admin_lists_with_search_and_filters(admin_client, url):
    AgencyFactory(kind="association")
    assert admin_client.get(url).status_code == 200


def test_admin_creates_agency_through_service(admin_client):
    r = admin_client.post(
        "/admin/agencies/agency/add/",
        {
            "name": "Nouvelle association",
            "kind": "association",
            "sector": "",
            "departement": "13",
            "contact_email": "",
            "active": "on",
            "accreditations-TOTAL_FORMS": "0",
            "accreditations-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert r.status_code == 302, r.content[:2000]
    agency = Agency.objects.get(name="Nouvelle association")
    assert agency.group.name == f"agency:{agency.pk}"
    assert agency.history.first().history_user.membership.role == "admin"


def test_admin_shows_service_errors_as_field_errors(admin_client):
    r = admin_client.post(
        "/admin/agencies/agency/add/",
        {
            "name": "Sans secteur",
            "kind": "frontline",
            "sector": "",
            "departement": "75",
            "accreditations-TOTAL_FORMS": "0",
            "accreditations-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert r.status_code == 200
    assert "sector" in r.context["adminform"].form.errors
    assert not Agency.objects.filter(name="Sans secteur").exists()


def test_admin_membership_keeps_groups_in_step(admin_client):
    asso = AgencyFactory(kind="association")
    user = UserFactory()
    r = admin_client.post(
        "/admin/agencies/membership/add/",
        {"user": user.pk, "agency": asso.pk, "role": "caseworker"},
    )
    assert r.status_code == 302, r.content[:2000]
    assert list(user.groups.values_list("name", flat=True)) == [asso.group.name]
    membership = Membership.objects.get(user=user)
    r = admin_client.post(f"/admin/agencies/membership/{membership.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not user.groups.exists()


def test_admin_refuses_wrong_role_for_kind(admin_client):
    police = AgencyFactory(kind="frontline")
    user = UserFactory()
    r = admin_client.post(
        "/admin/agencies/membership/add/",
        {"user": user.pk, "agency": police.pk, "role": "caseworker"},
    )
    assert r.status_code == 200
    assert not Membership.objects.filter(user=user).exists()


def test_admin_creates_accreditation_through_service(admin_client):
    asso = AgencyFactory(kind="association")
    r = admin_client.post(
        "/admin/agencies/accreditation/add/",
        {
            "association": asso.pk,
            "valid_from": "2026-01-01",
            "valid_until": "2025-01-01",
            "exploitation_forms": ["forced_begging"],
            "publics": ["minors"],
            "departements": ["13"],
            "languages": "fr, ar",
        },
    )
    assert r.status_code == 200  # valid_until before valid_from
    assert "valid_until" in r.context["adminform"].form.errors
    r = admin_client.post(
        "/admin/agencies/accreditation/add/",
        {
            "association": asso.pk,
            "valid_from": "2026-01-01",
            "valid_until": "2027-01-01",
            "exploitation_forms": ["forced_begging"],
            "publics": ["minors"],
            "departements": ["13"],
            "languages": "fr, ar",
        },
    )
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r.content
    acc = Accreditation.objects.get(association=asso)
    assert acc.languages == ["ar", "fr"]
    assert [d.code for d in acc.departements.all()] == ["13"]


def test_non_admin_member_cannot_use_admin():
    asso = AgencyFactory(kind="association")
    user = UserFactory(membership_agency=asso, membership_role="manager")
    client = Client(SERVER_NAME="localhost")
    login_with_second_factor(client, user)
    r = client.get("/admin/agencies/agency/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_admin_needs_the_second_factor():
    platform = AgencyFactory(kind="platform", departement_code=None)
    admin = UserFactory(membership_agency=platform, membership_role="admin")
    client = Client(SERVER_NAME="localhost")
    client.force_login(admin)  # password only
    r = client.get("/admin/agencies/agency/")
    assert r.status_code == 302 and r["Location"] == "/sign-in/two-factor/"
