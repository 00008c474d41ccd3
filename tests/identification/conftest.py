from __future__ import annotations

from dataclasses import dataclass

import pytest

from agencies import services as agency_services
from agencies.models import Agency, Departement, User
from tests.factories import AgencyFactory, UserFactory
from tests.referral.conftest import ADULT_BODY, MINOR_BODY, api, body, world  # noqa: F401


@dataclass
class Units:
    national: Agency
    idf: Agency
    occitanie: Agency
    idf_dm: User
    idf_dm2: User
    idf_child_dm: User
    occ_dm: User
    national_dm: User


def decision_maker(unit: Agency, *, children: bool = False, **kw) -> User:
    user = UserFactory(membership_agency=unit, membership_role="decision_maker", **kw)
    if children:
        agency_services.membership_set(
            actor=None, user=user, agency=unit, role="decision_maker", children_trained=True
        )
    return user


@pytest.fixture
def units(world) -> Units:  # noqa: F811
    assert Departement.objects.filter(code="31").exists()
    national = AgencyFactory(kind="identification_unit", departement_code=None, name="U National")
    idf = AgencyFactory(kind="identification_unit", departement_code="75", name="U IDF")
    occitanie = AgencyFactory(kind="identification_unit", departement_code="31", name="U Occ")
    return Units(
        national=national,
        idf=idf,
        occitanie=occitanie,
        idf_dm=decision_maker(idf),
        idf_dm2=decision_maker(idf),
        idf_child_dm=decision_maker(idf, children=True),
        occ_dm=decision_maker(occitanie, children=True),
        national_dm=decision_maker(national, children=True),
    )


def file_url(reference: str, tail: str = "") -> str:
    return f"/api/v1/identifications/{reference}/{tail}"


__all__ = ["ADULT_BODY", "MINOR_BODY", "body", "decision_maker", "file_url"]
