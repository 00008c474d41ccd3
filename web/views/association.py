"""Association pages (caseworkers and managers of an accredited association):
the case list and the case page (profile, protection plan, notes, assignment,
transfer, sharing, closure), the timeline and the manager's workload. The
inbox (routings and transfers asked of the association) is in
web/views/inbox.py; the pages of a person a case is shared with in
web/views/shared.py.

A thin adapter, like api/views/referrals.py and api/views/cases.py: every read
goes through the same selector as the API (so the same 404s and the same
access-log entries), every write through the same service (so the same rules,
history and optimistic-concurrency checks). The only check made here is the
role gate of ``member_required``.

About 400 lines: one short view per form of the case page, all rendering the
same page through ``_render_case`` so that a refused form shows in place (the
Identification section's forms: web/views/case_identification.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agencies.models import AgencyKind, Role
from audit.models import AccessAction
from audit.services import access_log_list
from cases import selectors as case_selectors
from cases import services as case_services
from cases.filters import CaseFilter
from cases.models import Case, ProtectionStep, StepStatus, TransferStatus
from records.timeline import build_timeline

from ..access import ASSOCIATION_STAFF, member_required
from ..errors import run_service
from ..forms.association import (
    CaseAssignForm,
    CaseFilterForm,
    CloseForm,
    NoteForm,
    ReopenForm,
    ShareForm,
    StepAddForm,
    StepStatusForm,
    TransferForm,
)
from .identification import case_section
from .inbox import incoming_transfers

CASES_PER_PAGE = 25

# What each button of a step says, by the status it moves the step to.
STEP_ACTIONS = [
    (StepStatus.DONE, "primary"),
    (StepStatus.IN_PROGRESS, "secondary"),
    (StepStatus.NOT_APPLICABLE, "tertiary"),
    (StepStatus.DECLINED_BY_PERSON, "tertiary"),
    (StepStatus.BLOCKED, "tertiary"),
    (StepStatus.PLANNED, "tertiary"),
]


def _step_action_labels() -> dict[str, str]:
    return {
        StepStatus.DONE: _("Complete"),
        StepStatus.IN_PROGRESS: _("In progress"),
        StepStatus.NOT_APPLICABLE: _("Not applicable"),
        StepStatus.DECLINED_BY_PERSON: _("Declined by the person"),
        StepStatus.BLOCKED: _("Blocked"),
        StepStatus.PLANNED: _("Back to planned"),
    }


# --- case list ----------------------------------------------------------------------


@require_GET
@member_required(**ASSOCIATION_STAFF)
def case_list(request: HttpRequest) -> HttpResponse:
    """The association's cases with the API's filters (GET /api/v1/cases/)."""
    staff = list(case_selectors.association_staff(user=request.user))
    form = CaseFilterForm(request.GET or None, staff=staff)
    cases = case_selectors.case_list_visible_to(user=request.user)
    values: dict = {}
    if form.is_bound:
        form.is_valid()  # invalid values are shown as errors and not applied
        values = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if v}
        cases = CaseFilter(data=values, queryset=cases, request=request).qs
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    # The rows show names: the page shown is written to the access log.
    access_log_list(
        actor=request.user,
        action=AccessAction.CASE_LIST,
        refs=[case.reference for case in page.object_list],
        view="web.cases",
        filters=list(values),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/association/case_list.html",
        {
            "filter_form": form,
            "page": page,
            "query": query.urlencode(),
            "transfers": list(incoming_transfers(request)),
        },
    )


# --- case page ----------------------------------------------------------------------


def _staff(request: HttpRequest) -> list:
    return list(case_selectors.association_staff(user=request.user))


def _render_case(request: HttpRequest, reference: str, **bound: Any) -> HttpResponse:
    """The case page. ``bound`` holds a submitted form to show again with its
    errors (step_form, note_form, assign_form, transfer_form, close_form,
    share_form, and the Identification section's evidence_form, reconsider_form)."""
    case = case_selectors.case_get_for_user(
        user=request.user, reference=reference, log=AccessAction.CASE_VIEW
    )
    staff = _staff(request)
    is_open = case.status == Case.Status.OPEN
    pending_transfer = (
        case_selectors.transfer_list_for(user=request.user)
        .filter(case_id=case.pk, status=TransferStatus.PENDING)
        .first()
    )
    associations = []
    if is_open and pending_transfer is None:
        associations = list(case_selectors.transfer_targets(case=case))
    labels = _step_action_labels()
    steps = []
    for step in case.steps.all():
        allowed = ProtectionStep.ALLOWED_TRANSITIONS.get(step.status, set())
        step.actions = [
            {"status": status, "label": labels[status], "style": style}
            for status, style in STEP_ACTIONS
            if status in allowed
        ]
        steps.append(step)
    today = timezone.localdate()
    for step in steps:
        step.overdue = step.is_overdue(today)
    context = {
        "case": case,
        "person": case.referral.person,
        "referral": case.referral,
        "steps": steps,
        "notes": sorted(case.notes.all(), key=lambda n: n.created_at, reverse=True),
        "is_open": is_open,
        "pending_transfer": pending_transfer,
        "step_form": bound.get("step_form") or StepAddForm(staff=staff),
        "note_form": bound.get("note_form") or NoteForm(),
        "assign_form": bound.get("assign_form")
        or CaseAssignForm(
            staff=staff,
            initial={"version": case.version, "assigned_to": case.assigned_to_id or ""},
        ),
        "transfer_form": bound.get("transfer_form") or TransferForm(associations=associations),
        "can_transfer": bool(associations),
        "close_form": bound.get("close_form") or CloseForm(initial={"version": case.version}),
        "reopen_form": ReopenForm(initial={"version": case.version}),
        "shares": case_selectors.case_shares(case=case),
        "share_form": bound.get("share_form") or ShareForm(),
        **case_section(
            request,
            case,
            evidence_form=bound.get("evidence_form"),
            reconsider_form=bound.get("reconsider_form"),
        ),
    }
    # The base layout titles the page "Error: …" when `form` has errors.
    context["form"] = next((f for f in bound.values() if f is not None and f.errors), None)
    return render(request, "web/association/case_detail.html", context)


def _case_url(reference: str, anchor: str = "") -> str:
    url = reverse("web:case-detail", kwargs={"reference": reference})
    return f"{url}#{anchor}" if anchor else url


def _case_for_write(request: HttpRequest, reference: str) -> Case:
    """The case to change (not logged as a read: history records the write)."""
    return case_selectors.case_get_for_user(user=request.user, reference=reference, log=None)


@require_GET
@member_required(**ASSOCIATION_STAFF)
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_case(request, reference)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def step_add(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_write(request, reference)
    form = StepAddForm(request.POST, staff=_staff(request))
    if form.is_valid():
        result = run_service(
            request,
            case_services.step_add,
            form=form,
            case_id=case.pk,
            actor=request.user,
            **form.cleaned_data,
        )
        if result.ok:
            messages.success(request, _("Step added to the plan."))
            return redirect(_case_url(reference, "plan"))
        if not form.errors:
            return redirect(_case_url(reference, "plan"))
    return _render_case(request, reference, step_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def step_update(request: HttpRequest, reference: str, step_id: int) -> HttpResponse:
    step = case_selectors.step_get_for_user(user=request.user, reference=reference, step_id=step_id)
    form = StepStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This page was out of date: reload it and try again."))
        return redirect(_case_url(reference, "plan"))
    result = run_service(
        request,
        case_services.step_update,
        step_id=step.pk,
        actor=request.user,
        expected_version=form.cleaned_data["version"],
        changes={"status": form.cleaned_data["status"]},
    )
    if result.ok:
        messages.success(request, _("Step updated."))
    return redirect(_case_url(reference, f"step-{step.pk}"))


@require_POST
@member_required(**ASSOCIATION_STAFF)
def note_add(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_write(request, reference)
    form = NoteForm(request.POST)
    if form.is_valid():
        result = run_service(
            request,
            case_services.note_add,
            form=form,
            case_id=case.pk,
            actor=request.user,
            text=form.cleaned_data["text"],
        )
        if result.ok:
            messages.success(request, _("Note added."))
            return redirect(_case_url(reference, "notes"))
    return _render_case(request, reference, note_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def case_assign(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_write(request, reference)
    form = CaseAssignForm(request.POST, staff=_staff(request))
    if form.is_valid():
        result = run_service(
            request,
            case_services.case_assign,
            form=form,
            case_id=case.pk,
            actor=request.user,
            assignee=form.cleaned_data["assigned_to"],
            expected_version=form.cleaned_data["version"],
        )
        if result.ok:
            messages.success(request, _("Assignment saved."))
            return redirect(_case_url(reference, "assignment"))
        if not form.errors:
            return redirect(_case_url(reference, "assignment"))
    return _render_case(request, reference, assign_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def case_transfer(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_write(request, reference)
    form = TransferForm(request.POST, associations=case_selectors.transfer_targets(case=case))
    if form.is_valid():
        result = run_service(
            request,
            case_services.transfer_request,
            form=form,
            case_id=case.pk,
            actor=request.user,
            to_association_id=int(form.cleaned_data["to_association"]),
            reason=form.cleaned_data["reason"],
        )
        if result.ok:
            messages.success(request, _("Transfer requested: the other association will answer."))
            return redirect(_case_url(reference, "transfer"))
        if not form.errors:
            return redirect(_case_url(reference, "transfer"))
    return _render_case(request, reference, transfer_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def case_share(request: HttpRequest, reference: str) -> HttpResponse:
    """Share the case with a named person of another agency (POST /api/v1/cases/{ref}/shares/)."""
    case = _case_for_write(request, reference)
    form = ShareForm(request.POST)
    if form.is_valid():
        result = run_service(
            request,
            case_services.share_create,
            form=form,
            case_id=case.pk,
            actor=request.user,
            grantee_username=form.cleaned_data["grantee"],
            purpose=form.cleaned_data["purpose"],
            purpose_detail=form.cleaned_data["purpose_detail"],
            parts=form.cleaned_data["parts"],
            until=form.cleaned_data["until"],
        )
        if result.ok:
            messages.success(request, _("Case shared: every read will be in the access log."))
            return redirect(_case_url(reference, "shares"))
    return _render_case(request, reference, share_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def case_share_end(request: HttpRequest, reference: str, share_id: int) -> HttpResponse:
    case = _case_for_write(request, reference)
    share = case_selectors.case_share_get(case=case, share_id=share_id)
    result = run_service(request, case_services.share_end, share_id=share.pk, actor=request.user)
    if result.ok:
        messages.success(request, _("Share ended: the person can no longer read the case."))
    return redirect(_case_url(reference, "shares"))


@require_POST
@member_required(**ASSOCIATION_STAFF)
def case_close(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_write(request, reference)
    form = CloseForm(request.POST)
    if form.is_valid():
        result = run_service(
            request,
            case_services.case_close,
            form=form,
            case_id=case.pk,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
        if result.ok:
            messages.success(request, _("Case closed."))
            return redirect(_case_url(reference))
        if not form.errors:
            return redirect(_case_url(reference, "closure"))
    elif "version" in form.errors:
        messages.error(request, _("This page was out of date: reload it and try again."))
        return redirect(_case_url(reference, "closure"))
    return _render_case(request, reference, close_form=form)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def case_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_write(request, reference)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This page was out of date: reload it and try again."))
        return redirect(_case_url(reference, "closure"))
    result = run_service(
        request,
        case_services.case_reopen,
        case_id=case.pk,
        actor=request.user,
        expected_version=form.cleaned_data["version"],
    )
    if result.ok:
        messages.success(request, _("Case reopened."))
    return redirect(_case_url(reference, "closure" if not result.ok else ""))


@require_GET
@member_required(**ASSOCIATION_STAFF)
def case_timeline(request: HttpRequest, reference: str) -> HttpResponse:
    """The merged history (GET /api/v1/cases/{ref}/timeline/, logged the same way)."""
    case = case_selectors.case_get_for_user(
        user=request.user, reference=reference, log=AccessAction.CASE_TIMELINE
    )
    return render(
        request,
        "web/association/case_timeline.html",
        {"case": case, "events": build_timeline(case)},
    )


# --- workload -----------------------------------------------------------------------


@require_GET
@member_required(kinds={AgencyKind.ASSOCIATION}, roles={Role.MANAGER})
def workload(request: HttpRequest) -> HttpResponse:
    """The manager's view of the association (GET /api/v1/workload/)."""
    return render(
        request,
        "web/association/workload.html",
        {"workload": case_selectors.workload_for(user=request.user)},
    )
