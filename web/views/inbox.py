"""The association's inbox: the routings waiting for its answer (accept or
decline, with the referral as the API shows it to a routed association) and
the transfers other associations ask it to take (accept or reject)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import selectors as case_selectors
from cases import services as case_services
from cases.filters import TransferFilter
from cases.models import TransferStatus
from referral import selectors as referral_selectors
from referral import services as referral_services
from referral.models import Routing, RoutingOutcome

from .. import present
from ..access import ASSOCIATION_STAFF, member_required
from ..errors import run_service
from ..forms.association import (
    DeclineForm,
    TransferRejectForm,
)
from ..templatetags.association import duration_text

# --- inbox --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLeft:
    overdue: bool
    text: str


def time_left(respond_by, now) -> TimeLeft:
    if respond_by <= now:
        return TimeLeft(True, _("Overdue by %(time)s") % {"time": duration_text(now - respond_by)})
    return TimeLeft(False, duration_text(respond_by - now))


def incoming_transfers(request: HttpRequest):
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
    transfers = list(incoming_transfers(request))
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
        summary = present.indicator_summary(referral)
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
