"""Identification pages (docs/identification.md), for the identification
unit's decision-makers: their files (danger first, then minors, then the
nearest deadline), a file with what they decide on and the decision form, and
the unit's dashboard. The Identification section of the case page is built here
too (``case_section``: the same file, as the association reads it); the
association's actions on it are in web/views/case_identification.py, next to
the case page they render again.

Thin, like api/views/identifications.py: every read through
identification.selectors (the same 404s and access-log entries), the decision
through identification.services.identification_decide (the same rules, history
and optimistic-concurrency check).
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AccessAction
from cases.models import Case
from identification import selectors, services
from identification.models import Identification
from referral.models import Need, Sex

from .. import present
from ..access import DECISION_MAKERS, member_required
from ..errors import run_service
from ..forms import referral as rf
from ..forms.identification import DecisionForm, EvidenceForm, ReconsiderForm
from .inbox import time_left

FILE_PARTS = ("evidence__added_by", "decisions__decided_by", "reconsiderations")


@require_GET
@member_required(**DECISION_MAKERS)
def identification_inbox(request: HttpRequest) -> HttpResponse:
    """The unit's files (GET /api/v1/identifications/): those waiting for a
    decision first, in the selector's order, with the time left."""
    now = timezone.now()
    files = list(selectors.identification_list_for(user=request.user))
    for identification in files:
        identification.time_left = (
            time_left(identification.decide_by, now)
            if identification.pending and identification.decide_by
            else None
        )
    return render(
        request,
        "web/identification/inbox.html",
        {
            "pending": [f for f in files if f.pending],
            "others": [f for f in files if not f.pending],
        },
    )


@require_GET
@member_required(**DECISION_MAKERS)
def identification_dashboard(request: HttpRequest) -> HttpResponse:
    """The unit's backlog (GET /api/v1/identifications/dashboard/)."""
    return render(
        request,
        "web/identification/dashboard.html",
        {"dashboard": selectors.unit_dashboard(user=request.user)},
    )


def _render_file(
    request: HttpRequest, identification: Identification, form: DecisionForm | None = None
) -> HttpResponse:
    """The file as the unit reads it: the referral's facts and indicators (no
    identity), the evidence file, earlier decisions and reconsiderations."""
    prefetch_related_objects([identification], *FILE_PARTS)
    referral = identification.referral
    person = referral.person
    place = (
        present.departement_label(referral.exploitation_departement_id)
        if referral.exploitation_departement_id
        else rf.country_name(referral.exploitation_country)
    )
    return render(
        request,
        "web/identification/detail.html",
        {
            "identification": identification,
            "referral": referral,
            "place": place,
            "sex": dict(Sex.choices).get(person.sex, person.sex),
            "age_years": person.age_years,
            "nationality": rf.country_name(person.nationality) if person.nationality else "",
            "languages": [rf.language_name(code) for code in person.languages],
            "needs": present.labels(Need.choices, referral.needs),
            "indicator_labels": present.indicator_labels(
                referral.indicators, referral.indicator_list_version
            ),
            "indicator_summary": present.indicator_summary(referral),
            "time_left": (
                time_left(identification.decide_by, timezone.now())
                if identification.pending and identification.decide_by
                else None
            ),
            "may_decide": selectors.identification_may_decide(
                user=request.user, identification=identification
            ),
            "form": form
            or DecisionForm(
                stage=identification.stage, initial={"version": identification.version}
            ),
        },
    )


@require_GET
@member_required(**DECISION_MAKERS)
def identification_detail(request: HttpRequest, reference: str) -> HttpResponse:
    identification, _viewer = selectors.identification_get_for_user(
        user=request.user, reference=reference, log=AccessAction.IDENTIFICATION_VIEW
    )
    return _render_file(request, identification)


@require_POST
@member_required(**DECISION_MAKERS)
def identification_decide(request: HttpRequest, reference: str) -> HttpResponse:
    """POST /api/v1/identifications/{ref}/decide/, with the page's version as If-Match."""
    identification, _viewer = selectors.identification_get_for_user(
        user=request.user, reference=reference, log=None
    )
    form = DecisionForm(request.POST, stage=identification.stage)
    if form.is_valid():
        result = run_service(
            request,
            services.identification_decide,
            form=form,
            identification_id=identification.pk,
            actor=request.user,
            outcome=form.cleaned_data["outcome"],
            reasons=form.cleaned_data["reasons"],
            explanation=form.cleaned_data["explanation"],
            expected_version=form.cleaned_data["version"],
        )
        if result.ok:
            messages.success(
                request,
                _("Decision recorded for %(reference)s: %(status)s.")
                % {"reference": reference, "status": result.value.get_status_display()},
            )
            return redirect("web:identification-inbox")
        if not form.errors:
            return redirect("web:identification-detail", reference=reference)
    elif "version" in form.errors:
        messages.error(request, _("This page was out of date: reload it and try again."))
        return redirect("web:identification-detail", reference=reference)
    return _render_file(request, identification, form)


# --- the case page's section ---------------------------------------------------------


def case_section(
    request: HttpRequest,
    case: Case,
    *,
    evidence_form: EvidenceForm | None = None,
    reconsider_form: ReconsiderForm | None = None,
) -> dict:
    """The Identification section of the case page (its context): the file as the
    association reads it (status, deadlines, decisions with their reasons,
    evidence) and the forms of what it may ask now. No file: nothing shown."""
    found = selectors.identification_of_referral(user=request.user, referral_id=case.referral_id)
    if found is None:
        return {"identification": None}
    identification, _viewer = found
    prefetch_related_objects([identification], *FILE_PARTS)
    return {
        "identification": identification,
        "identification_actions": selectors.association_actions(identification=identification),
        "evidence_form": evidence_form or EvidenceForm(minor=identification.minor),
        "reconsider_form": reconsider_form or ReconsiderForm(),
    }
