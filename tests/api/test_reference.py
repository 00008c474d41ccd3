from __future__ import annotations

import pytest

from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_client):
    user = UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )
    api_client.force_authenticate(user)
    return api_client


def test_departements_are_the_101_with_18_regions(client):
    rows = client.get("/api/v1/reference/departements/").json()
    assert len(rows) == 101
    codes = {r["code"] for r in rows}
    assert {"01", "2A", "2B", "95", "971", "972", "973", "974", "976"} <= codes
    assert "20" not in codes and "69M" not in codes
    assert len({r["region"] for r in rows}) == 18
    by_code = {r["code"]: r for r in rows}
    assert by_code["93"]["region"] == "11"
    assert by_code["2A"]["region_name"] == "Corse"


def test_reference_needs_sign_in(api_client):
    assert api_client.get("/api/v1/reference/departements/").status_code == 401


def test_exploitation_forms_translated_codes_stable(client):
    fr = client.get("/api/v1/reference/exploitation-forms/", HTTP_ACCEPT_LANGUAGE="fr").json()
    en = client.get("/api/v1/reference/exploitation-forms/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (
        [r["code"] for r in fr]
        == [r["code"] for r in en]
        == [
            "sexual_exploitation",
            "labour_exploitation",
            "domestic_servitude",
            "forced_criminality",
            "forced_begging",
            "organ_removal",
            "other",
        ]
    )
    assert en[0]["label"] == "Sexual exploitation"
    assert fr[0]["label"] == "Exploitation sexuelle"
