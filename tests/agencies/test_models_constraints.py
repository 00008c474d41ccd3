"""Database constraints on agencies, accreditations and memberships.

Each test writes past the services (straight SQL-level ORM writes) to show the
database itself refuses the row."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from agencies import services
from agencies.models import Accreditation, Agency, Membership
from common.errors import ValidationFailed
from tests.factories import AgencyFactory, UserFactory, accreditation

pytestmark = pytest.mark.django_db


def test_valid_until_before_valid_from_refused_by_database():
    asso = AgencyFactory(kind="association")
    with pytest.raises(IntegrityError), transaction.atomic():
        Accreditation.objects.create(
            association=asso,
            valid_from=date(2026, 1, 1),
            valid_until=date(2025, 12, 31),
            exploitation_forms=["other"],
            publics=["minors"],
            national=True,
        )


def test_valid_until_equal_valid_from_is_allowed():
    asso = AgencyFactory(kind="association")
    accreditation(asso, valid_from=date(2026, 1, 1), valid_until=date(2026, 1, 1))
    assert asso.accreditations.filter(valid_until=date(2026, 1, 1)).count() == 1


def test_accreditation_kind_copy_must_be_association():
    asso = AgencyFactory(kind="association")
    with pytest.raises(IntegrityError), transaction.atomic():
        Accreditation.objects.create(
            association=asso,
            association_kind="frontline",
            valid_from=date(2026, 1, 1),
            valid_until=date(2027, 1, 1),
            national=True,
        )


def test_accreditation_of_a_non_association_refused_by_database(postgres):
    police = AgencyFactory(kind="frontline")
    with pytest.raises(IntegrityError), transaction.atomic():
        Accreditation.objects.create(
            association=police,
            valid_from=date(2026, 1, 1),
            valid_until=date(2027, 1, 1),
            national=True,
        )


def test_agency_kind_cannot_change_under_its_accreditation(postgres):
    asso = AgencyFactory(kind="association")
    accreditation(asso)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=asso.pk).update(kind="coordinator")


def test_membership_role_must_fit_agency_kind_in_database(postgres):
    police = AgencyFactory(kind="frontline")
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=user, agency=police, agency_kind="frontline", role="caseworker"
        )
    # Lying about the agency's kind is caught by the composite key.
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=user, agency=police, agency_kind="association", role="caseworker"
        )


def test_membership_role_kind_check_on_any_database():
    police = AgencyFactory(kind="frontline")
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, agency=police, agency_kind="frontline", role="admin")


def test_one_membership_per_user():
    police = AgencyFactory(kind="frontline")
    school = AgencyFactory(kind="frontline")
    user = UserFactory(membership_agency=police, membership_role="referrer")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=user, agency=school, agency_kind="frontline", role="referrer"
        )


def test_frontline_agency_needs_a_sector_in_database():
    agency = AgencyFactory(kind="frontline")
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=agency.pk).update(sector="")


def test_association_has_no_sector_in_database():
    asso = AgencyFactory(kind="association")
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=asso.pk).update(sector="police")


def test_crip_needs_a_departement_in_database():
    crip = AgencyFactory(kind="child_protection", departement_code="93")
    with pytest.raises(IntegrityError), transaction.atomic():
        Agency.objects.filter(pk=crip.pk).update(departement=None)


def test_capacity_must_be_positive_in_database():
    asso = AgencyFactory(kind="association")
    acc = accreditation(asso, capacity=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Accreditation.objects.filter(pk=acc.pk).update(capacity=0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_until": date(2023, 1, 1)}, "valid_until"),
        ({"exploitation_forms": []}, "exploitation_forms"),
        ({"exploitation_forms": ["pickpocketing"]}, "exploitation_forms"),
        ({"publics": []}, "publics"),
        ({"publics": ["everyone"]}, "publics"),
        ({"national": False, "departements": []}, "departements"),
        ({"capacity": 0}, "capacity"),
        ({"languages": ["french"]}, "languages"),
    ],
)
def test_accreditation_service_names_the_wrong_field(overrides, field):
    asso = AgencyFactory(kind="association")
    with pytest.raises(ValidationFailed) as err:
        accreditation(asso, **overrides)
    assert field in err.value.fields
    assert not Accreditation.objects.exists()


def test_accreditation_service_refuses_non_association():
    police = AgencyFactory(kind="frontline")
    with pytest.raises(ValidationFailed) as err:
        accreditation(police)
    assert "association" in err.value.fields


def test_national_accreditation_lists_no_departements():
    from agencies.models import Departement

    asso = AgencyFactory(kind="association")
    with pytest.raises(ValidationFailed) as err:
        accreditation(asso, national=True, departements=[Departement.objects.get(code="75")])
    assert "departements" in err.value.fields


def test_accreditation_update_revalidates_and_records_history():
    asso = AgencyFactory(kind="association")
    acc = accreditation(asso)
    admin = UserFactory()
    with pytest.raises(ValidationFailed):
        services.accreditation_update(actor=admin, accreditation=acc, capacity=0)
    services.accreditation_update(actor=admin, accreditation=acc, capacity=12)
    acc.refresh_from_db()
    assert acc.capacity == 12
    assert acc.history.first().history_user == admin


@pytest.mark.parametrize(
    ("kind", "sector", "departement", "field"),
    [
        ("frontline", "", "75", "sector"),
        ("association", "police", "75", "sector"),
        ("child_protection", "", None, "departement"),
        ("spaceship", "", None, "kind"),
    ],
)
def test_agency_service_validation(kind, sector, departement, field):
    with pytest.raises(ValidationFailed) as err:
        AgencyFactory(kind=kind, sector=sector, departement_code=departement)
    assert field in err.value.fields


def test_agency_kind_is_fixed_once_it_has_members():
    police = AgencyFactory(kind="frontline")
    UserFactory(membership_agency=police, membership_role="referrer")
    with pytest.raises(ValidationFailed) as err:
        services.agency_update(actor=None, agency=police, kind="association", sector="")
    assert "kind" in err.value.fields
