"""Shared OpenAPI pieces: the error body every endpoint may answer."""

from drf_spectacular.openapi import AutoSchema as _AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "status": serializers.IntegerField(),
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.JSONField(),
                    help_text="Input field → list of messages (400 only).",
                ),
            },
        )
    },
)


def error_response(description: str, *, example_code: str, status: int) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(
                example_code,
                value={
                    "error": {
                        "status": status,
                        "code": example_code,
                        "message": description,
                        "fields": {},
                    }
                },
            )
        ],
    )


BAD_REQUEST = OpenApiResponse(
    response=ErrorSerializer,
    description="Invalid input; `fields` names each wrong field.",
    examples=[
        OpenApiExample(
            "invalid",
            value={
                "error": {
                    "status": 400,
                    "code": "invalid",
                    "message": "Invalid input.",
                    "fields": {"username": ["This field is required."]},
                }
            },
        )
    ],
)
UNAUTHORIZED = error_response("Not authenticated.", example_code="not_authenticated", status=401)
NOT_FOUND = error_response("Not found.", example_code="not_found", status=404)
THROTTLED = error_response("Too many requests.", example_code="throttled", status=429)
PAYLOAD_TOO_LARGE = error_response(
    "The request body is too large.", example_code="request_too_large", status=413
)
UNSUPPORTED_MEDIA_TYPE = error_response(
    "Send the body as application/json.", example_code="unsupported_media_type", status=415
)
# Answers any operation may give for what it takes, whatever the view:
# query parameters and bodies are validated (400), a page past the last, an
# unknown `?format=` or a reference that matches nothing is not found (404),
# bodies have a size and a media type (413, 415), every view is throttled (429).
NOT_FOUND_QUERY_PARAMETERS = {"page", "format"}


class AutoSchema(_AutoSchema):
    """Names nested ``InputSerializer``/``OutputSerializer`` after their view, so
    ``TokenObtainView.OutputSerializer`` becomes the component ``TokenObtainOutput``;
    every operation that needs authentication documents its 401, and every
    operation the errors its input can cause (400, 404, 413, 415, 429)."""

    def get_operation(self, *args, **kwargs) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        takes_body = "requestBody" in operation
        implied = {"429": THROTTLED}
        if query or takes_body:
            implied["400"] = BAD_REQUEST
        if any(p["in"] == "path" for p in parameters) or query & NOT_FOUND_QUERY_PARAMETERS:
            implied["404"] = NOT_FOUND
        if takes_body:
            implied["413"] = PAYLOAD_TOO_LARGE
            implied["415"] = UNSUPPORTED_MEDIA_TYPE
        responses = operation["responses"]
        for code, response in implied.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _get_response_bodies(self, direction: str = "response") -> dict:
        bodies = super()._get_response_bodies(direction)
        if direction == "response" and "401" not in bodies and self._needs_authentication():
            bodies["401"] = self._get_response_for_code(UNAUTHORIZED, "401", direction=direction)
        return bodies

    def _needs_authentication(self) -> bool:
        return any(
            isinstance(permission, IsAuthenticated) for permission in self.view.get_permissions()
        )

    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        cls = serializer if isinstance(serializer, type) else type(serializer)
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer:
            return outer.split(".")[-1].removesuffix("View") + inner
        return name
