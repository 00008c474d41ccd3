"""The coordination desk: referrals escalated to it (no association accepted, or
none was accredited for them) and their assignment to an association of the
desk's choice. Visibility comes from referral.selectors (the desk sees the
referrals escalated to it), the assignment from referral.services.referral_assign:
the same calls as the API's ``POST /referrals/{reference}/assign/``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Accreditation, Agency, AgencyKind, Role
from agencies.selectors import active_associations, agency_directory
from audit.models import AccessAction
from common.choices import ExploitationForm, Public
from referral import selectors, services
from referral.models import Need, Referral, ReferralStatus, Sex

from ..access import member_required
from ..errors import run_service
from ..forms.coordination import EscalationAssignForm

DESK = {"kinds": {AgencyKind.COORDINATOR}, "roles": {Role.COORDINATOR}}
PAGE_SIZE = 50


def _labels(choices: type, codes: list[str]) -> list[str]:
    known = dict(choices.choices)
    return [str(known.get(code, code)) for code in codes]


def _departement(referral: Referral) -> object:
    """The département of Referral.routing_departement_id, with its name."""
    code = referral.routing_departement_id
    person = referral.person
    return (
        person.current_departement
        if person.current_departement_id == code
        else referral.exploitation_departement
    )


@dataclass(frozen=True)
class EscalationRow:
    """What the desk needs to choose an association: no name, no narrative."""

    referral: Referral
    forms: list[str]
    departement: object
    routings: list


def _row(referral: Referral) -> EscalationRow:
    return EscalationRow(
        referral=referral,
        forms=_labels(ExploitationForm, referral.exploitation_forms),
        departement=_departement(referral),
        routings=list(referral.routings.all()),
    )


@member_required(**DESK)
def escalation_list(request: HttpRequest) -> HttpResponse:
    """Referrals waiting for the desk, the longest-waiting first."""
    referrals = (
        selectors.referral_list_visible_to(user=request.user)
        .filter(status=ReferralStatus.ESCALATED)
        .order_by("escalated_at", "pk")
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/coordination/escalation_list.html",
        {"page": page, "rows": [_row(r) for r in page.object_list]},
    )


# --- assignment ----------------------------------------------------------------------


@dataclass(frozen=True)
class AssociationOption:
    """An active association as the desk weighs it: its accreditation in force
    (forms, publics, territory, capacity) and its open cases."""

    agency: Agency
    accreditation: Accreditation | None
    forms: list[str]
    publics: list[str]
    territory: str
    open_cases: int
    tried: str  # the outcome of an earlier routing of this referral, if any


def _association_options(referral: Referral) -> list[AssociationOption]:
    today = timezone.localdate()
    open_cases = services.open_case_counts()
    tried = {r.association_id: r.get_outcome_display() for r in referral.routings.all()}
    options = []
    for agency in agency_directory().filter(pk__in=active_associations()):
        current = next((a for a in agency.accreditations.all() if a.in_force(today)), None)
        if current is None:
            forms_, publics, territory = [], [], ""
        else:
            forms_ = (
                [_("All forms of exploitation")]
                if set(ExploitationForm.values) <= set(current.exploitation_forms)
                else _labels(ExploitationForm, current.exploitation_forms)
            )
            publics = _labels(Public, current.publics)
            territory = (
                _("National")
                if current.national
                else ", ".join(d.code for d in current.departements.all())
            )
        options.append(
            AssociationOption(
                agency=agency,
                accreditation=current,
                forms=forms_,
                publics=publics,
                territory=territory,
                open_cases=open_cases.get(agency.pk, 0),
                tried=tried.get(agency.pk, ""),
            )
        )
    return options


@member_required(**DESK)
def escalation_assign(request: HttpRequest, reference: str) -> HttpResponse:
    """Route an escalated referral to the association the desk chooses."""
    # The read is logged once, when the desk opens the referral (as the API's detail).
    referral = selectors.referral_get_for_user(
        user=request.user,
        reference=reference,
        log=AccessAction.REFERRAL_VIEW if request.method != "POST" else None,
    )
    options = _association_options(referral)
    form = EscalationAssignForm(request.POST or None, options=options)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = run_service(
                request,
                services.referral_assign,
                form=form,
                referral_id=referral.pk,
                actor=request.user,
                association_id=form.cleaned_data["association"],
            )
            if result.ok:
                messages.success(
                    request,
                    _("Referral %(reference)s was routed to %(association)s.")
                    % {"reference": referral.reference, "association": result.value.association},
                )
                return HttpResponseRedirect(reverse("web:escalation-list"))
            if not form.errors:  # not escalated any more: the message says why
                return HttpResponseRedirect(request.path)
        status = 400
    person = referral.person
    return render(
        request,
        "web/coordination/escalation_assign.html",
        {
            "referral": referral,
            "row": _row(referral),
            "escalated": referral.status == ReferralStatus.ESCALATED,
            "sex": dict(Sex.choices).get(person.sex, person.sex),
            "needs": _labels(Need, referral.needs),
            "languages": person.languages,
            "options": options,
            "form": form,
        },
        status=status,
    )
