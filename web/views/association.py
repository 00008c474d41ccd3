"""Association pages (caseworkers and managers of an accredited association):
the inbox of routings, a routing's referral with accept / decline, the case
list and the case page (profile, protection plan, notes, assignment, transfer,
closure), the timeline and the manager's workload.

A thin adapter, like api/views/referrals.py and api/views/cases.py: every read
goes through the same selector as the API (so the same 404s and the same
access-log entries), every write through the same service (so the same rules,
history and optimistic-concurrency checks). The only check made here is the
role gate of ``member_required``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agencies.models import STAFF_ROLES, AgencyKind, Role
from agencies.selectors import agency_directory
from audit.models import AccessAction
from audit.services import access_log_list
from cases import selectors as case_selectors
from cases import services as case_services
from cases.filters import CaseFilter, TransferFilter
from cases.models import Case, ProtectionStep, StepStatus, TransferStatus
from records.timeline import build_timeline
from referral import indicators
from referral import selectors as referral_selectors
from referral import services as referral_services
from referral.models import Routing, RoutingOutcome

from ..access import member_required
from ..errors import run_service
from ..forms.association import (
    CaseAssignForm,
    CaseFilterForm,
    CloseForm,
    DeclineForm,
    NoteForm,
    ReopenForm,
    ShareForm,
    StepAddForm,
    StepStatusForm,
    TransferForm,
    TransferRejectForm,
)
from ..templatetags.association import duration_text

ASSOCIATION_STAFF = {"kinds": {AgencyKind.ASSOCIATION}, "roles": STAFF_ROLES}
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


# --- inbox --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLeft:
    overdue: bool
    text: str


def time_left(respond_by, now) -> TimeLeft:
    if respond_by <= now:
        return TimeLeft(True, _("Overdue by %(time)s") % {"time": duration_text(now - respond_by)})
    return TimeLeft(False, duration_text(respond_by - now))


def _incoming_transfers(request: HttpRequest):
    """Pending transfers to the user's association (the API's ?direction=in)."""
    return TransferFilter(
        data={"direction": "in", "status": TransferStatus.PENDING},
        queryset=case_selectors.transfer_list_for(user=request.user),
        request=request,
    ).qs


@require_GET
@member_required(**ASSOCIATION_STAFF)
def inbox(request: HttpRequest) -> HttpResponse:
    """Pending routings, soonest deadline first (GET /api/v1/routings/?outcome=pending),
    and the transfers other associations ask this one to take."""
    now = timezone.now()
    routings = list(
        referral_selectors.routing_list_for(user=request.user).filter(
            outcome=RoutingOutcome.PENDING
        )
    )
    for routing in routings:
        routing.time_left = time_left(routing.respond_by, now)
    transfers = list(_incoming_transfers(request))
    return render(
        request,
        "web/association/inbox.html",
        {
            "routings": routings,
            "transfers": transfers,
            "danger_hours": settings.MNR_ROUTING_DEADLINE_DANGER_HOURS,
        },
    )


# --- routing ------------------------------------------------------------------------


def _render_routing(
    request: HttpRequest, routing: Routing, decline_form: DeclineForm | None = None
) -> HttpResponse:
    referral = summary = None
    if routing.outcome == RoutingOutcome.PENDING:
        # The referral as the API shows it to a routed association (logged read).
        referral = referral_selectors.referral_get_for_user(
            user=request.user, reference=routing.referral.reference
        )
        dimensions = {
            d["code"]: d["label"]
            for d in indicators.localised(referral.indicator_list_version, get_language() or "fr")[
                "dimensions"
            ]
        }
        summary = [
            {"label": dimensions.get(row.dimension, row.dimension), "row": row}
            for row in referral_selectors.referral_indicator_summary(referral)
        ]
    routing.time_left = time_left(routing.respond_by, timezone.now())
    return render(
        request,
        "web/association/routing_detail.html",
        {
            "routing": routing,
            "referral": referral,
            "indicator_summary": summary,
            "form": decline_form or DeclineForm(),
            "danger_hours": settings.MNR_ROUTING_DEADLINE_DANGER_HOURS,
        },
    )


@require_GET
@member_required(**ASSOCIATION_STAFF)
def routing_detail(request: HttpRequest, routing_id: int) -> HttpResponse:
    routing = referral_selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
    return _render_routing(request, routing)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def routing_accept(request: HttpRequest, routing_id: int) -> HttpResponse:
    routing = referral_selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
    result = run_service(
        request, referral_services.routing_accept, routing_id=routing.pk, actor=request.user
    )
    if not result.ok:
        return redirect("web:routing-detail", routing_id=routing.pk)
    messages.success(request, _("Referral accepted: the case is open."))
    return redirect("web:case-detail", reference=result.value.reference)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def routing_decline(request: HttpRequest, routing_id: int) -> HttpResponse:
    routing = referral_selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
    form = DeclineForm(request.POST)
    if form.is_valid():
        result = run_service(
            request,
            referral_services.routing_decline,
            form=form,
            routing_id=routing.pk,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if result.ok:
            messages.success(
                request,
                _("Referral %(reference)s declined: it goes to the next association.")
                % {"reference": routing.referral.reference},
            )
            return redirect("web:inbox")
        if not form.errors:
            return redirect("web:routing-detail", routing_id=routing.pk)
    return _render_routing(request, routing, decline_form=form)


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
            "transfers": list(_incoming_transfers(request)),
        },
    )


# --- case page ----------------------------------------------------------------------


def _staff(request: HttpRequest) -> list:
    return list(case_selectors.association_staff(user=request.user))


def _render_case(request: HttpRequest, reference: str, **bound: Any) -> HttpResponse:
    """The case page. ``bound`` holds a submitted form to show again with its
    errors (step_form, note_form, assign_form, transfer_form, close_form)."""
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
        associations = [
            agency
            for agency in agency_directory(kind=AgencyKind.ASSOCIATION)
            if agency.active and agency.pk != case.association_id
        ]
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
    associations = agency_directory(kind=AgencyKind.ASSOCIATION).exclude(pk=case.association_id)
    form = TransferForm(request.POST, associations=associations)
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


SHARE_GRANTEES = {"roles": case_services.SHARE_GRANTEE_ROLES}


@require_GET
@member_required(**SHARE_GRANTEES)
def shared_case_list(request: HttpRequest) -> HttpResponse:
    """The cases shared with me (GET /api/v1/shared-cases/)."""
    shares = list(case_selectors.shared_case_list_for(user=request.user))
    return render(request, "web/shared/shared_case_list.html", {"shares": shares})


@require_GET
@member_required(**SHARE_GRANTEES)
def shared_case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One case shared with me, the parts shared only (every read logged)."""
    shared = case_selectors.shared_case_get_for_user(user=request.user, reference=reference)
    return render(request, "web/shared/shared_case_detail.html", {"shared": shared})


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


# --- transfers ----------------------------------------------------------------------


@require_POST
@member_required(**ASSOCIATION_STAFF)
def transfer_accept(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = case_selectors.transfer_get_for_user(user=request.user, transfer_id=transfer_id)
    result = run_service(
        request, case_services.transfer_accept, transfer_id=transfer.pk, actor=request.user
    )
    if not result.ok:
        return redirect("web:inbox")
    messages.success(request, _("Transfer accepted: the case is now with your association."))
    return redirect("web:case-detail", reference=transfer.case.reference)


@require_POST
@member_required(**ASSOCIATION_STAFF)
def transfer_reject(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = case_selectors.transfer_get_for_user(user=request.user, transfer_id=transfer_id)
    form = TransferRejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    result = run_service(
        request,
        case_services.transfer_reject,
        transfer_id=transfer.pk,
        actor=request.user,
        reason=reason,
    )
    if result.ok:
        messages.success(
            request, _("Transfer rejected: the case stays with the other association.")
        )
    return redirect("web:inbox")


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
