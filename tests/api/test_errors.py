"""One error shape; bad input is a 4xx, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_error_shape(body: dict, status: int) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "fields"}
    assert body["error"]["status"] == status


def test_unknown_api_path_is_json_404(api_client):
    r = api_client.get("/api/v1/no-such-thing/")
    assert r.status_code == 404
    assert_error_shape(r.json(), 404)


def test_malformed_json_is_400(api_client):
    r = api_client.post("/api/v1/auth/token/", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert_error_shape(r.json(), 400)
    assert r.json()["error"]["code"] == "parse_error"


def test_wrong_content_type_is_415(api_client):
    r = api_client.post("/api/v1/auth/token/", data="username=x", content_type="text/plain")
    assert r.status_code == 415
    assert_error_shape(r.json(), 415)


def test_json_that_is_not_an_object_is_400(api_client):
    r = api_client.post("/api/v1/auth/token/", data="[1, 2]", content_type="application/json")
    assert r.status_code == 400
    assert_error_shape(r.json(), 400)


def test_method_not_allowed_has_the_same_shape(api_client):
    user = UserFactory(
        membership_agency=AgencyFactory(kind="frontline"), membership_role="referrer"
    )
    api_client.force_authenticate(user)
    r = api_client.post("/api/v1/agencies/", {}, format="json")
    assert r.status_code == 405
    assert_error_shape(r.json(), 405)


def test_messages_in_french_and_english(api_client):
    fr = api_client.get("/api/v1/agencies/", HTTP_ACCEPT_LANGUAGE="fr").json()
    en = api_client.get("/api/v1/agencies/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["error"]["message"] == "Authentication credentials were not provided."
    assert fr["error"]["message"] != en["error"]["message"]
    bad = api_client.post(
        "/api/v1/auth/token/",
        {"username": "x", "password": "y"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    ).json()
    assert bad["error"]["message"] == "Identifiant ou mot de passe incorrect."
