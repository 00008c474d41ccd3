"""Directory of agencies and reference lists (no personal data)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Accreditation, Agency, AgencyKind
from agencies.selectors import agency_directory, departement_list
from common.choices import ExploitationForm

from ..schema import NOT_FOUND, UNAUTHORIZED


class AccreditationOutputSerializer(serializers.ModelSerializer):
    departements = serializers.SerializerMethodField()

    class Meta:
        model = Accreditation
        fields = [
            "valid_from",
            "valid_until",
            "exploitation_forms",
            "publics",
            "national",
            "departements",
            "capacity",
            "languages",
            "secure_relocation",
        ]

    def get_departements(self, accreditation: Accreditation) -> list[str]:
        return [d.code for d in accreditation.departements.all()]


class AgencyOutputSerializer(serializers.ModelSerializer):
    departement = serializers.CharField(source="departement_id", allow_null=True)
    region = serializers.SerializerMethodField()
    accreditations = AccreditationOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Agency
        fields = [
            "id",
            "name",
            "kind",
            "sector",
            "departement",
            "region",
            "active",
            "accreditations",
        ]

    def get_region(self, agency: Agency) -> str | None:
        return agency.departement.region_id if agency.departement else None


class AgencyFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AgencyKind.choices)
    departement = django_filters.CharFilter(field_name="departement_id")
    active = django_filters.BooleanFilter()

    class Meta:
        model = Agency
        fields = ["kind", "departement", "active"]


@extend_schema_view(
    get=extend_schema(
        tags=["directory"],
        operation_id="agencies_list",
        description=(
            "Directory of agencies with their current and future accreditations. "
            "Any signed-in user. Holds no personal data."
        ),
        responses={200: AgencyOutputSerializer(many=True), 401: UNAUTHORIZED},
    )
)
class AgencyListView(generics.ListAPIView):
    serializer_class = AgencyOutputSerializer
    filterset_class = AgencyFilter

    def get_queryset(self):
        return agency_directory()


@extend_schema_view(
    get=extend_schema(
        tags=["directory"],
        operation_id="agencies_retrieve",
        description="One agency: name, kind, sector, département and its accreditations (no personal data).",
        responses={200: AgencyOutputSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
)
class AgencyDetailView(generics.RetrieveAPIView):
    serializer_class = AgencyOutputSerializer

    def get_queryset(self):
        return agency_directory()


class DepartementOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    region = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.name")


class DepartementListView(APIView):
    @extend_schema(
        tags=["reference"],
        operation_id="reference_departements",
        description="The 101 départements (INSEE Code officiel géographique) and their region.",
        responses={200: DepartementOutputSerializer(many=True), 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        return Response(DepartementOutputSerializer(departement_list(), many=True).data)


class CodeLabelSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ExploitationFormListView(APIView):
    @extend_schema(
        tags=["reference"],
        operation_id="reference_exploitation_forms",
        description=(
            "Forms of exploitation (article 225-4-1 of the code pénal). "
            "Labels follow the request's language (Accept-Language: fr or en)."
        ),
        responses={200: CodeLabelSerializer(many=True), 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        rows = [{"code": c.value, "label": str(c.label)} for c in ExploitationForm]
        return Response(CodeLabelSerializer(rows, many=True).data)
