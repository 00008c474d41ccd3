"""Referrals and routings (docs/api.md). Thin: parse, call a service or selector,
present. Who sees which field is decided by referral.selectors.viewer_relation.

Over ~400 lines: each operation's input and output serializers sit beside its
view with the OpenAPI examples and descriptions the schema publishes (STYLE:
nested serializers per operation); the logic is all in referral/.
"""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AccessAction
from common.choices import ExploitationForm
from common.errors import NotFound, ValidationFailed
from referral import indicators, selectors, services
from referral.filters import ReferralFilter, RoutingFilter
from referral.models import Need, Referral, Routing, Sex

from ..schema import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, error_response
from .cases import CaseOutputSerializer, case_response
from .common import (
    CONFLICT,
    FORBIDDEN,
    WRITE_ERRORS,
    AssociationRefSerializer,
    NamesListLoggedMixin,
    PersonOutputSerializer,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Optional, up to 100 characters. The same key from the same user returns the "
        "referral created first (no duplicate); reused with a different body: 409."
    ),
)

SUBMIT_EXAMPLE = {
    "immediate_danger": False,
    "exploitation_forms": ["sexual_exploitation"],
    "exploitation_departement": "75",
    "indicators": ["coercion_at_destination.debt_bondage"],
    "needs": ["shelter", "medical"],
    "narrative": "Rencontrée lors d'un contrôle ; dit devoir rembourser une dette de voyage.",
    "consent_to_referral": True,
    "person": {
        "given_name": "Joy",
        "family_name": "E.",
        "date_of_birth": "1999-04-02",
        "estimated_age": None,
        "declared_minor": False,
        "sex": "female",
        "nationality": "NG",
        "languages": ["en"],
        "phone": "+33 6 00 00 00 00",
        "current_departement": "75",
    },
}


# --- serializers ------------------------------------------------------------------


class PersonInputSerializer(serializers.Serializer):
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    family_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    estimated_age = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=120
    )
    declared_minor = serializers.BooleanField(required=False, default=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, default=Sex.UNKNOWN)
    nationality = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3), required=False, default=list, max_length=20
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    current_departement = serializers.CharField(
        max_length=3, required=False, allow_null=True, default=None
    )


class ReferralInputSerializer(serializers.Serializer):
    immediate_danger = serializers.BooleanField(required=False, default=False)
    exploitation_forms = serializers.ListField(
        child=serializers.ChoiceField(choices=ExploitationForm.choices), max_length=10
    )
    exploitation_other_detail = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    exploitation_departement = serializers.CharField(
        max_length=3, required=False, allow_null=True, default=None
    )
    exploitation_country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, default=""
    )
    indicators = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=200
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=Need.choices),
        required=False,
        default=list,
        max_length=len(Need.choices),
    )
    narrative = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, default=""
    )
    consent_to_referral = serializers.BooleanField(
        help_text="Consent of an adult to be referred. Not needed for a (presumed) minor."
    )
    person = PersonInputSerializer()

    def to_input(self) -> services.ReferralInput:
        data = dict(self.validated_data)
        person = services.PersonInput(**data.pop("person"))
        return services.ReferralInput(person=person, **data)


class IndicatorSummarySerializer(serializers.Serializer):
    dimension = serializers.CharField()
    strong = serializers.IntegerField()
    medium = serializers.IntegerField()
    weak = serializers.IntegerField()
    indicated = serializers.BooleanField(
        help_text="The per-dimension rule is met: an indication, never a decision."
    )


class RoutingBriefSerializer(serializers.ModelSerializer):
    association = AssociationRefSerializer()

    class Meta:
        model = Routing
        fields = [
            "id",
            "association",
            "routed_at",
            "respond_by",
            "outcome",
            "reason",
            "responded_at",
        ]


class ReferralOutputSerializer(serializers.ModelSerializer):
    """A referral as its viewer may see it. `possible_duplicate`,
    `indicator_summary` and `routings` are for associations and the coordination
    desk only; the author sees status and receiving association."""

    exploitation_departement = serializers.CharField(
        source="exploitation_departement_id", allow_null=True
    )
    referring_agency = AssociationRefSerializer()
    person = PersonOutputSerializer()
    receiving_association = serializers.SerializerMethodField()
    crip_notified = serializers.SerializerMethodField()
    case_status = serializers.SerializerMethodField(
        help_text="`open` or `closed` once accepted; never the case's content."
    )
    possible_duplicate = serializers.BooleanField(
        required=False, help_text="Associations and coordination desk only."
    )
    indicator_summary = IndicatorSummarySerializer(
        many=True, required=False, help_text="Associations and coordination desk only."
    )
    routings = RoutingBriefSerializer(
        many=True, required=False, help_text="Associations (their own) and coordination desk only."
    )

    class Meta:
        model = Referral
        fields = [
            "reference",
            "status",
            "submitted_at",
            "immediate_danger",
            "exploitation_forms",
            "exploitation_other_detail",
            "exploitation_departement",
            "exploitation_country",
            "indicators",
            "indicator_list_version",
            "needs",
            "narrative",
            "consent_to_referral",
            "referring_agency",
            "person",
            "receiving_association",
            "crip_notified",
            "case_status",
            "possible_duplicate",
            "indicator_summary",
            "routings",
        ]

    @extend_schema_field(AssociationRefSerializer(allow_null=True))
    def get_receiving_association(self, referral: Referral) -> dict | None:
        return selectors.referral_receiving_association(referral)

    def get_crip_notified(self, referral: Referral) -> bool:
        return referral.crip_notified_at is not None

    def get_case_status(self, referral: Referral) -> str | None:
        return selectors.referral_case_status(referral)

    def to_representation(self, referral: Referral) -> dict:
        user = self.context["request"].user
        relation = selectors.viewer_relation(user=user, referral=referral)
        data = super().to_representation(referral)
        if relation == selectors.VIEWER_AUTHOR:
            for name in ("possible_duplicate", "indicator_summary", "routings"):
                data.pop(name, None)
            return data
        data["possible_duplicate"] = bool(getattr(referral, "possible_duplicate", False))
        data["indicator_summary"] = IndicatorSummarySerializer(
            selectors.referral_indicator_summary(referral), many=True
        ).data
        routings = selectors.referral_routings_visible_to(user=user, referral=referral)
        data["routings"] = RoutingBriefSerializer(routings, many=True).data
        return data


class ReferralListItemSerializer(serializers.ModelSerializer):
    given_name = serializers.CharField(source="person.given_name")
    family_name = serializers.CharField(source="person.family_name")
    presumed_minor = serializers.BooleanField(source="person.presumed_minor")
    receiving_association = serializers.SerializerMethodField()
    case_status = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "reference",
            "status",
            "submitted_at",
            "immediate_danger",
            "exploitation_forms",
            "given_name",
            "family_name",
            "presumed_minor",
            "receiving_association",
            "case_status",
        ]

    def get_case_status(self, referral: Referral) -> str | None:
        return selectors.referral_case_status(referral)

    @extend_schema_field(AssociationRefSerializer(allow_null=True))
    def get_receiving_association(self, referral: Referral) -> dict | None:
        return selectors.referral_receiving_association(referral)


class RoutingOutputSerializer(serializers.ModelSerializer):
    referral = serializers.CharField(source="referral.reference")
    association = AssociationRefSerializer()
    immediate_danger = serializers.BooleanField(source="referral.immediate_danger")
    exploitation_forms = serializers.ListField(
        source="referral.exploitation_forms", child=serializers.CharField()
    )
    presumed_minor = serializers.BooleanField(source="referral.person.presumed_minor")
    departement = serializers.SerializerMethodField()
    possible_duplicate = serializers.BooleanField()

    class Meta:
        model = Routing
        fields = [
            "id",
            "referral",
            "association",
            "routed_at",
            "respond_by",
            "outcome",
            "reason",
            "responded_at",
            "immediate_danger",
            "exploitation_forms",
            "presumed_minor",
            "departement",
            "possible_duplicate",
            "explanation",
        ]

    def get_departement(self, routing: Routing) -> str | None:
        return routing.referral.routing_departement_id


# --- filters ----------------------------------------------------------------------


# --- views ------------------------------------------------------------------------


def _idempotency_key(request: Request) -> str:
    """The Idempotency-Key header: a string of printable ASCII (RFC 8941), else a
    400 naming it (a NUL byte reached PostgreSQL and answered 500)."""
    key = request.headers.get("Idempotency-Key", "")
    if not all(" " <= char <= "~" for char in key):
        raise ValidationFailed(
            _("Invalid input."),
            fields={"Idempotency-Key": [_("Printable ASCII characters only.")]},
        )
    return key


@extend_schema_view(
    get=extend_schema(
        tags=["referrals"],
        operation_id="referrals_list",
        description=(
            "Referrals you may see: your own (referrer), those routed to or accepted by "
            "your association, those escalated to the coordination desk. The rows carry "
            "names: each page answered writes one access-log entry (`referral.list`) with "
            "the references shown."
        ),
        responses={200: ReferralListItemSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
    ),
)
class ReferralListView(NamesListLoggedMixin, generics.ListAPIView):
    serializer_class = ReferralListItemSerializer
    filterset_class = ReferralFilter
    # The rows carry names: each page shown is written to the access log.
    list_action = AccessAction.REFERRAL_LIST
    list_view = "api.referrals"

    def get_queryset(self):
        return selectors.referral_list_visible_to(user=self.request.user)

    @extend_schema(
        tags=["referrals"],
        operation_id="referrals_submit",
        parameters=[IDEMPOTENCY_HEADER],
        request=ReferralInputSerializer,
        responses={
            201: ReferralOutputSerializer,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            409: error_response(
                "Idempotency-Key reused with a different body.", example_code="conflict", status=409
            ),
        },
        examples=[
            OpenApiExample("adult with consent", value=SUBMIT_EXAMPLE, request_only=True),
            OpenApiExample(
                "anonymous notification (adult without consent)",
                value={
                    "exploitation_forms": ["labour_exploitation"],
                    "exploitation_departement": "13",
                    "consent_to_referral": False,
                    "person": {"estimated_age": 35, "sex": "male", "nationality": "PK"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "minor (no consent needed; the CRIP is notified)",
                value={
                    "exploitation_forms": ["forced_criminality"],
                    "exploitation_departement": "93",
                    "consent_to_referral": False,
                    "indicators": ["child_specific.group_begging_or_stealing_supervised_by_adults"],
                    "person": {"given_name": "A.", "declared_minor": True, "sex": "male"},
                },
                request_only=True,
            ),
        ],
        description=(
            "File a referral (referrers). An adult without consent is recorded as an "
            "anonymous notification (status `notified`, identity fields refused, never "
            "routed). A (presumed) minor needs no consent; the département's CRIP is "
            "notified. Otherwise routing starts at once after commit (status `submitted`, "
            "then `routed` or `escalated`)."
        ),
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request)
        data = ReferralInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral, created = services.referral_submit(
            actor=request.user, data=data.to_input(), idempotency_key=key
        )
        # The author's own view: no re-read through the visibility selector needed.
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(
            ReferralOutputSerializer(referral, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
            headers=headers,
        )


class ReferralDetailView(APIView):
    @extend_schema(
        tags=["referrals"],
        operation_id="referrals_retrieve",
        description="One referral as its viewer may see it (author, routed association or coordination desk); reading it is written to the access log.",
        responses={200: ReferralOutputSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> Response:
        referral = selectors.referral_get_for_user(user=request.user, reference=reference)
        return Response(ReferralOutputSerializer(referral, context={"request": request}).data)


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReferralWithdrawView(APIView):
    @extend_schema(
        tags=["referrals"],
        operation_id="referrals_withdraw",
        request=WithdrawInputSerializer,
        responses={200: ReferralOutputSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "withdraw",
                value={"reason": "Signalement déjà transmis par un collègue."},
                request_only=True,
            )
        ],
        description="The author withdraws the referral before it is accepted.",
    )
    def post(self, request: Request, reference: str) -> Response:
        referral = selectors.referral_get_for_user(user=request.user, reference=reference, log=None)
        data = WithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.referral_withdraw(
            referral_id=referral.pk, actor=request.user, reason=data.validated_data["reason"]
        )
        referral = selectors.referral_get_for_user(user=request.user, reference=reference, log=None)
        return Response(ReferralOutputSerializer(referral, context={"request": request}).data)


class AssignInputSerializer(serializers.Serializer):
    association = serializers.IntegerField(help_text="Id of an active association.")


class ReferralAssignView(APIView):
    @extend_schema(
        tags=["referrals"],
        operation_id="referrals_assign",
        request=AssignInputSerializer,
        responses={201: ReferralOutputSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("assign", value={"association": 12}, request_only=True)],
        description="The coordination desk routes an escalated referral to an association.",
    )
    def post(self, request: Request, reference: str) -> Response:
        referral = selectors.referral_get_for_user(user=request.user, reference=reference, log=None)
        data = AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.referral_assign(
            referral_id=referral.pk,
            actor=request.user,
            association_id=data.validated_data["association"],
        )
        referral = selectors.referral_get_for_user(user=request.user, reference=reference, log=None)
        return Response(
            ReferralOutputSerializer(referral, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        tags=["routings"],
        operation_id="routings_list",
        description=(
            "Your association's routings, soonest deadline first. `?outcome=pending` is the inbox."
        ),
        responses={200: RoutingOutputSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
)
class RoutingListView(generics.ListAPIView):
    serializer_class = RoutingOutputSerializer
    filterset_class = RoutingFilter

    def get_queryset(self):
        return selectors.routing_list_for(user=self.request.user)


class RoutingDetailView(APIView):
    @extend_schema(
        tags=["routings"],
        operation_id="routings_retrieve",
        description="One routing of the user's association, with the referral summary it may see.",
        responses={200: RoutingOutputSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, routing_id: int) -> Response:
        routing = selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
        return Response(RoutingOutputSerializer(routing).data)


class RoutingAcceptView(APIView):
    @extend_schema(
        tags=["routings"],
        operation_id="routings_accept",
        request=None,
        responses={
            201: CaseOutputSerializer,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        description="Accept a pending routing: the referral is accepted and its case opened.",
    )
    def post(self, request: Request, routing_id: int) -> Response:
        routing = selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
        case = services.routing_accept(routing_id=routing.pk, actor=request.user)
        return case_response(request, case.reference, status.HTTP_201_CREATED)


class DeclineInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the association declines.")


class RoutingDeclineView(APIView):
    @extend_schema(
        tags=["routings"],
        operation_id="routings_decline",
        request=DeclineInputSerializer,
        responses={200: RoutingOutputSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "decline",
                value={"reason": "Plus de place d'hébergement avant trois semaines."},
                request_only=True,
            )
        ],
        description="Decline with a reason; the referral goes to the next candidate.",
    )
    def post(self, request: Request, routing_id: int) -> Response:
        routing = selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
        data = DeclineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.routing_decline(
            routing_id=routing.pk, actor=request.user, reason=data.validated_data["reason"]
        )
        routing = selectors.routing_get_for_user(user=request.user, routing_id=routing_id)
        return Response(RoutingOutputSerializer(routing).data)


class IndicatorListView(APIView):
    @extend_schema(
        tags=["reference"],
        operation_id="reference_indicators",
        parameters=[
            OpenApiParameter(
                "version", OpenApiTypes.STR, description=f"Default: {indicators.CURRENT_VERSION}."
            )
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 401: UNAUTHORIZED, 404: NOT_FOUND},
        description=(
            "The identification-indicator list (ILO/EC operational indicators, adapted, "
            "plus MNR's child-specific indicators), with labels in the request's language. "
            "It supports the professional's judgement; it never decides."
        ),
    )
    def get(self, request: Request) -> Response:
        version = request.query_params.get("version", indicators.CURRENT_VERSION)
        if version not in indicators.available_versions():
            raise NotFound()
        return Response(indicators.localised(version, get_language() or "fr"))
