"""Referrer pages: "Mes signalements" and a referral's page with withdrawal;
the guided referral is in web/views/referral_new.py.

The same services and selectors as api/views/referrals.py:
``referral_list_visible_to``, ``referral_get_for_user``, ``referral_withdraw``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import CaseStatus
from common.choices import ExploitationForm
from identification import selectors as identification_selectors
from referral import selectors, services
from referral.filters import ReferralFilter
from referral.models import Need, Referral, ReferralStatus, Sex

from .. import present
from ..access import referrer_only
from ..errors import run_service
from ..forms import referral as rf

PAGE_SIZE = 20

BADGES = {
    ReferralStatus.SUBMITTED: "fr-badge--info",
    ReferralStatus.ROUTED: "fr-badge--info",
    ReferralStatus.ACCEPTED: "fr-badge--success",
    ReferralStatus.ESCALATED: "fr-badge--warning",
    ReferralStatus.NOTIFIED: "fr-badge--new",
    ReferralStatus.WITHDRAWN: "",
}


@dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    forms: list[str]
    badge: str
    receiving_association: dict | None
    case_status_label: str
    crip_notified: bool


def _row(referral: Referral) -> ReferralRow:
    """What the API shows an author about status (same helpers as its serializer)."""
    case_status = selectors.referral_case_status(referral)
    return ReferralRow(
        referral=referral,
        forms=present.labels(ExploitationForm.choices, referral.exploitation_forms),
        badge=BADGES.get(referral.status, ""),
        receiving_association=selectors.referral_receiving_association(referral),
        case_status_label=str(dict(CaseStatus.choices).get(case_status, "")) if case_status else "",
        crip_notified=referral.crip_notified_at is not None,
    )


@referrer_only
def referral_submitted(request: HttpRequest, reference: str) -> HttpResponse:
    """After submission: the reference and what happens next."""
    referral = selectors.referral_get_for_user(user=request.user, reference=reference, log=None)
    return render(request, "web/referrals/submitted.html", {"row": _row(referral)})


@referrer_only
def referral_list(request: HttpRequest) -> HttpResponse:
    """Mes signalements: the referrer's referrals (the API's list selector)."""
    filters = rf.ReferralFilterForm(data=request.GET or None)
    referrals = selectors.referral_list_visible_to(user=request.user)
    if filters.is_bound and filters.is_valid():
        values = {k: v for k, v in filters.cleaned_data.items() if v}
        referrals = ReferralFilter(data=values, queryset=referrals, request=request).qs
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/referrals/list.html",
        {
            "filters": filters,
            "page_obj": page,
            "rows": [_row(referral) for referral in page.object_list],
        },
    )


def _detail(request: HttpRequest, referral: Referral, form: rf.WithdrawForm) -> HttpResponse:
    person = referral.person
    can_withdraw = selectors.referral_can_withdraw(user=request.user, referral=referral)
    place = (
        present.departement_label(referral.exploitation_departement_id)
        if referral.exploitation_departement_id
        else rf.country_name(referral.exploitation_country)
    )
    # The identification file's stage and status only (never its reasons).
    found = identification_selectors.identification_of_referral(
        user=request.user, referral_id=referral.pk
    )
    identification = (
        {"stage": found[0].stage, "status": found[0].status} if found is not None else None
    )
    return render(
        request,
        "web/referrals/detail.html",
        {
            "row": _row(referral),
            "identification": identification,
            "person": person,
            "date_of_birth": present.date_of_birth(person.date_of_birth),
            "place": place,
            "sex": dict(Sex.choices).get(person.sex, person.sex),
            "nationality": rf.country_name(person.nationality) if person.nationality else "",
            "languages": [rf.language_name(code) for code in person.languages],
            "current_departement": present.departement_label(person.current_departement_id),
            "indicator_labels": present.indicator_labels(
                referral.indicators, referral.indicator_list_version
            ),
            "needs": present.labels(Need.choices, referral.needs),
            "can_withdraw": can_withdraw,
            "form": form,
        },
    )


@referrer_only
def referral_detail(request: HttpRequest, reference: str) -> HttpResponse:
    referral = selectors.referral_get_for_user(user=request.user, reference=reference)
    return _detail(request, referral, rf.WithdrawForm())


@require_POST
@referrer_only
def referral_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    referral = selectors.referral_get_for_user(user=request.user, reference=reference, log=None)
    form = rf.WithdrawForm(data=request.POST)
    if form.is_valid():
        result = run_service(
            request,
            services.referral_withdraw,
            form=form,
            referral_id=referral.pk,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if result.ok:
            messages.success(request, _("The referral was withdrawn."))
            return redirect("web:referral-detail", reference=reference)
        if not form.errors:
            return redirect("web:referral-detail", reference=reference)
    return _detail(request, referral, form)
