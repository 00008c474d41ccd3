"""Case timeline, GDPR access export and the access-log API."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AccessAction, AccessLog
from audit.services import access_log_query, detail_shown
from cases import selectors as case_selectors
from common.parsing import IdFilter
from records.export import case_export
from records.selectors import access_log_visible_to
from records.timeline import build_timeline

from ..schema import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED
from .common import FORBIDDEN


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    event = serializers.CharField(help_text="Stable code, e.g. `step_status`, `case_closed`.")
    text = serializers.CharField(help_text="Readable, in the request's language.")
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()


class TimelineSerializer(serializers.Serializer):
    reference = serializers.CharField()
    events = EventSerializer(many=True)


class CaseTimelineView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_timeline",
        responses={200: TimelineSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
        description=(
            "The merged history of the case, its referral and routings, steps, notes "
            "(metadata only) and transfers, oldest first. Owning association only."
        ),
    )
    def get(self, request: Request, reference: str) -> Response:
        case = case_selectors.case_get_for_user(
            user=request.user, reference=reference, log=AccessAction.CASE_TIMELINE
        )
        body = {"reference": case.reference, "events": build_timeline(case)}
        return Response(TimelineSerializer(body).data)


class CaseExportView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_export",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The whole record, as JSON."),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        description=(
            "GDPR access export of the person's whole record (format "
            "`mnr-access-export-2`, docs/access-export.md), for the owning association's "
            "manager: the person, the referral and its routings, the case, their full "
            "history, the access-log entries about them and the same person's other "
            "records the association holds. Free text is wrapped for review and its paths "
            "listed in `review`. Logged."
        ),
    )
    def get(self, request: Request, reference: str) -> Response:
        case = case_selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        return Response(case_export(case=case, actor=request.user))


class AccessLogSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username")
    agency = serializers.IntegerField(source="agency_id", allow_null=True)
    # Empty on a refusal read by an agency's manager (records.selectors).
    target_id = serializers.CharField(source="shown_target")
    detail = serializers.SerializerMethodField()

    class Meta:
        model = AccessLog
        fields = [
            "id",
            "created_at",
            "actor",
            "agency",
            "action",
            "target_type",
            "target_id",
            "ip",
            "request_id",
            "detail",
            "hash",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_detail(self, entry: AccessLog) -> dict:
        return detail_shown(entry.detail)


class AccessLogFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_username")
    agency = IdFilter(field_name="agency_id")
    action = django_filters.ChoiceFilter(choices=AccessAction.choices)
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter(field_name="shown_target")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = AccessLog
        fields = [
            "actor",
            "agency",
            "action",
            "target_type",
            "target_id",
            "created_after",
            "created_before",
        ]


@extend_schema_view(
    get=extend_schema(
        tags=["audit"],
        operation_id="audit_access_log_list",
        description=(
            "The access log, newest first: every detail read, export, sign-in, failed "
            "sign-in, refusal, token creation and revocation. The platform admin sees "
            "all entries; an agency's manager sees their agency's."
        ),
        responses={
            200: AccessLogSerializer(many=True),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
        },
    )
)
class AccessLogListView(generics.ListAPIView):
    queryset = AccessLog.objects.none()  # for the schema; requests use the selector
    serializer_class = AccessLogSerializer
    filterset_class = AccessLogFilter

    def get_queryset(self):
        return access_log_visible_to(user=self.request.user)

    def filter_queryset(self, queryset):
        # Filters are validated first (a 400 naming the parameter, nothing
        # written); the reading is then logged with the filters asked, never with
        # other query text (a NUL byte there once broke the JSON column: 500).
        queryset = super().filter_queryset(queryset)
        asked = {
            name: value
            for name, value in self.request.query_params.items()
            if name in AccessLogFilter.base_filters and value
        }
        access_log_query(actor=self.request.user, asked=asked)
        return queryset
