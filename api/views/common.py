"""Pieces shared by the API views."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audit.services import access_log_list

from ..schema import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, error_response

FORBIDDEN = error_response(
    "Not allowed for your role.", example_code="permission_denied", status=403
)
CONFLICT = error_response(
    "Impossible from the current state.", example_code="invalid_transition", status=409
)
# The answers of a write on one object, besides its success.
WRITE_ERRORS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: CONFLICT,
}


class AssociationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PersonOutputSerializer(serializers.Serializer):
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.CharField(allow_blank=True)
    estimated_age = serializers.IntegerField(allow_null=True)
    declared_minor = serializers.BooleanField()
    presumed_minor = serializers.BooleanField()
    sex = serializers.CharField()
    nationality = serializers.CharField(allow_blank=True)
    languages = serializers.ListField(child=serializers.CharField())
    phone = serializers.CharField(allow_blank=True)
    current_departement = serializers.CharField(source="current_departement_id", allow_null=True)


class NamesListLoggedMixin:
    """A list whose rows carry names: each page shown is written to the access
    log (audit.services.access_log_list), with the filters' names only."""

    list_action: str
    list_view: str

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        filters = self.filterset_class.base_filters  # type: ignore[attr-defined]
        access_log_list(
            actor=request.user,
            action=self.list_action,
            refs=[row["reference"] for row in response.data["results"]],
            view=self.list_view,
            filters=[name for name in filters if request.query_params.get(name)],
        )
        return response
