"""The pages of a person a case is shared with: the cases shared with them and
one case, the parts shared only (every read logged)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases import selectors as case_selectors
from cases import services as case_services

from ..access import member_required

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
