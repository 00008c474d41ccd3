"""The association's actions on the identification file, from the case page's
Identification section (built by web/views/identification.py ``case_section``):
an entry in the evidence file, the request for the formal decision, the request
to reconsider a negative decision. The same services as
api/views/identifications.py; a refused form shows again on the case page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import selectors as case_selectors
from identification import selectors, services
from identification.models import Identification

from ..access import ASSOCIATION_STAFF, member_required
from ..errors import run_service
from ..forms.identification import EvidenceForm, ReconsiderForm
from .association import _case_url, _render_case

ANCHOR = "identification"


def _file_for_write(request: HttpRequest, reference: str) -> Identification:
    """The file of the case to change (not logged as a read: history records the write)."""
    case = case_selectors.case_get_for_user(user=request.user, reference=reference, log=None)
    identification, _viewer = selectors.identification_get_for_user(
        user=request.user, reference=case.referral.reference, log=None
    )
    return identification


@require_POST
@member_required(**ASSOCIATION_STAFF)
def evidence_add(request: HttpRequest, reference: str) -> HttpResponse:
    identification = _file_for_write(request, reference)
    form = EvidenceForm(request.POST, minor=identification.minor)
    if form.is_valid():
        result = run_service(
            request,
            services.evidence_add,
            form=form,
            identification_id=identification.pk,
            actor=request.user,
            **form.cleaned_data,
        )
        if result.ok:
            messages.success(request, _("Entry added to the evidence file."))
            return redirect(_case_url(reference, ANCHOR))
        if not form.errors:
            return redirect(_case_url(reference, ANCHOR))
    return _render_case(request, reference, evidence_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def evidence_submit(request: HttpRequest, reference: str) -> HttpResponse:
    identification = _file_for_write(request, reference)
    result = run_service(
        request, services.evidence_submit, identification_id=identification.pk, actor=request.user
    )
    if result.ok:
        messages.success(request, _("The formal decision was asked of the identification unit."))
    return redirect(_case_url(reference, ANCHOR))


@require_POST
@member_required(**ASSOCIATION_STAFF)
def reconsideration_request(request: HttpRequest, reference: str) -> HttpResponse:
    identification = _file_for_write(request, reference)
    form = ReconsiderForm(request.POST)
    if form.is_valid():
        result = run_service(
            request,
            services.reconsideration_request,
            form=form,
            identification_id=identification.pk,
            actor=request.user,
            new_elements=form.cleaned_data["new_elements"],
        )
        if result.ok:
            messages.success(
                request, _("Reconsideration asked: another member of the unit will decide.")
            )
            return redirect(_case_url(reference, ANCHOR))
        if not form.errors:
            return redirect(_case_url(reference, ANCHOR))
    return _render_case(request, reference, reconsider_form=form)
