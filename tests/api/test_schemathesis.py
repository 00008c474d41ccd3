"""Schemathesis over the whole OpenAPI schema, once per role (issue 12, point 8).

Every operation of ``/api/v1/schema/`` is called with generated requests (the
schema's examples; boundary, missing and wrongly typed values of each parameter
and body field, and unexpected methods; then a few generated valid and invalid
requests) and the token of a referrer, a caseworker, an association manager,
the coordination desk, an analyst and the platform admin. Each answer must be no server error, carry a status code the
operation documents, and match the documented content type and body schema.

The dataset is built once for the module, through the API as the application
builds it: agencies of every kind, one member per role, referrals pending,
accepted and escalated, an open and a closed case with steps and notes, and a
pending transfer. Half the examples of an operation address these real objects
(path ids, ETags, people and associations in bodies), the other half whatever
Schemathesis generates. Each call runs in a savepoint that is rolled back, so a
destructive call (revoking the token in use, a withdrawal, a closure) never
changes what the next one sees.

Bounded for CI (PostgreSQL): a few examples per operation and role,
derandomised, no deadline.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from django.test import TestCase
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agencies.models import Departement, User
from agencies.reference import load_reference_data
from agencies.services import token_issue
from cases.models import Case
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, Api, World, body, build_world

MAX_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
ROLES = ["referrer", "caseworker", "manager", "coordination", "analyst", "admin"]


def _openapi() -> dict:
    """The schema exactly as ``/api/v1/schema/`` serves it (JSON)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


SCHEMA = schemathesis.openapi.from_dict(
    _openapi(),
    config=schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"coverage": {"enabled": True}, "stateful": {"enabled": False}},
        }
    ),
)
SCHEMA.app = get_wsgi_application()


@dataclass
class Dataset:
    world: World
    tokens: dict[str, str]
    users: dict[str, User]
    # Real values per path parameter, per role: what that role's examples address.
    path: dict[str, dict[str, str | int]] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)


def _role_users(world: World) -> dict[str, User]:
    return {
        "referrer": world.referrer,
        "caseworker": world.paris_worker,
        "manager": world.paris_manager,
        "coordination": world.coordinator,
        "analyst": world.analyst,
        "admin": world.admin,
    }


def _routing_of(api: Api, user: User, referral: dict) -> dict:
    """The pending routing of ``referral`` in ``user``'s inbox."""
    inbox = api.get(user, "/api/v1/routings/?outcome=pending").json()["results"]
    return next(r for r in inbox if r["referral"] == referral["reference"])


def _build() -> Dataset:
    world = build_world()
    api = Api(TestCase.captureOnCommitCallbacks)

    # An adult's referral accepted by the Paris association: an open case with
    # its plan, one more step and a note.
    accepted = api.submitted(world.referrer, ADULT_BODY)
    routing = _routing_of(api, world.paris_worker, accepted)
    case_ref = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/").json()[
        "reference"
    ]
    step = api.post(
        world.paris_worker,
        f"/api/v1/cases/{case_ref}/steps/",
        {"kind": "lawyer", "note": "Barreau de Paris"},
    ).json()
    api.post(world.paris_worker, f"/api/v1/cases/{case_ref}/notes/", {"text": "Premier entretien."})

    # A second one, closed (reopen).
    grace = api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Grace"}))
    routing = _routing_of(api, world.paris_worker, grace)
    closed_ref = api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/accept/").json()[
        "reference"
    ]
    closed = Case.objects.get(reference=closed_ref)
    api.post(
        world.paris_worker,
        f"/api/v1/cases/{closed_ref}/close/",
        {"reason": "support_completed"},
        HTTP_IF_MATCH=f'"case-{closed.pk}-v{closed.version}"',
    )

    # A minor's referral waiting for the answer of the minors' association.
    api.submitted(world.referrer, MINOR_BODY)
    # A referral pending with the Paris association (accept, decline, withdraw).
    pending = api.submitted(world.referrer, body(ADULT_BODY, person={"given_name": "Mercy"}))
    pending_routing = _routing_of(api, world.paris_worker, pending)

    # Escalated to the coordination desk: only the national association takes
    # organ removal, and it declines.
    escalated = api.submitted(
        world.referrer, body(ADULT_BODY, exploitation_forms=["organ_removal"])
    )
    national_routing = _routing_of(api, world.national_worker, escalated)
    api.post(
        world.national_worker,
        f"/api/v1/routings/{national_routing['id']}/decline/",
        {"reason": "Pas de place."},
    )

    # A case of the national association whose transfer to Paris is pending.
    moving = api.submitted(
        world.referrer,
        body(
            ADULT_BODY,
            exploitation_forms=["labour_exploitation"],
            exploitation_departement="13",
            person={"given_name": "Ada", "current_departement": "13"},
        ),
    )
    national_routing = _routing_of(api, world.national_worker, moving)
    national_ref = api.post(
        world.national_worker, f"/api/v1/routings/{national_routing['id']}/accept/"
    ).json()["reference"]
    transfer = api.post(
        world.national_worker,
        f"/api/v1/cases/{national_ref}/transfer/",
        {"to_association": world.paris.pk, "reason": "Rapprochement familial."},
    ).json()

    users = _role_users(world)
    issued = {role: token_issue(user=user) for role, user in users.items()}
    tokens = {role: key for role, (_token, key) in issued.items()}
    case = Case.objects.get(reference=case_ref)
    association_path = {
        "case": case_ref,
        "step_id": step["id"],
        "routing_id": pending_routing["id"],
        "transfer_id": transfer["id"],
        "referral": accepted["reference"],
    }
    path = {
        "referrer": {"referral": pending["reference"], "case": case_ref},
        "caseworker": association_path,
        "manager": association_path,
        "coordination": {"referral": escalated["reference"], "case": case_ref},
        "analyst": {"case": case_ref, "referral": accepted["reference"]},
        "admin": {"case": case_ref, "referral": accepted["reference"]},
    }
    for role, values in path.items():
        values.setdefault("token_id", issued[role][0].pk)
        values.setdefault("id", world.paris.pk)
        values.setdefault("name", "survey")
    etags = {"case": f'"case-{case.pk}-v{case.version}"', "step": step["etag"]}
    return Dataset(world=world, tokens=tokens, users=users, path=path, etags=etags)


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker) -> Iterator[Dataset]:
    """Built once, inside a transaction rolled back when the module ends; each
    test and each call nests a savepoint in it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    with django_db_blocker.unblock(), transaction.atomic():
        if not Departement.objects.exists():
            load_reference_data()
        data = _build()
        # As Django's test client does for each request (and after it, so not
        # before the build): the WSGI handler must not close the connection
        # holding the test's transaction.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield data
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            transaction.set_rollback(True)


@pytest.fixture
def real_ids() -> Iterator[bool]:
    """Alternates, per test: generated ids, then the dataset's real ones."""
    return itertools.cycle([False, True])


def _use_real_objects(case, data: Dataset, role: str) -> None:
    path = case.operation.path
    values = data.path[role]
    for name in list(case.path_parameters or {}):
        if name == "reference":
            key = "referral" if path.startswith("/api/v1/referrals/") else "case"
            case.path_parameters[name] = values[key]
        elif name in values:
            case.path_parameters[name] = values[name]
    if case.headers and "If-Match" in case.headers:
        kind = "step" if "step_id" in path else "case"
        case.headers["If-Match"] = data.etags[kind]
    if path.startswith("/api/v1/stats/reports/"):
        case.query = {"year": "2025"}
    elif path.startswith("/api/v1/stats/"):
        case.query = {"by": "sex", "period": "2026"}
    if path == "/api/v1/auth/token/" and isinstance(case.body, dict):
        case.body.update(username=data.users[role].username, password=PASSWORD)
    if isinstance(case.body, dict):
        world = data.world
        people = {"assigned_to": world.paris_worker.pk, "owner": world.paris_worker.pk}
        agencies = {"to_association": world.national.pk, "association": world.paris.pk}
        for name, value in {**people, **agencies}.items():
            if name in case.body:
                case.body[name] = value


@pytest.mark.postgres
@pytest.mark.parametrize("role", ROLES)
@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, role, dataset, real_ids, postgres):
    if next(real_ids):
        _use_real_objects(case, dataset, role)
    with transaction.atomic():
        response = case.call(headers={"Authorization": f"Token {dataset.tokens[role]}"})
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("path", ["/api/v1/stats/referrals/", "/api/v1/stats/cases/"])
def test_options_asking_for_csv_is_described_not_a_server_error(path, make_member, as_user):
    # Found by this run: OPTIONS ?format=csv rendered the view's description as a release.
    client = as_user(make_member(kind="coordinator", role="analyst"))
    response = client.options(f"{path}?format=csv")
    assert response.status_code == 200
    assert json.loads(response.content)["name"]
