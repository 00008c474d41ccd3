"""Transfers of a case to another association (docs/api.md, docs/domain.md
section 5): asked by the owning association, accepted or rejected by the one
asked, listed from both sides."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors, services
from cases.filters import TransferFilter
from cases.models import Transfer

from ..schema import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED
from .common import CONFLICT, FORBIDDEN, AssociationRefSerializer


class TransferOutputSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.reference")
    from_association = AssociationRefSerializer()
    to_association = AssociationRefSerializer()
    exploitation_forms = serializers.ListField(
        source="case.referral.exploitation_forms", child=serializers.CharField()
    )
    presumed_minor = serializers.BooleanField(source="case.referral.person.presumed_minor")

    class Meta:
        model = Transfer
        fields = [
            "id",
            "case",
            "from_association",
            "to_association",
            "reason",
            "status",
            "requested_at",
            "decided_at",
            "decision_reason",
            "exploitation_forms",
            "presumed_minor",
        ]


class TransferInputSerializer(serializers.Serializer):
    to_association = serializers.IntegerField()
    reason = serializers.CharField(max_length=2000)


class CaseTransferView(APIView):
    @extend_schema(
        tags=["transfers"],
        operation_id="cases_transfer",
        request=TransferInputSerializer,
        responses={
            201: TransferOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample(
                "relocation",
                value={"to_association": 6, "reason": "Éloignement géographique sécurisé."},
                request_only=True,
            )
        ],
        description="Ask another association to take the case (it accepts or rejects).",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        data = TransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = services.transfer_request(
            case_id=case.pk,
            actor=request.user,
            to_association_id=data.validated_data["to_association"],
            reason=data.validated_data["reason"],
        )
        transfer = selectors.transfer_get_for_user(user=request.user, transfer_id=transfer.pk)
        return Response(TransferOutputSerializer(transfer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=["transfers"],
        operation_id="transfers_list",
        description="Transfers from or to your association (`direction=in|out`).",
        responses={200: TransferOutputSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
)
class TransferListView(generics.ListAPIView):
    serializer_class = TransferOutputSerializer
    filterset_class = TransferFilter

    def get_queryset(self):
        return selectors.transfer_list_for(user=self.request.user)


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TransferAcceptView(APIView):
    @extend_schema(
        tags=["transfers"],
        operation_id="transfers_accept",
        request=None,
        responses={
            200: TransferOutputSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        description="The receiving association takes the case; its grants move with it.",
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        transfer = selectors.transfer_get_for_user(user=request.user, transfer_id=transfer_id)
        services.transfer_accept(transfer_id=transfer.pk, actor=request.user)
        transfer = selectors.transfer_get_for_user(user=request.user, transfer_id=transfer_id)
        return Response(TransferOutputSerializer(transfer).data)


class TransferRejectView(APIView):
    @extend_schema(
        tags=["transfers"],
        operation_id="transfers_reject",
        description="The receiving association declines the transfer (optional reason); the case stays where it is.",
        request=RejectInputSerializer,
        examples=[
            OpenApiExample(
                "reject", value={"reason": "Aucune place avant deux mois."}, request_only=True
            )
        ],
        responses={
            200: TransferOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        transfer = selectors.transfer_get_for_user(user=request.user, transfer_id=transfer_id)
        data = RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.transfer_reject(
            transfer_id=transfer.pk, actor=request.user, reason=data.validated_data["reason"]
        )
        transfer = selectors.transfer_get_for_user(user=request.user, transfer_id=transfer_id)
        return Response(TransferOutputSerializer(transfer).data)
