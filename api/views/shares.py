"""Sharing a case for a purpose (issue 12): the owning association shares one
case read-only with a named person of another agency, on the parts the purpose
needs, until a date; the person reads it under /shared-cases/ (every read
logged). Rules live in cases.services and cases.selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors, services
from cases.models import CaseShare, SharePart, SharePurpose

from ..schema import NOT_FOUND, UNAUTHORIZED
from .cases import NoteOutputSerializer, StepOutputSerializer
from .common import (
    CONFLICT,
    FORBIDDEN,
    WRITE_ERRORS,
    AssociationRefSerializer,
    PersonOutputSerializer,
)


class ShareInputSerializer(serializers.Serializer):
    grantee = serializers.CharField(
        max_length=150, help_text="The username of the person the case is shared with."
    )
    purpose = serializers.ChoiceField(choices=SharePurpose.choices)
    purpose_detail = serializers.CharField(max_length=200, help_text="What they need it for.")
    parts = serializers.ListField(
        child=serializers.ChoiceField(choices=SharePart.choices),
        min_length=1,
        max_length=len(SharePart.values),
        help_text="What they may read: profile, plan, notes.",
    )
    until = serializers.DateField(help_text="The last day of the share.")


class ShareOutputSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.reference")
    grantee = serializers.CharField(source="grantee.username")
    grantee_agency = AssociationRefSerializer()
    shared_by = serializers.CharField(source="shared_by.username")
    parts = serializers.ListField(child=serializers.ChoiceField(choices=SharePart.choices))

    class Meta:
        model = CaseShare
        fields = [
            "id",
            "case",
            "grantee",
            "grantee_agency",
            "purpose",
            "purpose_detail",
            "parts",
            "until",
            "shared_by",
            "shared_at",
            "ended_at",
            "end_reason",
        ]


class CaseShareListView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_shares_list",
        description="Who the case is or was shared with (owning association).",
        responses={200: ShareOutputSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        return Response(ShareOutputSerializer(selectors.case_shares(case=case), many=True).data)

    @extend_schema(
        tags=["cases"],
        operation_id="cases_shares_create",
        description=(
            "Share the case read-only with a named person of another agency (the CRIP "
            "officer for a minor, a lawyer, a health worker, an interpreter) for a purpose, "
            "on the parts it needs, until a date (at most MNR_SHARE_MAX_DAYS days). "
            "Refused for analysts, platform administrators and the referral's own author."
        ),
        request=ShareInputSerializer,
        responses={201: ShareOutputSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "crip",
                value={
                    "grantee": "crip.officer",
                    "purpose": "child_protection",
                    "purpose_detail": "Évaluation de la situation de l'enfant",
                    "parts": ["profile", "plan"],
                    "until": "2027-01-31",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        data = ShareInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        share = services.share_create(
            case_id=case.pk,
            actor=request.user,
            grantee_username=v["grantee"],
            purpose=v["purpose"],
            purpose_detail=v["purpose_detail"],
            parts=v["parts"],
            until=v["until"],
        )
        return Response(ShareOutputSerializer(share).data, status=status.HTTP_201_CREATED)


class CaseShareEndView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_shares_end",
        description="End a share before its date (owning association).",
        request=None,
        responses={
            200: ShareOutputSerializer,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, reference: str, share_id: int) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        share = selectors.case_share_get(case=case, share_id=share_id)
        share = services.share_end(share_id=share.pk, actor=request.user)
        return Response(ShareOutputSerializer(share).data)


class SharedCaseItemSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.reference")
    association = AssociationRefSerializer(source="case.association")
    shared_by = serializers.CharField(source="shared_by.username")
    parts = serializers.ListField(child=serializers.ChoiceField(choices=SharePart.choices))

    class Meta:
        model = CaseShare
        fields = [
            "id",
            "case",
            "association",
            "purpose",
            "purpose_detail",
            "parts",
            "until",
            "shared_by",
        ]


class SharedCaseSerializer(serializers.Serializer):
    reference = serializers.CharField(source="case.reference")
    status = serializers.CharField(source="case.status")
    association = AssociationRefSerializer(source="case.association")
    share = SharedCaseItemSerializer()
    parts = serializers.ListField(child=serializers.ChoiceField(choices=SharePart.choices))
    person = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()

    @extend_schema_field(PersonOutputSerializer(allow_null=True))
    def get_person(self, shared: selectors.SharedCase) -> dict | None:
        if SharePart.PROFILE not in shared.parts:
            return None
        return PersonOutputSerializer(shared.case.referral.person).data

    @extend_schema_field(StepOutputSerializer(many=True, allow_null=True))
    def get_steps(self, shared: selectors.SharedCase) -> list | None:
        if SharePart.PLAN not in shared.parts:
            return None
        return StepOutputSerializer(shared.case.shown_steps, many=True).data

    @extend_schema_field(NoteOutputSerializer(many=True, allow_null=True))
    def get_notes(self, shared: selectors.SharedCase) -> list | None:
        if SharePart.NOTES not in shared.parts:
            return None
        return NoteOutputSerializer(shared.case.shown_notes, many=True).data


class SharedCaseListView(APIView):
    @extend_schema(
        tags=["shared-cases"],
        operation_id="shared_cases_list",
        description="The cases shared with me now (no identity in the list).",
        responses={200: SharedCaseItemSerializer(many=True), 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        shares = selectors.shared_case_list_for(user=request.user)
        return Response(SharedCaseItemSerializer(shares, many=True).data)


class SharedCaseDetailView(APIView):
    @extend_schema(
        tags=["shared-cases"],
        operation_id="shared_cases_retrieve",
        description=(
            "A case shared with me: only the parts shared (the others are null); every "
            "read is written to the access log."
        ),
        responses={200: SharedCaseSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> Response:
        shared = selectors.shared_case_get_for_user(user=request.user, reference=reference)
        return Response(SharedCaseSerializer(shared).data)
