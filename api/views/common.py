"""Pieces shared by the API views."""

from __future__ import annotations

from rest_framework import serializers

from ..schema import error_response

FORBIDDEN = error_response(
    "Not allowed for your role.", example_code="permission_denied", status=403
)
CONFLICT = error_response(
    "Impossible from the current state.", example_code="invalid_transition", status=409
)


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
