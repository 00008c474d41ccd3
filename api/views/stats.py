"""Anonymised statistics for MIPROF (docs/statistics.md): JSON or CSV (`?format=csv`).
Only protected aggregates (the cell-key method, docs/statistics.md); every
release is written to the access log; throttled per user (`stats` scope)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from audit.models import AccessAction
from audit.services import access_log_write
from common.errors import ValidationFailed
from stats.dimensions import DIMENSIONS
from stats.export import release_csv, release_log, report_log
from stats.reports import REPORTS, report
from stats.selectors import acceptance_delays, parse_by, table

from ..schema import BAD_REQUEST, THROTTLED, UNAUTHORIZED
from .common import FORBIDDEN

RESERVED = {"by", "period", "format", "privacy"}
THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, ScopedRateThrottle]


class StatsThrottled(APIView):
    """Every statistics view: the default throttles plus the `stats` scope
    (MNR_THROTTLE_STATS per user), since each release costs a grouped query."""

    throttle_classes = THROTTLES
    throttle_scope = "stats"


def _filters(request: Request) -> dict[str, str]:
    """Query parameters naming a dimension are filters (`sex=female`)."""
    return {
        key: value
        for key, value in request.query_params.items()
        if key not in RESERVED and key in DIMENSIONS
    }


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        # Errors and anything but a release (OPTIONS' description) stay JSON-shaped.
        if "error" in data or "dimensions" not in data:
            return JSONRenderer().render(data)
        return release_csv(data).encode()


_DIMENSION = "(" + "|".join(DIMENSIONS) + ")"
STATS_PARAMETERS = [
    OpenApiParameter(
        "by",
        OpenApiTypes.STR,
        required=True,
        pattern=f"^{_DIMENSION}(,{_DIMENSION}){{0,3}}$",
        description=(
            "One to four different dimensions, comma-separated: " + ", ".join(DIMENSIONS) + "."
        ),
    ),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        pattern=r"^(20[0-9]{2}|2100)(-(Q[1-4]|0[1-9]|1[0-2]))?$",
        description="`2025`, `2025-Q3` or `2025-07` (years 2000 to 2100).",
    ),
    OpenApiParameter(
        "format", OpenApiTypes.STR, enum=["json", "csv"], description="`csv` for a CSV file."
    ),
    OpenApiParameter(
        "privacy",
        OpenApiTypes.STR,
        enum=["cell-key"],
        description=(
            "Every release is protected by the cell-key method (the only value); "
            "differential privacy on demand is no longer offered (400)."
        ),
    ),
    *(
        OpenApiParameter(
            name,
            OpenApiTypes.STR,
            description=f"Filter: only what has this `{name}` (e.g. `sex=female`).",
        )
        for name, dimension in DIMENSIONS.items()
        if dimension.filterable
    ),
]


class StatsView(StatsThrottled):
    measure = "referrals"
    renderer_classes = [JSONRenderer, CSVRenderer]

    def get(self, request: Request) -> Response:
        by = parse_by(request.query_params.get("by"))
        filters = _filters(request)
        if request.query_params.get("privacy", "cell-key") != "cell-key":
            raise ValidationFailed(
                _("Invalid input."),
                fields={
                    "privacy": [
                        _(
                            "Every release is protected by the cell-key method; differential "
                            "privacy on demand is no longer offered."
                        )
                    ]
                },
            )
        release = table(
            measure=self.measure,
            by=by,
            period=request.query_params.get("period"),
            filters=filters,
            user=request.user,
        )
        release_log(
            actor=request.user, measure=self.measure, by=by, filters=filters, release=release
        )
        return Response(release)


RESPONSES = {
    200: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description=(
            '`{"measure", "dimensions", "rows": [{<dimension>: value, "count": n | null, '
            '"suppressed": bool}], "totals": [... "*" for a summed dimension ...], '
            '"privacy": "cell-key", "threshold": k, "max_noise": d, "published_at", ...}`. '
            "Every cell of the dimensions' domains is listed; each figure is perturbed by at "
            "most d, the same way every time, and figures under k are null."
        ),
    ),
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    429: THROTTLED,
}


class ReferralStatsView(StatsView):
    measure = "referrals"

    @extend_schema(
        tags=["statistics"],
        operation_id="stats_referrals",
        parameters=STATS_PARAMETERS,
        responses=RESPONSES,
        description=(
            "Referrals (victims identified), by up to four dimensions. Analysts and the "
            "coordination desk: national figures; an association's manager: the referrals "
            "with their association now (awaiting its answer, or whose case it holds; not "
            "those it declined or transferred)."
        ),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class CaseStatsView(StatsView):
    measure = "cases"

    @extend_schema(
        tags=["statistics"],
        operation_id="stats_cases",
        parameters=STATS_PARAMETERS,
        responses=RESPONSES,
        description=(
            "Cases (victims supported), by up to four dimensions; periods by the "
            "case's opening date. Same roles as referrals; a manager sees their "
            "association's cases."
        ),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class DelayStatsView(StatsThrottled):
    @extend_schema(
        tags=["statistics"],
        operation_id="stats_acceptance_delays",
        parameters=[p for p in STATS_PARAMETERS if p.name not in ("privacy", "format")],
        responses=RESPONSES,
        description=(
            "Days from submission to acceptance (median, p90, whole days) per cell, with "
            "the protected counts; a cell's delays are shown only when the number of "
            "accepted referrals they are computed from (`accepted_count`) is shown and "
            "reaches the threshold. PostgreSQL only (percentiles computed in SQL)."
        ),
    )
    def get(self, request: Request) -> Response:
        by = parse_by(request.query_params.get("by"))
        filters = _filters(request)
        release = acceptance_delays(
            by=by, period=request.query_params.get("period"), filters=filters, user=request.user
        )
        access_log_write(
            action=AccessAction.STATS_EXPORT,
            actor=request.user,
            target_type="stats",
            target_id="days_to_acceptance",
            detail={"by": by, "period": release["period"], "filters": filters},
        )
        return Response(release)


class ReportView(StatsThrottled):
    @extend_schema(
        tags=["statistics"],
        operation_id="stats_report",
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(REPORTS)),
            OpenApiParameter(
                "year",
                OpenApiTypes.STR,
                pattern=r"^(20[0-9]{2}|2100)$",
                description="`survey`: the year, e.g. 2025.",
            ),
            OpenApiParameter(
                "quarter",
                OpenApiTypes.STR,
                pattern=r"^(20[0-9]{2}|2100)-Q[1-4]$",
                description="`uk-nrm`: the quarter, e.g. 2025-Q3.",
            ),
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='`{"report", "period", "tables": {name: release}}`.',
            ),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            429: THROTTLED,
        },
        description=(
            "`survey`: France's yearly survey of victims followed by associations "
            "(identified vs supported by form, sex × form, minors, exploited abroad only, "
            "complaint filed). `uk-nrm`: the UK NRM quarterly layout (referring sector, "
            "exploitation type, age group, sex, nationality)."
        ),
    )
    def get(self, request: Request, name: str) -> Response:
        period = request.query_params.get("year") or request.query_params.get("quarter")
        body = report(name=name, period=period, user=request.user)
        report_log(actor=request.user, name=name, period=period)
        return Response(body)
