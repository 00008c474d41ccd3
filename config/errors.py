"""The project's 404 and 500 answers (handler404/handler500 in config/urls.py):
the API's error shape under /api/, the site's own pages everywhere else. They
live here, above both adapters, so that api/ and web/ never import each other."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from api.exceptions import error_body


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(status_code=404, code="not_found", message=_("Not found.")), status=404
        )
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(status_code=500, code="server_error", message=_("Server error.")),
            status=500,
        )
    return defaults.server_error(request)
