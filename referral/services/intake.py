"""What a referral says, and every rule on it before anything is written.

The input classes both adapters fill (API serializer, web wizard), and
``validate``: field by field, with the presumption of minority, the anonymous
notification without an adult's consent (no identity, no narrative) and the
indicator list that fits the person's age. No writes; one query per
département code given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Departement
from common import geo
from common.choices import ExploitationForm
from common.errors import ValidationFailed

from .. import indicators
from ..models import Need, Sex

IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "phone")
DOB_AGE_TOLERANCE = 3  # years between a date of birth and an estimated age
MIN_DATE_OF_BIRTH = date(1900, 1, 1)

# --- input ------------------------------------------------------------------------


@dataclass
class PersonInput:
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    estimated_age: int | None = None
    declared_minor: bool = False
    sex: str = Sex.UNKNOWN
    nationality: str = ""
    languages: list[str] = field(default_factory=list)
    phone: str = ""
    current_departement: str | None = None


@dataclass
class ReferralInput:
    exploitation_forms: list[str]
    consent_to_referral: bool
    person: PersonInput
    immediate_danger: bool = False
    exploitation_other_detail: str = ""
    exploitation_departement: str | None = None
    exploitation_country: str = ""
    indicators: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    narrative: str = ""


# --- helpers ----------------------------------------------------------------------


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate(data: ReferralInput, *, today: date) -> dict[str, Any]:
    """Every rule on the input (docs/domain.md, "A referral is filed"); returns derived facts or raises
    ValidationFailed naming each wrong field (nested under "person")."""
    errors: dict[str, Any] = {}
    person_errors: dict[str, list] = {}
    p = data.person

    forms = list(dict.fromkeys(data.exploitation_forms))
    if not forms:
        errors["exploitation_forms"] = [_("Choose at least one form of exploitation.")]
    elif set(forms) - set(ExploitationForm.values):
        errors["exploitation_forms"] = [_("Unknown form of exploitation.")]
    if ExploitationForm.OTHER in forms and not data.exploitation_other_detail.strip():
        errors["exploitation_other_detail"] = [_("Say in a few words what the other form is.")]

    if data.exploitation_departement and data.exploitation_country:
        errors["exploitation_country"] = [
            _("Give either the département of exploitation or the country abroad, not both.")
        ]
    elif not data.exploitation_departement and not data.exploitation_country:
        errors["exploitation_departement"] = [
            _("Give the département of exploitation, or the country if it was abroad.")
        ]
    elif (
        data.exploitation_departement
        and not Departement.objects.filter(code=data.exploitation_departement).exists()
    ):
        errors["exploitation_departement"] = [_("Unknown département code.")]
    elif data.exploitation_country == "FR":
        errors["exploitation_country"] = [_("For France, give the département instead.")]
    elif data.exploitation_country and not geo.is_country(data.exploitation_country):
        errors["exploitation_country"] = [_("Unknown country code (ISO 3166-1 alpha-2).")]

    unknown_indicators = set(data.indicators) - indicators.known_codes()
    if unknown_indicators:
        errors["indicators"] = [
            _("Unknown indicator codes: %(codes)s.")
            % {"codes": ", ".join(sorted(unknown_indicators))}
        ]
    if set(data.needs) - set(Need.values):
        errors["needs"] = [_("Unknown need.")]

    if p.sex not in Sex.values:
        person_errors["sex"] = [_("Unknown value.")]
    if p.nationality and not geo.is_country(p.nationality):
        person_errors["nationality"] = [_("Unknown country code (ISO 3166-1 alpha-2).")]
    if any(not geo.is_language(code) for code in p.languages):
        person_errors["languages"] = [_("Languages are two-letter ISO 639-1 codes.")]
    if (
        p.current_departement
        and not Departement.objects.filter(code=p.current_departement).exists()
    ):
        person_errors["current_departement"] = [_("Unknown département code.")]
    if p.phone and not _plausible_phone(p.phone):
        person_errors["phone"] = [_("Enter a phone number (digits, spaces, +).")]

    age = _age(p, today=today, errors=person_errors)
    presumed_minor = _presumed_minor(p, age)
    anonymous = not presumed_minor and not data.consent_to_referral
    if anonymous:
        refusal = _(
            "Without the consent of an adult, the referral is an anonymous notification: "
            "leave this empty."
        )
        for name in IDENTITY_FIELDS:
            if getattr(p, name):
                person_errors[name] = [refusal]
        if data.narrative.strip():
            errors["narrative"] = [refusal]

    if not unknown_indicators:
        other_public = set(data.indicators) - indicators.codes_for(minor=presumed_minor)
        if other_public:
            message = (
                _("Not on the children's list (a presumed minor): %(codes)s.")
                if presumed_minor
                else _("Only on the children's list (the person is an adult): %(codes)s.")
            )
            errors["indicators"] = [message % {"codes": ", ".join(sorted(other_public))}]

    if person_errors:
        errors["person"] = person_errors
    if errors:
        raise ValidationFailed(_("The referral has errors."), fields=errors)
    return {"forms": forms, "age": age, "presumed_minor": presumed_minor, "anonymous": anonymous}


def _age(p: PersonInput, *, today: date, errors: dict[str, list]) -> int | None:
    """The person's age from the date of birth, else the estimated age; an
    implausible or contradictory value is put in ``errors`` and not used."""
    age: int | None = None
    if p.date_of_birth is not None:
        if p.date_of_birth > today:
            errors["date_of_birth"] = [_("The date of birth cannot be in the future.")]
        elif p.date_of_birth < MIN_DATE_OF_BIRTH:
            errors["date_of_birth"] = [_("The date of birth is not plausible.")]
        else:
            age = _age_on(p.date_of_birth, today)
    if p.estimated_age is not None:
        if not 0 <= p.estimated_age <= 120:
            errors["estimated_age"] = [_("The estimated age is not plausible.")]
        elif age is not None and abs(age - p.estimated_age) > DOB_AGE_TOLERANCE:
            errors["estimated_age"] = [
                _("The estimated age does not match the date of birth (%(age)s years).")
                % {"age": age}
            ]
        elif age is None:
            age = p.estimated_age
    return age


def _presumed_minor(p: PersonInput, age: int | None) -> bool:
    # Presumption of minority: saying one is a minor is enough while age is uncertain;
    # a known age under 18 is a minor too.
    return p.declared_minor or (age is not None and age < 18)


def person_presumed_minor(person: PersonInput, *, today: date | None = None) -> bool:
    """Would the submission presume this person a minor ? For a form
    that adapts before submitting (the children's indicator list, the notice that
    the CRIP will be told); ``referral_submit`` decides again with the same rule."""
    today = today or timezone.localdate()
    return _presumed_minor(person, _age(person, today=today, errors={}))


def _plausible_phone(value: str) -> bool:
    digits = [c for c in value if c.isdigit()]
    return all(c.isdigit() or c in "+ .-()" for c in value) and 6 <= len(digits) <= 20


# --- submission -------------------------------------------------------------------
