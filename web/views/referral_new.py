"""The guided referral ("Nouveau signalement"): five steps, a review, and the
submission through ``referral_submit`` (with a per-draft idempotency key).

The draft lives in the server-side session between steps (never in a URL),
encrypted like the identity fields of the records; the forms check formats
and required choices, the service checks every rule and its errors are brought
back to the step that owns each field. "Mes signalements" and a referral's page
are in web/views/referrals.py.

Longer than most modules (~480 lines) for a reason: the five steps share the
draft, the field-to-step map and the routing of the service's errors back to
their step; split apart, each piece would reach into the others' privates.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from common import crypto
from common.choices import ExploitationForm
from common.errors import ValidationFailed
from referral import indicators, services
from referral.models import Need, Referral, Sex

from .. import present
from ..access import referrer_only
from ..errors import run_service
from ..forms import MnrForm
from ..forms import referral as rf

DRAFT = "mnr_referral_draft"
SUBMITTED = "mnr_referral_submitted"  # draft key → reference, for a resubmitted last step
LAST_STEP = 5


@dataclass(frozen=True)
class Step:
    number: int
    title: str | Promise
    form_class: type[MnrForm]


STEPS = {
    1: Step(1, gettext_lazy("The situation"), rf.SituationForm),
    2: Step(2, gettext_lazy("The person"), rf.PersonForm),
    3: Step(3, gettext_lazy("Signs of trafficking"), rf.IndicatorsForm),
    4: Step(4, gettext_lazy("Needs"), rf.NeedsForm),
    5: Step(5, gettext_lazy("Review and submit"), rf.ConfirmForm),
}

# Where each field the service may name lives: (step, form field).
FIELD_STEPS: dict[str, tuple[int, str]] = {
    "immediate_danger": (1, "immediate_danger"),
    "exploitation_forms": (1, "exploitation_forms"),
    "exploitation_other_detail": (1, "exploitation_other_detail"),
    "exploitation_departement": (1, "exploitation_departement"),
    "exploitation_country": (1, "exploitation_country"),
    "consent_to_referral": (2, "consent_to_referral"),
    "person.given_name": (2, "given_name"),
    "person.family_name": (2, "family_name"),
    "person.date_of_birth": (2, "date_of_birth"),
    "person.estimated_age": (2, "estimated_age"),
    "person.declared_minor": (2, "declared_minor"),
    "person.sex": (2, "sex"),
    "person.nationality": (2, "nationality"),
    "person.languages": (2, "language_1"),
    "person.phone": (2, "phone"),
    "person.current_departement": (2, "current_departement"),
    "indicators": (3, "indicators"),
    "needs": (4, "needs"),
    "narrative": (4, "narrative"),
}


# --- the draft in the session -------------------------------------------------------


# The draft holds identity fields: it is kept encrypted with the same keys as the
# identity fields of the records, so the session table never holds them in clear.


def _draft(request: HttpRequest) -> dict:
    sealed = request.session.get(DRAFT)
    draft = None
    if isinstance(sealed, str):
        try:
            draft = json.loads(crypto.decrypt(sealed))
        except (InvalidToken, ValueError):
            draft = None  # a key removed since: start again rather than fail
    if not draft:
        draft = {"key": uuid.uuid4().hex, "steps": {}, "done": [], "errors": {}}
        _save(request, draft)
    return draft


def _save(request: HttpRequest, draft: dict) -> None:
    request.session[DRAFT] = crypto.encrypt(json.dumps(draft))


def _raw(form: forms.Form) -> dict[str, Any]:
    """What was typed, as the session (JSON) can hold it."""
    raw: dict[str, Any] = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            raw[name] = form.data.getlist(name)
        else:
            raw[name] = form.data.get(name, "")
    return raw


def _first_open_step(draft: dict) -> int:
    for number in range(1, LAST_STEP):
        if number not in draft["done"]:
            return number
    return LAST_STEP


def _person_input(cleaned: dict) -> services.PersonInput:
    languages = [code for code in (cleaned["language_1"], cleaned["language_2"]) if code]
    return services.PersonInput(
        given_name=cleaned["given_name"],
        family_name=cleaned["family_name"],
        date_of_birth=cleaned["date_of_birth"],
        estimated_age=cleaned["estimated_age"],
        declared_minor=cleaned["declared_minor"],
        sex=cleaned["sex"],
        nationality=cleaned["nationality"],
        languages=list(dict.fromkeys(languages)),
        phone=cleaned["phone"],
        current_departement=cleaned["current_departement"] or None,
    )


def _valid(step: int, draft: dict, **kwargs: Any) -> forms.Form | None:
    form = STEPS[step].form_class(data=draft["steps"].get(str(step), {}), **kwargs)
    return form if form.is_valid() else None


def _person(draft: dict) -> services.PersonInput | None:
    form = _valid(2, draft)
    return _person_input(form.cleaned_data) if form else None


def _presumed_minor(draft: dict) -> bool:
    person = _person(draft)
    return bool(person and services.person_presumed_minor(person))


def _groups(draft: dict) -> list[dict]:
    return indicators.checklist(
        indicators.CURRENT_VERSION, get_language() or "fr", minor=_presumed_minor(draft)
    )


def _form(step: int, draft: dict, **kwargs: Any) -> MnrForm:
    if step == 3:
        kwargs["groups"] = _groups(draft)
    return STEPS[step].form_class(**kwargs)


def _input(draft: dict) -> tuple[services.ReferralInput | None, int]:
    """The service's input from steps 1–4, or (None, the step to fix)."""
    situation = _valid(1, draft)
    if situation is None:
        return None, 1
    person = _person(draft)
    if person is None:
        return None, 2
    groups = _groups(draft)
    shown = {i["code"] for group in groups for i in group["indicators"]}
    # Ticks made on the other public's list (the person's age changed since)
    # are not sent: the referrer never saw them for this person.
    raw = dict(draft["steps"].get("3", {}))
    raw["indicators"] = [code for code in raw.get("indicators", []) if code in shown]
    checklist = rf.IndicatorsForm(data=raw, groups=groups)
    if not checklist.is_valid():
        return None, 3
    needs = _valid(4, draft)
    if needs is None:
        return None, 4
    s = situation.cleaned_data
    in_france = s["place"] == rf.FRANCE
    return (
        services.ReferralInput(
            immediate_danger=s["immediate_danger"] == rf.YES,
            exploitation_forms=s["exploitation_forms"],
            exploitation_other_detail=s["exploitation_other_detail"],
            exploitation_departement=(s["exploitation_departement"] or None) if in_france else None,
            exploitation_country="" if in_france else s["exploitation_country"],
            indicators=checklist.cleaned_data["indicators"],
            needs=needs.cleaned_data["needs"],
            narrative=needs.cleaned_data["narrative"],
            consent_to_referral=draft["steps"]["2"].get("consent_to_referral") == rf.YES,
            person=person,
        ),
        0,
    )


def _flatten(fields: dict, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for name, value in fields.items():
        if isinstance(value, dict):
            found.extend(_flatten(value, f"{prefix}{name}."))
        else:
            for text in value if isinstance(value, list | tuple) else [value]:
                found.append((f"{prefix}{name}", str(text)))
    return found


# --- the guided form ----------------------------------------------------------------


@referrer_only
def referral_new(request: HttpRequest) -> HttpResponse:
    """Start (or resume) the guided referral at the first step not yet done."""
    return redirect("web:referral-new-step", step=_first_open_step(_draft(request)))


@referrer_only
def referral_new_step(request: HttpRequest, step: int) -> HttpResponse:
    if step not in STEPS:
        raise Http404
    draft = _draft(request)
    if request.method == "POST" and step == LAST_STEP:
        return _submit(request, draft)
    if step > _first_open_step(draft):
        # Steps are filled in order (a bookmarked later step resumes the draft).
        return redirect("web:referral-new-step", step=_first_open_step(draft))

    if request.method == "POST":
        form = _form(step, draft, data=request.POST)
        if request.POST.get("action") == "back":
            draft["steps"][str(step)] = _raw(form)
            _save(request, draft)
            return redirect("web:referral-new-step", step=max(step - 1, 1))
        if form.is_valid():
            draft["steps"][str(step)] = _raw(form)
            draft["errors"].pop(str(step), None)
            if step not in draft["done"]:
                draft["done"].append(step)
            _save(request, draft)
            return redirect("web:referral-new-step", step=step + 1)
        return _render_step(request, draft, step, form)

    if step == LAST_STEP:
        data, to_fix = _input(draft)
        if data is None:
            draft["done"] = [n for n in draft["done"] if n < to_fix]
            _save(request, draft)
            return redirect("web:referral-new-step", step=to_fix)
        return _render_step(request, draft, step, _form(step, draft), data=data)

    saved = draft["steps"].get(str(step))
    service_errors = draft["errors"].get(str(step))
    if saved is not None and service_errors:
        # Show the service's refusals on the fields they concern.
        form = _form(step, draft, data=saved)
        form.is_valid()
        for field, texts in service_errors.items():
            for text in texts:
                form.add_error(field if field in form.fields else None, text)
    else:
        form = _form(step, draft, initial=saved or {})
    return _render_step(request, draft, step, form)


def _submit(request: HttpRequest, draft: dict) -> HttpResponse:
    """The last step's POST: confirm, then one call to referral_submit."""
    submitted = request.session.get(SUBMITTED, {})
    posted_key = request.POST.get("draft", "")
    if posted_key in submitted:
        # Sent again (double click, back then resubmit): the referral exists.
        return redirect("web:referral-submitted", reference=submitted[posted_key])
    if posted_key != draft["key"]:
        messages.warning(request, _("This form was out of date: check it and submit again."))
        return redirect("web:referral-new-step", step=_first_open_step(draft))
    if request.POST.get("action") == "back":
        return redirect("web:referral-new-step", step=LAST_STEP - 1)
    data, to_fix = _input(draft)
    if data is None:
        return redirect("web:referral-new-step", step=to_fix)
    form = rf.ConfirmForm(data=request.POST)
    if not form.is_valid():
        return _render_step(request, draft, LAST_STEP, form, data=data)
    errors_form = _ServiceErrors()
    result = run_service(
        request,
        _submit_flat,
        form=errors_form,
        actor=request.user,
        data=data,
        idempotency_key=draft["key"],
    )
    if not result.ok:
        return _render_step(request, draft, LAST_STEP, form, data=data, service_errors=errors_form)
    referral = result.value
    submitted = {**submitted, draft["key"]: referral.reference}
    request.session[SUBMITTED] = dict(list(submitted.items())[-10:])
    request.session.pop(DRAFT, None)
    return redirect("web:referral-submitted", reference=referral.reference)


class _ServiceErrors(forms.Form):
    """Collects the service's field errors by dotted name (``person.phone``)
    through run_service, to be shown on each step's fields."""

    def __init__(self) -> None:
        super().__init__(data={})
        self.fields = {name: forms.CharField(required=False) for name in FIELD_STEPS}
        self.full_clean()


def _submit_flat(**kwargs: Any) -> Referral:
    """referral_submit, with field errors flattened to dotted names
    (``person.given_name``) so that each lands on its step's field."""
    try:
        referral, _created = services.referral_submit(**kwargs)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message,
            fields=dict(_group(_flatten(exc.fields))),
        ) from exc
    return referral


def _group(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, text in pairs:
        grouped.setdefault(name, []).append(text)
    return grouped


@dataclass(frozen=True)
class StepError:
    step: int
    step_title: str | Promise
    field: str
    label: str
    text: str
    url: str


def _step_errors(request: HttpRequest, draft: dict, errors_form: forms.Form) -> list[StepError]:
    """Each service error on its step and field; remembered in the draft so the
    step shows it on the field when the referrer goes there."""
    found: list[StepError] = []
    draft["errors"] = {}
    for name, texts in errors_form.errors.items():
        if name == "__all__":
            continue
        step, field = FIELD_STEPS.get(name, (LAST_STEP, ""))
        if step != LAST_STEP:
            draft["errors"].setdefault(str(step), {}).setdefault(field, []).extend(texts)
        form_field = STEPS[step].form_class.base_fields.get(field)
        label = str(form_field.label) if form_field else str(STEPS[step].title)
        url = reverse("web:referral-new-step", kwargs={"step": step})
        # A group of radios or boxes is reached through its first one.
        grouped = form_field is not None and isinstance(form_field.widget, forms.RadioSelect)
        anchor = f"#id_{field}_0" if grouped else f"#id_{field}" if field else ""
        for text in texts:
            found.append(StepError(step, STEPS[step].title, field, label, text, url + anchor))
    _save(request, draft)
    return found


def _render_step(
    request: HttpRequest,
    draft: dict,
    step: int,
    form: MnrForm,
    *,
    data: services.ReferralInput | None = None,
    service_errors: forms.Form | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "step": STEPS[step],
        "steps": list(STEPS.values()),
        "total_steps": len(STEPS),
        "next_step": STEPS.get(step + 1),
        "previous_step": STEPS.get(step - 1),
        "draft_key": draft["key"],
    }
    if step == 3:
        context["groups"] = _indicator_groups(form)
    if step == LAST_STEP and data is not None:
        minor = services.person_presumed_minor(data.person)
        context["summary"] = _summary(data, draft)
        context["presumed_minor"] = minor
        context["anonymous"] = not minor and not data.consent_to_referral
        if service_errors is not None:
            context["step_errors"] = _step_errors(request, draft, service_errors)
            context["general_errors"] = [
                str(e) for e in service_errors.non_field_errors() if str(e)
            ]
    return render(request, "web/referrals/new_step.html", context)


def _indicator_groups(form: rf.IndicatorsForm) -> list[dict]:
    """The checklist by dimension with each box's id and state, for the template."""
    value = form["indicators"].value() or []
    groups, n = [], 0
    for group in form.groups:
        items = []
        for item in group["indicators"]:
            items.append({**item, "id": f"id_indicators_{n}", "checked": item["code"] in value})
            n += 1
        groups.append({**group, "items": items, "ticked": sum(i["checked"] for i in items)})
    return groups


def _summary(data: services.ReferralInput, draft: dict) -> list[dict]:
    p = data.person
    place = (
        present.departement_label(data.exploitation_departement)
        if data.exploitation_departement
        else rf.country_name(data.exploitation_country)
    )
    forms_ = present.labels(ExploitationForm.choices, data.exploitation_forms)
    if data.exploitation_other_detail:
        forms_.append(data.exploitation_other_detail)
    rows = {
        1: [
            (_("Immediate danger"), present.yes_no(data.immediate_danger)),
            (_("Forms of exploitation"), forms_),
            (_("Place of exploitation"), place),
        ],
        2: [
            (_("Consent to referral"), present.yes_no(data.consent_to_referral)),
            (_("Given name or alias"), p.given_name),
            (_("Family name"), p.family_name),
            (_("Date of birth"), p.date_of_birth.strftime("%d/%m/%Y") if p.date_of_birth else ""),
            (_("Estimated age"), "" if p.estimated_age is None else str(p.estimated_age)),
            (_("Says they are a minor"), present.yes_no(p.declared_minor)),
            (_("Sex"), dict(Sex.choices).get(p.sex, p.sex)),
            (_("Nationality"), rf.country_name(p.nationality) if p.nationality else ""),
            (_("Languages"), [rf.language_name(code) for code in p.languages]),
            (_("Phone"), p.phone),
            (
                _("Département where the person is now"),
                present.departement_label(p.current_departement),
            ),
        ],
        3: [
            (
                _("Indicators observed"),
                present.indicator_labels(data.indicators, indicators.CURRENT_VERSION),
            )
        ],
        4: [
            (_("Needs"), present.labels(Need.choices, data.needs)),
            (_("What you observed"), data.narrative),
        ],
    }
    return [
        {
            "step": STEPS[number],
            "url": reverse("web:referral-new-step", kwargs={"step": number}),
            "rows": [
                {"label": label, "value": ", ".join(value) if isinstance(value, list) else value}
                for label, value in number_rows
            ],
        }
        for number, number_rows in rows.items()
    ]
