"""Forms of the guided referral ("Nouveau signalement"), one per step.

They check formats and required choices only. Every rule of the referral
(consent, minors, anonymous notifications, codes) is enforced by
referral.services.referral_submit, whose errors are mapped back to these
fields by ``FIELD_STEPS`` (web/views/referral_new.py).
"""

from __future__ import annotations

import gettext
from functools import lru_cache

import pycountry
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agencies.selectors import departement_list
from common.choices import ExploitationForm
from referral.models import Need, ReferralStatus, Sex

from . import MnrForm

YES, NO = "yes", "no"
FRANCE, ABROAD = "france", "abroad"


def _yes_no() -> list[tuple[str, str]]:
    return [(YES, _("Yes")), (NO, _("No"))]


@lru_cache(maxsize=4)
def _countries(lang: str) -> tuple[tuple[str, str], ...]:
    translate = _catalogue("iso3166-1", lang)
    names = [(c.alpha_2, translate(c.name)) for c in pycountry.countries]
    return tuple(sorted(names, key=lambda pair: pair[1]))


@lru_cache(maxsize=4)
def _languages(lang: str) -> tuple[tuple[str, str], ...]:
    translate = _catalogue("iso639-3", lang)
    names = [(x.alpha_2, translate(x.name)) for x in pycountry.languages if hasattr(x, "alpha_2")]
    return tuple(sorted(names, key=lambda pair: pair[1]))


def _catalogue(domain: str, lang: str):
    if lang == "en":
        return str
    return gettext.translation(
        domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True
    ).gettext


def _lang() -> str:
    return "fr" if (get_language() or "fr").startswith("fr") else "en"


def country_choices(*, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [("", _("Choose a country"))] + [
        pair for pair in _countries(_lang()) if pair[0] not in exclude
    ]


def country_name(code: str) -> str:
    return dict(_countries(_lang())).get(code, code)


def language_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a language")), *list(_languages(_lang()))]


def language_name(code: str) -> str:
    return dict(_languages(_lang())).get(code, code)


def _departements() -> list[tuple[str, str]]:
    return [("", _("Choose a département"))] + [
        (d.code, f"{d.code} — {d.name}") for d in departement_list()
    ]


class SituationForm(MnrForm):
    """Step 1: danger, forms of exploitation, where."""

    immediate_danger = forms.ChoiceField(
        label=_("Is the person in immediate danger?"),
        help_text=_(
            "For example threatened, hurt, or about to be moved. If so, also call 17 or 112 now."
        ),
        choices=_yes_no,
        widget=forms.RadioSelect,
    )
    exploitation_forms = forms.MultipleChoiceField(
        label=_("What forms of exploitation do you suspect?"),
        help_text=_("Tick all that apply."),
        choices=ExploitationForm.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    exploitation_other_detail = forms.CharField(
        label=_("If other: which form, in a few words"),
        help_text=_("For example forced marriage or illegal adoption."),
        max_length=200,
        required=False,
    )
    place = forms.ChoiceField(
        label=_("Where did the exploitation take place?"),
        choices=[(FRANCE, _("In France")), (ABROAD, _("Abroad"))],
        widget=forms.RadioSelect,
    )
    exploitation_departement = forms.ChoiceField(
        label=_("Département (if in France)"), required=False
    )
    exploitation_country = forms.ChoiceField(label=_("Country (if abroad)"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exploitation_departement"].choices = _departements()
        self.fields["exploitation_country"].choices = country_choices(exclude=("FR",))

    def clean(self) -> dict:
        data = super().clean()
        place = data.get("place")
        if place == FRANCE and not data.get("exploitation_departement"):
            self.add_error("exploitation_departement", _("Choose the département."))
        if place == ABROAD and not data.get("exploitation_country"):
            self.add_error("exploitation_country", _("Choose the country."))
        return data


class PersonForm(MnrForm):
    """Step 2: the person. Identity fields are optional; whether they may be
    given at all depends on consent and age, which the service decides."""

    consent_to_referral = forms.ChoiceField(
        label=_("Does the person agree to be referred to an accredited association?"),
        help_text=_("For a minor, answer as they said: protection applies either way."),
        choices=[(YES, _("Yes, the person agrees")), (NO, _("No, or not asked"))],
        widget=forms.RadioSelect,
    )
    given_name = forms.CharField(
        label=_("Given name or alias"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    family_name = forms.CharField(
        label=_("Family name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        help_text=_("If known."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
    )
    estimated_age = forms.IntegerField(
        label=_("Estimated age, in years"),
        help_text=_("If the date of birth is not known."),
        min_value=0,
        max_value=120,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    declared_minor = forms.BooleanField(label=_("The person says they are a minor"), required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    nationality = forms.ChoiceField(label=_("Nationality"), required=False)
    language_1 = forms.ChoiceField(label=_("Language spoken"), required=False)
    language_2 = forms.ChoiceField(label=_("Other language spoken"), required=False)
    phone = forms.CharField(
        label=_("Phone number of the person"),
        help_text=_("Only if the person can be called safely."),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    current_departement = forms.ChoiceField(
        label=_("Département where the person is now"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nationality"].choices = country_choices()
        self.fields["language_1"].choices = language_choices()
        self.fields["language_2"].choices = language_choices()
        self.fields["current_departement"].choices = _departements()


class IndicatorsForm(MnrForm):
    """Step 3: the checklist for the person's public (rendered by dimension)."""

    indicators = forms.MultipleChoiceField(
        label=_("Indicators observed"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, groups: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.groups = groups
        self.fields["indicators"].choices = [
            (i["code"], i["label"]) for group in groups for i in group["indicators"]
        ]


class NeedsForm(MnrForm):
    """Step 4: needs, and what was observed."""

    needs = forms.MultipleChoiceField(
        label=_("What does the person need?"),
        help_text=_("Tick all that apply."),
        choices=Need.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    narrative = forms.CharField(
        label=_("What you observed, in a few sentences"),
        help_text=_(
            "Facts only: when, where, what the person said. "
            "Leave empty for an anonymous notification."
        ),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ConfirmForm(MnrForm):
    """Step 5: the referrer confirms before submitting."""

    confirm = forms.BooleanField(
        label=_(
            "I confirm that this information is accurate to my knowledge and that the "
            "person's answer about consent is the one given at step 2."
        ),
    )


class ReferralFilterForm(MnrForm):
    """The API's referral filters (GET /api/v1/referrals/, referral.filters)."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *ReferralStatus.choices],
    )
    exploitation_form = forms.ChoiceField(
        label=_("Form of exploitation"),
        required=False,
        choices=[("", _("All")), *ExploitationForm.choices],
    )


class WithdrawForm(MnrForm):
    reason = forms.CharField(
        label=_("Reason for withdrawing"),
        help_text=_("For example: already referred by a colleague."),
        max_length=500,
        required=False,  # optional, as in the API and the service
        widget=forms.Textarea(attrs={"rows": 3}),
    )
