"""Authentication endpoints: expiring API tokens, and who am I."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from agencies.models import ApiToken
from agencies.selectors import membership_of, token_list_for
from agencies.services import token_issue, token_revoke
from agencies.signin import (
    OtpInvalid,
    SigninFailed,
    SigninLocked,
    SigninUnavailable,
    otp_needed,
    signin_authenticate,
    signin_succeeded,
    signin_verify_otp,
    two_factor_enrolled,
    two_factor_required,
)

from ..authentication import ExpiringTokenAuthentication
from ..schema import BAD_REQUEST, NOT_FOUND, THROTTLED, UNAUTHORIZED, error_response

TWO_FACTOR_NOT_ENROLLED = error_response(
    "Two-factor authentication is required: enrol on the web first.",
    example_code="two_factor_not_enrolled",
    status=403,
)
SIGNIN_UNAVAILABLE = error_response(
    "Sign-in is unavailable for a moment (the failure counters cannot be reached): "
    "no token is issued. Try again in a few minutes.",
    example_code="signin_unavailable",
    status=503,
)


class SigninUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Sign-in is unavailable for a moment. Try again in a few minutes.")
    default_code = "signin_unavailable"


class TokenObtainView(APIView):
    """Exchange a username and password (and, where two-factor authentication
    applies, a current TOTP code or a recovery code in `otp`) for an expiring
    API token. Repeated failures lock the username for a while (429); when the
    failure counters cannot be reached, no token is issued (503)."""

    throttle_scope = "auth"

    # POST signs in (no authentication; throttled); DELETE signs out the token in use.
    def _signing_in(self) -> bool:
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self) -> list:
        return [] if self._signing_in() else [ExpiringTokenAuthentication()]

    def get_permissions(self) -> list:
        return [AllowAny()] if self._signing_in() else [IsAuthenticated()]

    def get_authenticate_header(self, request: Request) -> str:
        # Wrong credentials answer 401 (not 403) even though POST has no authenticator.
        return ExpiringTokenAuthentication.keyword

    def get_throttles(self) -> list:
        if self._signing_in():
            return [ScopedRateThrottle()]
        return super().get_throttles()

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, style={"input_type": "password"})
        otp = serializers.CharField(
            max_length=32,
            required=False,
            allow_blank=True,
            help_text=(
                "The 6-digit code of the authenticator app, or one unused recovery code. "
                "Required for association, coordination and platform staff (outside the "
                "demo) and for anyone who enrolled a device."
            ),
        )

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Shown once; send it as `Authorization: Token …`.")
        token_type = serializers.CharField()
        id = serializers.IntegerField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        auth=[],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: TWO_FACTOR_NOT_ENROLLED,
            429: THROTTLED,
            503: SIGNIN_UNAVAILABLE,
        },
        examples=[
            OpenApiExample(
                "credentials",
                value={"username": "asso.paris", "password": "demo-mnr-2026"},
                request_only=True,
            ),
            OpenApiExample(
                "credentials with a second factor",
                value={"username": "asso.paris", "password": "…", "otp": "492039"},
                request_only=True,
            ),
            OpenApiExample(
                "token",
                value={
                    "token": "mnr_3q2+7w…",
                    "token_type": "Token",
                    "id": 42,
                    "expires_at": "2026-11-27T20:00:00+01:00",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = signin_authenticate(
                request=request._request,
                username=data.validated_data["username"],
                password=data.validated_data["password"],
            )
            if otp_needed(user):
                self._verify_second_factor(user, data.validated_data.get("otp", ""))
            signin_succeeded(user=user, channel="api")
        except SigninLocked as exc:
            raise exceptions.Throttled(
                wait=exc.retry_after, detail=str(exc.message), code="signin_locked"
            ) from exc
        except SigninFailed as exc:
            raise exceptions.AuthenticationFailed(exc.message) from exc
        except SigninUnavailable as exc:
            raise SigninUnavailableError(exc.message) from exc
        token, key = token_issue(user=user)
        body = {"token": key, "token_type": "Token", "id": token.pk, "expires_at": token.expires_at}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _verify_second_factor(user, otp: str) -> None:
        if two_factor_required(user) and not two_factor_enrolled(user):
            raise exceptions.PermissionDenied(
                _(
                    "Two-factor authentication is required for your account. Sign in on "
                    "the website once to set it up, then ask for a token again."
                ),
                code="two_factor_not_enrolled",
            )
        if not otp.strip():
            raise exceptions.ValidationError(
                {"otp": [_("Enter the code of your authenticator app or a recovery code.")]}
            )
        try:
            signin_verify_otp(user=user, token=otp)
        except OtpInvalid as exc:
            raise exceptions.ValidationError({"otp": [exc.message]}) from exc

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_revoke_current",
        request=None,
        responses={204: None, 401: UNAUTHORIZED},
        description="Revoke the token this request is authenticated with (sign out).",
    )
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise exceptions.NotAuthenticated()
        token_revoke(actor=request.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenOutputSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "current",
        ]

    def get_current(self, token: ApiToken) -> bool:
        auth = self.context.get("auth")
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class TokenListView(APIView):
    """The signed-in user's own API tokens (never their secrets)."""

    @extend_schema(
        tags=["auth"],
        operation_id="auth_tokens_list",
        responses={200: TokenOutputSerializer(many=True), 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        tokens = token_list_for(user=request.user)[:100]
        return Response(
            TokenOutputSerializer(tokens, many=True, context={"auth": request.auth}).data
        )


class TokenDetailView(APIView):
    @extend_schema(
        tags=["auth"],
        operation_id="auth_tokens_revoke",
        request=None,
        responses={204: None, 401: UNAUTHORIZED, 404: NOT_FOUND},
        description="Revoke one of your own tokens. Someone else's token answers 404.",
    )
    def delete(self, request: Request, token_id: int) -> Response:
        token_revoke(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        agency = serializers.DictField(allow_null=True)
        role = serializers.CharField(allow_null=True)

    @extend_schema(
        tags=["auth"],
        operation_id="auth_me",
        responses={200: OutputSerializer, 401: UNAUTHORIZED},
        description="The signed-in user, their agency and their role.",
    )
    def get(self, request: Request) -> Response:
        membership = membership_of(request.user)
        agency = membership.agency if membership else None
        body = {
            "username": request.user.get_username(),
            "agency": (
                {"id": agency.pk, "name": agency.name, "kind": agency.kind} if agency else None
            ),
            "role": membership.role if membership else None,
        }
        return Response(self.OutputSerializer(body).data)
