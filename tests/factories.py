"""factory_boy factories. They call the services, so tests build data the way
the application does (groups, constraints, history)."""

from __future__ import annotations

from datetime import date

import factory

from agencies import services
from agencies.models import Accreditation, Agency, Departement, User


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n:05d}")
    kind = "frontline"
    departement_code = "75"
    contact_email = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        code = kwargs.pop("departement_code")
        kind = kwargs["kind"]
        kwargs.setdefault("sector", "police" if kind == "frontline" else "")
        departement = Departement.objects.get(code=code) if code else None
        return services.agency_create(actor=None, departement=departement, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:05d}")
    password = "a-long-test-password"
    membership_agency = None
    membership_role = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        agency = kwargs.pop("membership_agency")
        role = kwargs.pop("membership_role")
        password = kwargs.pop("password")
        if agency is None:
            user = model_class(**kwargs)
            user.set_password(password)
            user.save()
            return user
        return services.user_create(
            actor=None, password=password, agency=agency, role=role, **kwargs
        )


def accreditation(association: Agency, **overrides) -> Accreditation:
    data = {
        "valid_from": date(2024, 1, 1),
        "valid_until": date(2028, 12, 31),
        "exploitation_forms": ["sexual_exploitation"],
        "publics": ["adult_women"],
        "national": True,
        "departements": [],
        "capacity": None,
        "languages": ["fr"],
        "secure_relocation": False,
    }
    data.update(overrides)
    return services.accreditation_create(actor=None, association=association, **data)
