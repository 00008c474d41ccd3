"""Bad input answers 4xx with a clear message and writes nothing (issue 12, point 7).

Each case below once answered 500. Requests go through HTTP with a real token of
the role concerned (or anonymously where the attack needs no account).
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from agencies.models import User
from agencies.services import token_issue
from audit.models import AccessAction, AccessLog
from cases.models import Case
from referral.models import Referral
from tests.cases.conftest import open_case
from tests.factories import UserFactory
from tests.referral.conftest import ADULT_BODY, api, body, world

__all__ = ["api", "open_case", "world"]

pytestmark = pytest.mark.django_db

BIGINT_MAX = 2**63 - 1


def token_client(user: User) -> APIClient:
    """An API client that authenticates as ``user`` with a real token."""
    _token, key = token_issue(user=user)
    client = APIClient(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def anonymous() -> APIClient:
    return APIClient(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


def written() -> tuple[int, int, int]:
    return Referral.objects.count(), Case.objects.count(), AccessLog.objects.count()


# --- body too large: 413 ---------------------------------------------------------------


def test_a_body_over_the_upload_limit_is_413_even_anonymous_on_sign_in():
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    before = written()
    r = anonymous().post(
        "/api/v1/auth/token/",
        json.dumps({"username": "someone", "password": padding}),
        content_type="application/json",
    )
    error = error_of(r, 413)
    assert error["code"] == "request_too_large"
    assert "2.5 MB" in error["message"].replace("\xa0", " ")
    assert written() == before  # not even a failed sign-in entry


def test_a_referral_over_the_upload_limit_is_413_and_nothing_is_written(world):
    data = body(ADULT_BODY, narrative="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    client = token_client(world.referrer)
    before = written()
    r = client.post("/api/v1/referrals/", json.dumps(data), content_type="application/json")
    assert error_of(r, 413)["code"] == "request_too_large"
    assert written() == before


# --- JSON nested too deep: 400 -----------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 1_000, 100_000])
def test_json_nested_too_deep_is_400_anonymous(depth):
    nested = "[" * depth + "]" * depth
    r = anonymous().post(
        "/api/v1/auth/token/",
        f'{{"username": {nested}, "password": "x"}}',
        content_type="application/json",
    )
    error = error_of(r, 400)
    assert error["code"] == "parse_error"
    assert "nested" in error["message"]


def test_json_nested_too_deep_in_an_object_is_400(world):
    nested = '{"a": ' * 1_000 + "1" + "}" * 1_000
    client = token_client(world.referrer)
    before = written()
    r = client.post("/api/v1/referrals/", nested, content_type="application/json")
    assert error_of(r, 400)["code"] == "parse_error"
    assert written() == before


def test_brackets_inside_strings_do_not_count_as_nesting(world):
    data = body(ADULT_BODY, narrative="[" * 5_000 + "{" * 5_000)
    r = token_client(world.referrer).post(
        "/api/v1/referrals/", json.dumps(data), content_type="application/json"
    )
    assert r.status_code == 201, r.content


# --- If-Match ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["²", "١", "1" * 40, "-1", "+1", " 1", ""])
def test_a_malformed_if_match_version_is_412_and_nothing_changes(world, open_case, version):
    case_version = open_case.version
    r = token_client(world.paris_manager).patch(
        f"/api/v1/cases/{open_case.reference}/",
        {"assigned_to": None},
        format="json",
        HTTP_IF_MATCH=f'"case-{open_case.pk}-v{version}"',
    )
    assert error_of(r, 412)["code"] == "precondition_failed"
    open_case.refresh_from_db()
    assert open_case.version == case_version
    assert open_case.assigned_to_id is not None


# --- integers in filters ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "١٢", str(BIGINT_MAX + 1), str(2**64), "1" * 400, "-3"])
def test_a_case_filter_assigned_to_that_is_no_user_id_is_400_with_the_field(
    world, open_case, value
):
    r = token_client(world.paris_worker).get("/api/v1/cases/", {"assigned_to": value})
    error = error_of(r, 400)
    assert list(error["fields"]) == ["assigned_to"]


def test_the_largest_user_id_is_a_valid_filter(world, open_case):
    client = token_client(world.paris_worker)
    assert client.get("/api/v1/cases/", {"assigned_to": str(BIGINT_MAX)}).json()["count"] == 0
    mine = client.get("/api/v1/cases/", {"assigned_to": str(world.paris_worker.pk)}).json()
    assert mine["count"] == 1


@pytest.mark.parametrize("value", ["²", str(BIGINT_MAX + 1), str(2**64), "1.5", "1e3"])
def test_an_access_log_agency_that_is_no_id_is_400_with_the_field(world, value):
    before = AccessLog.objects.filter(action=AccessAction.AUDIT_VIEW).count()
    r = token_client(world.admin).get("/api/v1/audit/access-log/", {"agency": value})
    error = error_of(r, 400)
    assert list(error["fields"]) == ["agency"]
    # A refused query is not recorded as a reading of the log.
    assert AccessLog.objects.filter(action=AccessAction.AUDIT_VIEW).count() == before


HUGE = str(2**64)


@pytest.mark.parametrize(
    ("method", "who", "url"),
    [
        ("get", "paris_worker", f"/api/v1/routings/{HUGE}/"),
        ("post", "paris_worker", f"/api/v1/routings/{HUGE}/accept/"),
        ("post", "paris_worker", f"/api/v1/routings/{HUGE}/decline/"),
        ("post", "paris_worker", f"/api/v1/transfers/{HUGE}/accept/"),
        ("post", "paris_worker", f"/api/v1/transfers/{HUGE}/reject/"),
        ("get", "referrer", f"/api/v1/agencies/{HUGE}/"),
        ("delete", "referrer", f"/api/v1/auth/tokens/{HUGE}/"),
        ("get", "paris_worker", "/api/v1/cases/{ref}/steps/" + HUGE + "/"),
        ("patch", "paris_worker", "/api/v1/cases/{ref}/steps/" + HUGE + "/"),
    ],
)
def test_an_id_past_64_bits_in_a_path_is_not_found(world, open_case, method, who, url):
    client = token_client(getattr(world, who))
    before = written()
    r = getattr(client, method)(url.format(ref=open_case.reference), {}, format="json")
    error_of(r, 404)
    assert written()[:2] == before[:2]


@pytest.mark.parametrize("value", [2**63, 2**64, 10**40, 0, -1])
def test_an_id_past_64_bits_in_a_body_is_400_with_the_field(world, open_case, value):
    worker = token_client(world.paris_worker)
    ref = open_case.reference
    tag = f'"case-{open_case.pk}-v{open_case.version}"'
    calls = [
        ("patch", f"/api/v1/cases/{ref}/", {"assigned_to": value}, "assigned_to"),
        ("post", f"/api/v1/cases/{ref}/steps/", {"kind": "lawyer", "owner": value}, "owner"),
        (
            "post",
            f"/api/v1/cases/{ref}/transfer/",
            {"to_association": value, "reason": "Relocation."},
            "to_association",
        ),
    ]
    before = written()
    steps_and_transfers = (open_case.steps.count(), open_case.transfers.count())
    for method, url, data, field in calls:
        r = getattr(worker, method)(url, data, format="json", HTTP_IF_MATCH=tag)
        assert list(error_of(r, 400)["fields"]) == [field], (url, r.content)
    assert written()[:2] == before[:2]
    assert (open_case.steps.count(), open_case.transfers.count()) == steps_and_transfers


@pytest.mark.parametrize("value", [2**63, 2**64, 10**40])
def test_an_association_id_past_64_bits_answers_as_a_missing_one(api, world, value):
    referral = api.submitted(world.referrer, ADULT_BODY)
    url = f"/api/v1/referrals/{referral['reference']}/assign/"
    desk = token_client(world.coordinator)
    missing = desk.post(url, {"association": 999_999_999}, format="json")
    huge = desk.post(url, {"association": value}, format="json")
    assert 400 <= missing.status_code < 500
    assert (huge.status_code, huge.json()) == (missing.status_code, missing.json())


# --- NUL bytes (PostgreSQL text cannot hold them) ---------------------------------------------


API_REFERENCE_URLS = [
    ("get", "referrer", "/api/v1/referrals/{ref}/"),
    ("post", "referrer", "/api/v1/referrals/{ref}/withdraw/"),
    ("post", "coordinator", "/api/v1/referrals/{ref}/assign/"),
    ("get", "paris_worker", "/api/v1/cases/{ref}/"),
    ("patch", "paris_worker", "/api/v1/cases/{ref}/"),
    ("get", "paris_worker", "/api/v1/cases/{ref}/steps/"),
    ("post", "paris_worker", "/api/v1/cases/{ref}/steps/"),
    ("get", "paris_worker", "/api/v1/cases/{ref}/steps/1/"),
    ("get", "paris_worker", "/api/v1/cases/{ref}/notes/"),
    ("post", "paris_worker", "/api/v1/cases/{ref}/notes/"),
    ("get", "paris_worker", "/api/v1/cases/{ref}/timeline/"),
    ("get", "paris_manager", "/api/v1/cases/{ref}/export/"),
    ("post", "paris_worker", "/api/v1/cases/{ref}/close/"),
    ("post", "paris_worker", "/api/v1/cases/{ref}/reopen/"),
    ("post", "paris_worker", "/api/v1/cases/{ref}/transfer/"),
    ("get", "analyst", "/api/v1/stats/reports/{ref}/"),
]


@pytest.mark.parametrize("ref", ["%00", "MNR-2026-%00", "%00MNR-2026-000001"])
@pytest.mark.parametrize(("method", "who", "url"), API_REFERENCE_URLS)
def test_a_nul_byte_in_a_path_reference_is_not_found(postgres, world, method, who, url, ref):
    client = token_client(getattr(world, who))
    before = written()
    r = getattr(client, method)(url.format(ref=ref), {}, format="json")
    assert r.status_code in (400, 404), r.content[:500]
    error_of(r, r.status_code)
    assert written() == before


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "tab\there", "clé"])
def test_an_idempotency_key_that_is_not_printable_ascii_is_400_with_the_header(
    postgres, world, key
):
    client = token_client(world.referrer)
    before = written()
    r = client.post(
        "/api/v1/referrals/",
        json.dumps(ADULT_BODY),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert list(error_of(r, 400)["fields"]) == ["Idempotency-Key"]
    assert written() == before


ACCESS_LOG_PARAMETERS = [
    "actor",
    "agency",
    "action",
    "target_type",
    "target_id",
    "created_after",
    "created_before",
]


@pytest.mark.parametrize("name", ACCESS_LOG_PARAMETERS)
@pytest.mark.parametrize("who", ["admin", "paris_manager"])
def test_a_nul_byte_in_an_access_log_parameter_is_400_with_the_field(postgres, world, who, name):
    client = token_client(getattr(world, who))
    before = AccessLog.objects.count()
    r = client.get("/api/v1/audit/access-log/", {name: "a\x00b"})
    error = error_of(r, 400)
    assert list(error["fields"]) == [name]
    assert AccessLog.objects.count() == before


def test_unknown_access_log_parameters_are_neither_an_error_nor_logged(postgres, world):
    r = token_client(world.admin).get(
        "/api/v1/audit/access-log/", {"actor": world.referrer.username, "x\x00": "\x00"}
    )
    assert r.status_code == 200, r.content[:500]
    entry = AccessLog.objects.filter(action=AccessAction.AUDIT_VIEW).latest("pk")
    assert entry.detail == {"actor": world.referrer.username}


def test_the_access_log_still_filters_and_logs_what_was_asked(world):
    client = token_client(world.admin)
    agency = world.police.pk
    r = client.get("/api/v1/audit/access-log/", {"agency": str(agency), "action": "audit.view"})
    assert r.status_code == 200, r.content[:500]
    assert all(row["agency"] == agency for row in r.json()["results"])
    entry = AccessLog.objects.filter(action=AccessAction.AUDIT_VIEW).latest("pk")
    assert entry.detail == {"agency": str(agency), "action": "audit.view"}


# --- lists of people without an agency -------------------------------------------------------


@pytest.mark.parametrize("direction", ["in", "out"])
def test_transfers_of_a_user_without_membership_are_an_empty_list(db, direction):
    r = token_client(UserFactory()).get("/api/v1/transfers/", {"direction": direction})
    assert r.status_code == 200, r.content[:500]
    assert r.json()["count"] == 0


@pytest.mark.parametrize("direction", ["in", "out"])
def test_transfers_of_a_referrer_are_an_empty_list(world, direction):
    r = token_client(world.referrer).get("/api/v1/transfers/", {"direction": direction})
    assert r.status_code == 200, r.content[:500]
    assert r.json()["count"] == 0


# --- list-valued fields have length limits ---------------------------------------------------


@pytest.mark.parametrize(
    ("field", "item", "count"),
    [
        ("needs", "shelter", 200_000),
        ("indicators", "coercion_at_destination.debt_bondage", 50_000),
        ("exploitation_forms", "sexual_exploitation", 50_000),
    ],
)
def test_a_huge_list_is_400_with_the_field_and_nothing_is_written(world, field, item, count):
    data = body(ADULT_BODY, **{field: [item] * count})
    assert len(json.dumps(data)) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = written()
    r = token_client(world.referrer).post(
        "/api/v1/referrals/", json.dumps(data), content_type="application/json"
    )
    error = error_of(r, 400)
    assert list(error["fields"]) == [field]
    assert written()[:2] == before[:2]


def test_a_huge_list_of_languages_is_400_with_the_field(world):
    data = body(ADULT_BODY, person={"languages": ["en"] * 200_000})
    r = token_client(world.referrer).post(
        "/api/v1/referrals/", json.dumps(data), content_type="application/json"
    )
    error = error_of(r, 400)
    assert error["fields"] == {"person": {"languages": error["fields"]["person"]["languages"]}}


def test_every_list_in_a_request_body_has_a_maximum_length():
    """Every array an input serializer accepts, at any depth, says how long it may
    be (maxItems in the schema comes from ListField/ListSerializer max_length)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    unbounded = []

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "array" and "maxItems" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    requests = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
    }
    assert requests  # COMPONENT_SPLIT_REQUEST names input components *Request
    for name, component in requests.items():
        walk(component, name)
    assert not unbounded, unbounded
