"""Identification files (docs/identification.md, docs/api.md): the unit's
queue and dashboard, a file as each reader may see it, the unit's decision,
and the association's work on the file (evidence, submission for the formal
decision, reconsideration). Thin: rules live in identification/.

About 400 lines: each operation's serializers sit beside its view with the
OpenAPI examples the schema publishes, and one output serializer presents
the file to each kind of reader; the logic is all in identification/.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AccessAction
from identification import selectors, services
from identification.models import (
    Decision,
    Evidence,
    EvidenceSection,
    Identification,
    NegativeReason,
    Outcome,
    Reconsideration,
    Status,
    WithdrawalReason,
)

from ..etags import etag, expected_version
from ..schema import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED
from .common import FORBIDDEN, WRITE_ERRORS, AssociationRefSerializer


class IdentificationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    minor = django_filters.BooleanFilter()
    immediate_danger = django_filters.BooleanFilter()

    class Meta:
        model = Identification
        fields = ["status", "minor", "immediate_danger"]


# --- output -------------------------------------------------------------------------


class DecisionOutputSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username")

    class Meta:
        model = Decision
        fields = [
            "stage",
            "outcome",
            "reasons",
            "explanation",
            "reconsideration",
            "decided_by",
            "decided_at",
        ]


class EvidenceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "section", "indicator", "on_date", "text", "added_at"]


class ReconsiderationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reconsideration
        fields = ["stage", "new_elements", "requested_at"]


class ReferralFactsSerializer(serializers.Serializer):
    """What the unit decides on: facts, no identity."""

    exploitation_forms = serializers.ListField(child=serializers.CharField())
    exploitation_other_detail = serializers.CharField(allow_blank=True)
    exploitation_departement = serializers.CharField(
        source="exploitation_departement_id", allow_null=True
    )
    exploitation_country = serializers.CharField(allow_blank=True)
    indicators = serializers.ListField(child=serializers.CharField())
    indicator_list_version = serializers.CharField()
    needs = serializers.ListField(child=serializers.CharField())
    narrative = serializers.CharField(allow_blank=True)
    sex = serializers.CharField(source="person.sex")
    age_years = serializers.IntegerField(source="person.age_years", allow_null=True)
    nationality = serializers.CharField(source="person.nationality", allow_blank=True)
    languages = serializers.ListField(source="person.languages", child=serializers.CharField())
    submitted_at = serializers.DateTimeField()


# Which fields each reader gets (selectors.VIEWER_*).
UNIT_FIELDS = {
    "reference", "status", "stage", "unit", "minor", "immediate_danger", "opened_at",
    "decide_by", "recovery_starts_on", "recovery_ends_on", "reconsider_until",
    "referral", "evidence", "decisions", "reconsiderations", "etag",
}  # fmt: skip
ASSOCIATION_FIELDS = UNIT_FIELDS - {"referral"}
REFERRER_FIELDS = {"reference", "status", "stage"}
DESK_FIELDS = {
    "reference", "status", "stage", "unit", "minor", "immediate_danger", "opened_at",
    "decide_by", "escalated_at",
}  # fmt: skip
FIELDS_BY_VIEWER = {
    selectors.VIEWER_UNIT: UNIT_FIELDS,
    selectors.VIEWER_ASSOCIATION: ASSOCIATION_FIELDS,
    selectors.VIEWER_REFERRER: REFERRER_FIELDS,
    selectors.VIEWER_DESK: DESK_FIELDS,
}


class IdentificationOutputSerializer(serializers.Serializer):
    """One file. The unit sees the referral's facts; the association the
    decisions with their reasons; the referrer the stage and status only; the
    coordination desk the deadline of an overdue file. Fields a reader does not
    get are absent."""

    reference = serializers.CharField(source="referral.reference")
    status = serializers.ChoiceField(choices=Status.choices)
    stage = serializers.CharField()
    unit = AssociationRefSerializer(required=False)
    minor = serializers.BooleanField(required=False)
    immediate_danger = serializers.BooleanField(required=False)
    opened_at = serializers.DateTimeField(required=False)
    decide_by = serializers.DateTimeField(required=False, allow_null=True)
    escalated_at = serializers.DateTimeField(required=False, allow_null=True)
    recovery_starts_on = serializers.DateField(required=False, allow_null=True)
    recovery_ends_on = serializers.DateField(required=False, allow_null=True)
    reconsider_until = serializers.DateField(required=False, allow_null=True)
    referral = ReferralFactsSerializer(required=False)
    evidence = EvidenceOutputSerializer(many=True, required=False)
    decisions = DecisionOutputSerializer(many=True, required=False)
    reconsiderations = ReconsiderationOutputSerializer(many=True, required=False)
    etag = serializers.SerializerMethodField(required=False)

    def get_etag(self, obj: Identification) -> str:
        return etag("identification", obj.pk, obj.version)

    def to_representation(self, instance: Identification) -> dict[str, Any]:
        viewer = self.context.get("viewer", selectors.VIEWER_DESK)
        keep = FIELDS_BY_VIEWER[viewer]
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if key in keep}


def _file_response(
    request: Request, reference: str, code: int = 200, *, log=None, seen_as: str | None = None
) -> Response:
    """The file as the user sees it. After a write, ``seen_as`` is how they saw it
    before: a final decision ends the unit's grants, and its author still gets
    the file they decided back."""
    if seen_as is None:
        identification, viewer = selectors.identification_get_for_user(
            user=request.user, reference=reference, log=log
        )
    else:
        identification = Identification.objects.get(referral__reference=reference)
        viewer = seen_as
    identification = (
        Identification.objects.select_related("referral__person", "unit")
        .prefetch_related("evidence", "decisions__decided_by", "reconsiderations")
        .get(pk=identification.pk)
    )
    data = IdentificationOutputSerializer(identification, context={"viewer": viewer}).data
    headers = {"ETag": etag("identification", identification.pk, identification.version)}
    return Response(data, status=code, headers=headers)


def _file_for_write(request: Request, reference: str) -> tuple[Identification, str]:
    """The file a write is about, if the user may see it (the write's own rule
    is the service's); not logged as a read."""
    return selectors.identification_get_for_user(user=request.user, reference=reference, log=None)


# --- views ---------------------------------------------------------------------------


class IdentificationListItemSerializer(serializers.Serializer):
    reference = serializers.CharField(source="referral.reference")
    status = serializers.ChoiceField(choices=Status.choices)
    stage = serializers.CharField()
    unit = AssociationRefSerializer()
    minor = serializers.BooleanField()
    immediate_danger = serializers.BooleanField()
    opened_at = serializers.DateTimeField()
    decide_by = serializers.DateTimeField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)


@extend_schema_view(
    get=extend_schema(
        tags=["identifications"],
        operation_id="identifications_list",
        description=(
            "The files your identification unit decides (danger first, then minors, "
            "then the nearest deadline), or for the coordination desk the files whose "
            "deadline was missed. Rows carry no identity."
        ),
        responses={
            200: IdentificationListItemSerializer(many=True),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
        },
    )
)
class IdentificationListView(generics.ListAPIView):
    serializer_class = IdentificationListItemSerializer
    filterset_class = IdentificationFilter

    def get_queryset(self):
        return selectors.identification_list_for(user=self.request.user)


class DashboardSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    minors = serializers.IntegerField()
    danger = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    reconsiderations = serializers.IntegerField()
    by_age = serializers.DictField(
        child=serializers.IntegerField(), help_text="Pending files by days since opened."
    )


class IdentificationDashboardView(APIView):
    @extend_schema(
        tags=["identifications"],
        operation_id="identifications_dashboard",
        responses={200: DashboardSerializer, 401: UNAUTHORIZED, 403: FORBIDDEN},
        description="Your unit's backlog: pending files by age, minors, danger, overdue.",
    )
    def get(self, request: Request) -> Response:
        return Response(DashboardSerializer(selectors.unit_dashboard(user=request.user)).data)


class IdentificationDetailView(APIView):
    @extend_schema(
        tags=["identifications"],
        operation_id="identifications_retrieve",
        responses={200: IdentificationOutputSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
        description=(
            "One file, as you may see it (every read is logged). The unit reads the "
            "referral's facts, indicators and the evidence file (never the case notes, "
            "never the person's name); the association the decisions and their reasons; "
            "the referrer the stage and status only."
        ),
    )
    def get(self, request: Request, reference: str) -> Response:
        return _file_response(request, reference, log=AccessAction.IDENTIFICATION_VIEW)


class DecideInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=[*NegativeReason.choices, *WithdrawalReason.choices]),
        required=False,
        default=list,
        max_length=10,
        help_text="Negative decisions: NegativeReason codes; withdrawals: WithdrawalReason codes.",
    )
    explanation = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.EXPLANATION_MAX
    )


class IdentificationDecideView(APIView):
    @extend_schema(
        tags=["identifications"],
        operation_id="identifications_decide",
        request=DecideInputSerializer,
        responses={200: IdentificationOutputSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("positive", value={"outcome": "positive"}, request_only=True),
            OpenApiExample(
                "negative",
                value={
                    "outcome": "negative",
                    "reasons": ["no_exploitation"],
                    "explanation": "Aucun élément d'exploitation à ce stade.",
                },
                request_only=True,
            ),
        ],
        description=(
            "The unit decides the stage waited for: preliminary (`positive`, `negative`) "
            "or formal (`identified`, `not_identified`, `withdrawn`). A negative decision "
            "needs reasons and an explanation. If-Match (the file's ETag) is optional; "
            "two decisions at once: one wins, the other is a 409."
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        identification, viewer = _file_for_write(request, reference)
        data = DecideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = (
            expected_version(request, kind="identification", pk=identification.pk)
            if request.headers.get("If-Match")
            else None
        )
        services.identification_decide(
            identification_id=identification.pk,
            actor=request.user,
            outcome=data.validated_data["outcome"],
            reasons=data.validated_data["reasons"],
            explanation=data.validated_data["explanation"],
            expected_version=version,
        )
        return _file_response(request, reference, seen_as=viewer)


class EvidenceInputSerializer(serializers.Serializer):
    section = serializers.ChoiceField(choices=EvidenceSection.choices)
    text = serializers.CharField(max_length=services.TEXT_MAX)
    indicator = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)
    on_date = serializers.DateField(required=False, allow_null=True, default=None)


class EvidenceView(APIView):
    @extend_schema(
        tags=["identifications"],
        operation_id="identifications_evidence_create",
        request=EvidenceInputSerializer,
        responses={201: IdentificationOutputSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "interview",
                value={
                    "section": "interview",
                    "text": "Entretien avec interprète, récit cohérent.",
                    "on_date": "2026-11-20",
                },
                request_only=True,
            )
        ],
        description=(
            "The association adds to the evidence file: its first assessment, an "
            "indicator confirmed, an interview held, a document seen (its kind and who "
            "holds it: documents themselves stay outside MNR)."
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        identification, _viewer = _file_for_write(request, reference)
        data = EvidenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.evidence_add(
            identification_id=identification.pk, actor=request.user, **data.validated_data
        )
        return _file_response(request, reference, status.HTTP_201_CREATED)


class SubmitView(APIView):
    @extend_schema(
        tags=["identifications"],
        operation_id="identifications_submit",
        request=None,
        responses={200: IdentificationOutputSerializer, **WRITE_ERRORS},
        description=(
            "The association asks for the formal decision, on its evidence file, once "
            "the recovery and reflection period has ended."
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        identification, _viewer = _file_for_write(request, reference)
        services.evidence_submit(identification_id=identification.pk, actor=request.user)
        return _file_response(request, reference)


class ReconsiderInputSerializer(serializers.Serializer):
    new_elements = serializers.CharField(max_length=services.TEXT_MAX)


class ReconsiderView(APIView):
    @extend_schema(
        tags=["identifications"],
        operation_id="identifications_reconsider",
        request=ReconsiderInputSerializer,
        responses={200: IdentificationOutputSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "new elements",
                value={"new_elements": "Nouveau récit recueilli avec une interprète."},
                request_only=True,
            )
        ],
        description=(
            "The association, for the person, asks to reconsider a negative decision "
            "(within the period, once per stage); another member of the unit decides."
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        identification, _viewer = _file_for_write(request, reference)
        data = ReconsiderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reconsideration_request(
            identification_id=identification.pk,
            actor=request.user,
            new_elements=data.validated_data["new_elements"],
        )
        return _file_response(request, reference)
