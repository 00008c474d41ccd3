"""The statistics dashboard (docs/statistics.md) and its CSV download.

Who sees what is stats.selectors.scope_for's decision, as for the API: national
figures for MIPROF's analysts and the coordination desk, their association's
for a manager, nothing for anyone else (403, logged). The figures come from
stats.reports.report (the yearly survey) and stats.selectors.table (any
crossing); every release shown or downloaded is written to the access log by
stats.export, the API's own function, and the CSV is stats.export.release_csv,
byte for byte the API's ``format=csv``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.throttling import SimpleRateThrottle

from stats.export import release_csv, release_log, report_log
from stats.reports import report
from stats.selectors import parse_by, publication_time, scope_for, table

from ..access import member_required
from ..charts import (
    BAR_COLOUR,
    MEASURE_LABELS,
    MUTED_COLOUR,
    TEXT_COLOUR,
    Labeller,
    dimension_label,
    release_view,
)
from ..errors import run_service
from ..forms.statistics import BY_FIELDS, FILTERS, CrossingForm, SurveyForm

SURVEY_TITLES = {
    "identified_by_form": gettext_lazy("Victims identified (referrals), by form of exploitation"),
    "supported_by_form": gettext_lazy("Victims supported (cases), by form of exploitation"),
    "sex_by_form": gettext_lazy("Victims identified, by sex and form of exploitation"),
    "minors_by_form": gettext_lazy("Victims identified, minors and adults, by form"),
    "exploited_abroad_only": gettext_lazy("Victims identified, exploited abroad only"),
    "complaint_filed": gettext_lazy("Victims supported, complaint filed"),
}


def _crossing(request: HttpRequest, labeller: Labeller) -> tuple[CrossingForm, dict | None]:
    """The crossing form and, when asked for and valid, the protected release
    (logged as an export)."""
    asked = "by" in request.GET
    form = CrossingForm(
        request.GET if asked else None,
        labeller=labeller,
        initial={"measure": "referrals", "by": "exploitation_form"},
    )
    if not asked or not form.is_valid():
        return form, None
    parsed = run_service(request, parse_by, form=form, value=form.by_value())
    if not parsed.ok:
        return form, None
    filters = form.filters()
    released = run_service(
        request,
        table,
        form=form,
        measure=form.cleaned_data["measure"],
        by=parsed.value,
        period=form.cleaned_data["period"] or None,
        filters=filters,
        user=request.user,
    )
    if not released.ok:
        return form, None
    release_log(
        actor=request.user,
        measure=form.cleaned_data["measure"],
        by=parsed.value,
        filters=filters,
        release=released.value,
    )
    return form, released.value


def _survey(request: HttpRequest) -> tuple[SurveyForm, dict | None]:
    year = request.GET.get("year") or str(timezone.localdate().year)
    form = SurveyForm({"year": year})
    if not form.is_valid():
        return form, None
    result = run_service(request, report, form=form, name="survey", period=year, user=request.user)
    if not result.ok:
        return form, None
    report_log(actor=request.user, name="survey", period=year)
    return form, result.value


def _hidden(request: HttpRequest, names: list[str]) -> list[tuple[str, str]]:
    """The other form's values, carried along so that both sections keep theirs."""
    return [(k, v) for k, v in request.GET.items() if k in names and v]


def _dashboard(
    request: HttpRequest,
    *,
    form: CrossingForm,
    release: dict | None,
    labeller: Labeller,
    scope: Any,
) -> HttpResponse:
    survey_form, survey = _survey(request)
    survey_views = []
    if survey is not None:
        survey_views = [
            release_view(data, key=key, title=str(SURVEY_TITLES.get(key, key)), labeller=labeller)
            for key, data in survey["tables"].items()
        ]
    crossing_view = None
    if release is not None:
        title = _("%(measure)s by %(dimensions)s") % {
            "measure": MEASURE_LABELS[release["measure"]],
            "dimensions": " × ".join(str(dimension_label(n)) for n in release["dimensions"]),
        }
        if release["period"]:
            title += f" — {release['period']}"
        crossing_view = release_view(release, key="crossing", title=title, labeller=labeller)
    crossing_names = ["measure", *BY_FIELDS, "period", *FILTERS]
    invalid = bool(form.errors or survey_form.errors)
    return render(
        request,
        "web/statistics/dashboard.html",
        {
            "form": form,
            "survey_form": survey_form,
            "survey": survey,
            "survey_views": survey_views,
            "crossing": crossing_view,
            "csv_query": request.GET.urlencode() if release is not None else "",
            "scope_national": scope.association_id is None,
            "published_at": publication_time(),
            "filter_fields": [form[name] for name in FILTERS],
            "by_fields": [form[name] for name in BY_FIELDS],
            "filters_open": any(request.GET.get(name) for name in FILTERS),
            "crossing_hidden": _hidden(request, ["year"]),
            "survey_hidden": _hidden(request, crossing_names),
            "colours": {"bar": BAR_COLOUR, "text": TEXT_COLOUR, "muted": MUTED_COLOUR},
        },
        status=400 if invalid else 200,
    )


class StatsThrottle(SimpleRateThrottle):
    """The API's `stats` allowance (MNR_THROTTLE_STATS), shared with it: the
    same cache key per user, whichever adapter asks."""

    scope = "stats"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


def _throttled(request: HttpRequest) -> HttpResponse | None:
    if StatsThrottle().allow_request(request, None):
        return None
    return render(
        request,
        "web/error.html",
        {"error_messages": [_("Too many statistics requests: wait a minute and try again.")]},
        status=429,
    )


@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)  # NotAllowed → the 403 page, logged
    if refused := _throttled(request):
        return refused
    labeller = Labeller()
    form, release = _crossing(request, labeller)
    return _dashboard(request, form=form, release=release, labeller=labeller, scope=scope)


@member_required()
def csv_download(request: HttpRequest) -> HttpResponse:
    """The crossing of the dashboard as CSV: the API's ``format=csv`` rendering.
    Bad parameters give the dashboard with its field errors."""
    scope = scope_for(request.user)
    if refused := _throttled(request):
        return refused
    labeller = Labeller()
    form, release = _crossing(request, labeller)
    if release is None:
        if not form.is_bound:
            form = CrossingForm({}, labeller=labeller)
            form.is_valid()
        return _dashboard(request, form=form, release=None, labeller=labeller, scope=scope)
    name = "-".join(["mnr", release["measure"], *release["dimensions"]])
    if release["period"]:
        name += f"-{release['period']}"
    response = HttpResponse(release_csv(release), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
