"""Cases, protection steps, notes, closure and workload (docs/api.md); transfers
are in api/views/transfers.py.

Writes that require If-Match (optimistic concurrency): PATCH /cases/{ref}/,
PATCH /cases/{ref}/steps/{id}/, POST /cases/{ref}/close/, POST /cases/{ref}/reopen/.

About 500 lines: the serializers of each operation sit beside its view with
the OpenAPI examples the schema publishes; the logic is all in cases/.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import User
from audit.models import AccessAction
from cases import selectors, services
from cases.filters import CaseFilter
from cases.models import (
    Case,
    CaseNote,
    ClosureReason,
    ProtectionStep,
    StepKind,
    StepStatus,
)
from common.errors import ValidationFailed

from ..etags import IF_MATCH, etag, expected_version
from ..schema import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, error_response
from .common import (
    CONFLICT,
    FORBIDDEN,
    AssociationRefSerializer,
    NamesListLoggedMixin,
    PersonOutputSerializer,
)

STALE = error_response(
    "Someone changed this since you read it.", example_code="precondition_failed", status=412
)
MISSING_IF_MATCH = error_response(
    "Send If-Match with the ETag you read.", example_code="precondition_required", status=428
)


def _member(user_id: int | None, field: str, actor: User) -> User | None:
    """The chosen caseworker or manager, looked up among the actor's association
    staff only: one answer for "no such user" and "not yours", so ids of other
    agencies' accounts cannot be probed (the service checks the rule again)."""
    if user_id is None:
        return None
    user = selectors.association_staff(user=actor).filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed(
            _("Invalid input."),
            fields={field: [_("Choose a caseworker or manager of your association.")]},
        )
    return user


# --- serializers ------------------------------------------------------------------


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class StepOutputSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(allow_null=True)
    etag = serializers.SerializerMethodField()

    class Meta:
        model = ProtectionStep
        fields = [
            "id",
            "kind",
            "status",
            "due_date",
            "ends_on",
            "done_at",
            "owner",
            "note",
            "from_template",
            "version",
            "etag",
        ]

    def get_etag(self, step: ProtectionStep) -> str:
        return etag("step", step.pk, step.version)


class NoteOutputSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = CaseNote
        fields = ["id", "text", "author", "created_at"]


class ReferralSummarySerializer(serializers.Serializer):
    reference = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    immediate_danger = serializers.BooleanField()
    exploitation_forms = serializers.ListField(child=serializers.CharField())
    exploitation_departement = serializers.CharField(
        source="exploitation_departement_id", allow_null=True
    )
    exploitation_country = serializers.CharField()
    needs = serializers.ListField(child=serializers.CharField())
    indicators = serializers.ListField(child=serializers.CharField())
    narrative = serializers.CharField()
    referring_agency = AssociationRefSerializer()


class CaseListItemSerializer(serializers.ModelSerializer):
    association = AssociationRefSerializer()
    assigned_to = UserRefSerializer(allow_null=True)
    exploitation_forms = serializers.ListField(
        source="referral.exploitation_forms", child=serializers.CharField()
    )
    presumed_minor = serializers.BooleanField(source="referral.person.presumed_minor")
    given_name = serializers.CharField(source="referral.person.given_name")
    family_name = serializers.CharField(source="referral.person.family_name")
    overdue_steps = serializers.IntegerField()

    class Meta:
        model = Case
        fields = [
            "reference",
            "status",
            "opened_at",
            "closed_at",
            "association",
            "assigned_to",
            "exploitation_forms",
            "presumed_minor",
            "given_name",
            "family_name",
            "overdue_steps",
        ]


class CaseOutputSerializer(serializers.ModelSerializer):
    association = AssociationRefSerializer()
    assigned_to = UserRefSerializer(allow_null=True)
    referral = ReferralSummarySerializer()
    person = PersonOutputSerializer(source="referral.person")
    steps = StepOutputSerializer(many=True)
    notes = NoteOutputSerializer(many=True)
    overdue_steps = serializers.IntegerField()
    etag = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "reference",
            "status",
            "closure_reason",
            "opened_at",
            "closed_at",
            "reopened_at",
            "association",
            "assigned_to",
            "version",
            "etag",
            "overdue_steps",
            "referral",
            "person",
            "steps",
            "notes",
        ]

    def get_etag(self, case: Case) -> str:
        return etag("case", case.pk, case.version)


def case_response(
    request: Request, reference: str, code: int = 200, *, log: str | None = None
) -> Response:
    """The case as its association sees it. After a write, the read-back is not
    logged as a read (history records the write)."""
    case = selectors.case_get_for_user(user=request.user, reference=reference, log=log)
    return Response(
        CaseOutputSerializer(case).data,
        status=code,
        headers={"ETag": etag("case", case.pk, case.version)},
    )


# --- views ------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=["cases"],
        operation_id="cases_list",
        description=(
            "Your association's cases, newest first. The rows carry names: each page "
            "answered writes one access-log entry (`case.list`) with the references shown."
        ),
        responses={200: CaseListItemSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
)
class CaseListView(NamesListLoggedMixin, generics.ListAPIView):
    serializer_class = CaseListItemSerializer
    filterset_class = CaseFilter
    # The rows carry names: each page shown is written to the access log.
    list_action = AccessAction.CASE_LIST
    list_view = "api.cases"

    def get_queryset(self):
        return selectors.case_list_visible_to(user=self.request.user)


class CaseUpdateInputSerializer(serializers.Serializer):
    assigned_to = serializers.IntegerField(
        allow_null=True, help_text="A caseworker or manager of the association, or null."
    )


class CaseDetailView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_retrieve",
        description="The case: profile, referral, plan and notes. Carries an ETag.",
        responses={200: CaseOutputSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> Response:
        return case_response(request, reference, log=AccessAction.CASE_VIEW)

    @extend_schema(
        tags=["cases"],
        operation_id="cases_partial_update",
        parameters=[IF_MATCH],
        request=CaseUpdateInputSerializer,
        responses={
            200: CaseOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            412: STALE,
            428: MISSING_IF_MATCH,
        },
        examples=[OpenApiExample("assign", value={"assigned_to": 42}, request_only=True)],
        description="Assign the case to a caseworker of the association (requires If-Match).",
    )
    def patch(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        version = expected_version(request, kind="case", pk=case.pk)
        data = CaseUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_assign(
            case_id=case.pk,
            actor=request.user,
            assignee=_member(data.validated_data["assigned_to"], "assigned_to", request.user),
            expected_version=version,
        )
        return case_response(request, reference)


class StepInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StepKind.choices)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class StepUpdateInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=StepStatus.choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    owner = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class StepListView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_steps_list",
        description="The protection steps of a case (owning association).",
        responses={200: StepOutputSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference)
        return Response(StepOutputSerializer(case.steps.all(), many=True).data)

    @extend_schema(
        tags=["cases"],
        operation_id="cases_steps_create",
        description="Add a protection step to an open case (owning association's staff).",
        request=StepInputSerializer,
        responses={
            201: StepOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample(
                "lawyer",
                value={"kind": "lawyer", "due_date": "2026-12-10", "note": "Barreau de Paris"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        data = StepInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["owner"] = _member(values["owner"], "owner", request.user)
        step = services.step_add(case_id=case.pk, actor=request.user, **values)
        return Response(
            StepOutputSerializer(step).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag("step", step.pk, step.version)},
        )


class StepDetailView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_steps_retrieve",
        description="One protection step, with its ETag for If-Match.",
        responses={200: StepOutputSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str, step_id: int) -> Response:
        step = selectors.step_get_for_user(user=request.user, reference=reference, step_id=step_id)
        return Response(
            StepOutputSerializer(step).data, headers={"ETag": etag("step", step.pk, step.version)}
        )

    @extend_schema(
        tags=["cases"],
        operation_id="cases_steps_partial_update",
        parameters=[IF_MATCH],
        request=StepUpdateInputSerializer,
        responses={
            200: StepOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            412: STALE,
            428: MISSING_IF_MATCH,
        },
        examples=[
            OpenApiExample("complete", value={"status": "done"}, request_only=True),
            OpenApiExample("set aside", value={"status": "declined_by_person"}, request_only=True),
        ],
        description="Complete, set aside, block, re-date or re-assign a step (If-Match).",
    )
    def patch(self, request: Request, reference: str, step_id: int) -> Response:
        step = selectors.step_get_for_user(user=request.user, reference=reference, step_id=step_id)
        version = expected_version(request, kind="step", pk=step.pk)
        data = StepUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "owner" in changes:
            changes["owner"] = _member(changes["owner"], "owner", request.user)
        step = services.step_update(
            step_id=step.pk, actor=request.user, expected_version=version, changes=changes
        )
        return Response(
            StepOutputSerializer(step).data, headers={"ETag": etag("step", step.pk, step.version)}
        )


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=services.NOTE_MAX)


class NoteListView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_notes_list",
        description="The notes of a case, newest first (owning association).",
        responses={200: NoteOutputSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference)
        return Response(NoteOutputSerializer(case.notes.all(), many=True).data)

    @extend_schema(
        tags=["cases"],
        operation_id="cases_notes_create",
        description="Add a note to a case (owning association's staff); the text is encrypted at rest.",
        request=NoteInputSerializer,
        responses={201: NoteOutputSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "note",
                value={"text": "Entretien initial réalisé avec une interprète."},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        data = NoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_add(
            case_id=case.pk, actor=request.user, text=data.validated_data["text"]
        )
        return Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)


class CloseInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClosureReason.choices)


class CaseCloseView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_close",
        description="Close the case with a reason (refused while a transfer is pending); needs If-Match.",
        parameters=[IF_MATCH],
        request=CloseInputSerializer,
        responses={
            200: CaseOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            412: STALE,
            428: MISSING_IF_MATCH,
        },
        examples=[
            OpenApiExample("close", value={"reason": "support_completed"}, request_only=True)
        ],
    )
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        version = expected_version(request, kind="case", pk=case.pk)
        data = CloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_close(
            case_id=case.pk,
            actor=request.user,
            reason=data.validated_data["reason"],
            expected_version=version,
        )
        return case_response(request, reference)


class CaseReopenView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_reopen",
        description="Reopen a closed case; needs If-Match.",
        parameters=[IF_MATCH],
        request=None,
        responses={
            200: CaseOutputSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            412: STALE,
            428: MISSING_IF_MATCH,
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get_for_user(user=request.user, reference=reference, log=None)
        version = expected_version(request, kind="case", pk=case.pk)
        services.case_reopen(case_id=case.pk, actor=request.user, expected_version=version)
        return case_response(request, reference)


class CaseworkerLoadSerializer(serializers.Serializer):
    username = serializers.CharField(
        allow_null=True, help_text="null: cases nobody is assigned to."
    )
    open_cases = serializers.IntegerField()
    overdue_steps = serializers.IntegerField()


class WorkloadSerializer(serializers.Serializer):
    association = AssociationRefSerializer()
    open_cases = serializers.IntegerField()
    overdue_steps = serializers.IntegerField()
    pending_routings = serializers.IntegerField()
    pending_transfers_in = serializers.IntegerField()
    pending_transfers_out = serializers.IntegerField()
    by_caseworker = CaseworkerLoadSerializer(many=True)


class WorkloadView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="workload_retrieve",
        responses={200: WorkloadSerializer, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Your association's workload (managers).",
    )
    def get(self, request: Request) -> Response:
        return Response(WorkloadSerializer(selectors.workload_for(user=request.user)).data)
