"""A small world for referral tests: the demo's shape, built through services."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import date

import pytest
from rest_framework.test import APIClient

from agencies.models import Agency, Departement, User
from tests.factories import AgencyFactory, UserFactory, accreditation

IDF = ["75", "77", "78", "91", "92", "93", "94", "95"]
ALL_FORMS = [
    "sexual_exploitation",
    "labour_exploitation",
    "domestic_servitude",
    "forced_criminality",
    "forced_begging",
    "organ_removal",
    "other",
]

ADULT_BODY = {
    "immediate_danger": False,
    "exploitation_forms": ["sexual_exploitation"],
    "exploitation_departement": "75",
    "indicators": ["coercion_at_destination.debt_bondage"],
    "needs": ["shelter", "medical"],
    "narrative": "Rencontrée lors d'un contrôle routier.",
    "consent_to_referral": True,
    "person": {
        "given_name": "Blessing",
        "family_name": "Okafor",
        "date_of_birth": "1999-04-02",
        "sex": "female",
        "nationality": "NG",
        "languages": ["en"],
        "phone": "+33 6 12 34 56 78",
        "current_departement": "93",
    },
}

MINOR_BODY = {
    "exploitation_forms": ["forced_criminality"],
    "exploitation_departement": "93",
    "consent_to_referral": False,
    "indicators": ["child_specific.group_begging_or_stealing_supervised_by_adults"],
    "narrative": "Interpellé avec un groupe encadré par des adultes.",
    "person": {
        "given_name": "Ionut",
        "family_name": "Stanescu",
        "estimated_age": 14,
        "declared_minor": True,
        "sex": "male",
        "nationality": "RO",
        "current_departement": "93",
    },
}


def body(base: dict, **changes) -> dict:
    data = copy.deepcopy(base)
    person = changes.pop("person", None)
    data.update(changes)
    if isinstance(person, dict):
        data["person"].update(person)
    elif person is not None:
        data["person"] = person
    return data


@dataclass
class World:
    police: Agency
    school: Agency
    paris: Agency
    national: Agency
    minors: Agency
    crip93: Agency
    desk: Agency
    miprof: Agency
    platform: Agency
    referrer: User
    other_referrer: User
    crip_referrer: User
    paris_worker: User
    paris_manager: User
    national_worker: User
    minors_worker: User
    coordinator: User
    analyst: User
    admin: User


@pytest.fixture
def world(db) -> World:
    return build_world()


def build_world() -> World:
    """The agencies and one member per role (also built once per module, e.g. by
    the Schemathesis run)."""
    deps = {d.code: d for d in Departement.objects.filter(code__in=IDF)}
    police = AgencyFactory(kind="frontline", departement_code="75")
    school = AgencyFactory(kind="frontline", sector="education", departement_code="93")
    paris = AgencyFactory(kind="association", departement_code="75", name="A Paris")
    accreditation(
        paris,
        exploitation_forms=["sexual_exploitation", "labour_exploitation", "domestic_servitude"],
        publics=["adult_women", "adult_men"],
        national=False,
        departements=list(deps.values()),
        capacity=60,
    )
    national = AgencyFactory(kind="association", departement_code="06", name="B National")
    accreditation(
        national,
        exploitation_forms=ALL_FORMS,
        publics=["adult_women", "adult_men"],
        national=True,
        capacity=80,
        secure_relocation=True,
    )
    minors = AgencyFactory(kind="association", departement_code="13", name="C Mineurs")
    accreditation(minors, exploitation_forms=ALL_FORMS, publics=["minors"], national=True)
    crip93 = AgencyFactory(
        kind="child_protection", departement_code="93", contact_email="crip93@example.org"
    )
    desk = AgencyFactory(kind="coordinator", departement_code=None)
    miprof = AgencyFactory(kind="coordinator", departement_code=None)
    platform = AgencyFactory(kind="platform", departement_code=None)

    def member(agency, role, **kw):
        return UserFactory(membership_agency=agency, membership_role=role, **kw)

    return World(
        police=police,
        school=school,
        paris=paris,
        national=national,
        minors=minors,
        crip93=crip93,
        desk=desk,
        miprof=miprof,
        platform=platform,
        referrer=member(police, "referrer", email="referent@example.org"),
        other_referrer=member(school, "referrer"),
        crip_referrer=member(crip93, "referrer"),
        paris_worker=member(paris, "caseworker", email="paris@example.org"),
        paris_manager=member(paris, "manager"),
        national_worker=member(national, "caseworker"),
        minors_worker=member(minors, "caseworker"),
        coordinator=member(desk, "coordinator", email="desk@example.org"),
        analyst=member(miprof, "analyst"),
        admin=member(platform, "admin"),
    )


class Api:
    """An API client per user, running on-commit work (routing, notifications)
    as a real commit would."""

    def __init__(self, capture) -> None:
        self.capture = capture

    def as_(self, user: User) -> APIClient:
        client = APIClient(SERVER_NAME="localhost")
        client.force_authenticate(user)
        return client

    def post(self, user: User, url: str, data: dict | None = None, **headers):
        with self.capture(execute=True):
            return self.as_(user).post(
                url, json.dumps(data or {}), content_type="application/json", **headers
            )

    def get(self, user: User, url: str, **headers):
        return self.as_(user).get(url, **headers)

    def submit(self, user: User, data: dict, **headers):
        return self.post(user, "/api/v1/referrals/", data, **headers)

    def submitted(self, user: User, data: dict) -> dict:
        """Submit, let the on-commit routing run, and read the referral back."""
        r = self.submit(user, data)
        assert r.status_code == 201, r.content
        return self.get(user, f"/api/v1/referrals/{r.json()['reference']}/").json()

    def pending_routing(self, user: User) -> dict:
        results = self.get(user, "/api/v1/routings/?outcome=pending").json()["results"]
        assert len(results) == 1, results
        return results[0]


@pytest.fixture
def api(django_capture_on_commit_callbacks) -> Api:
    return Api(django_capture_on_commit_callbacks)


TODAY = date.today()
