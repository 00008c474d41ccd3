"""The access log: who read or tried what, append-only and hash-chained.

Each entry stores the hash of the previous one; ``manage.py verify_audit``
recomputes the chain and names the first broken link. The ORM refuses updates
and deletes; on PostgreSQL a trigger refuses them too (migration 0002).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an access-log entry."""


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The access log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access log is append-only.")

    def _raw_delete(self, using: str) -> int:
        raise AppendOnlyError("The access log is append-only.")


class AccessAction(models.TextChoices):
    REFERRAL_VIEW = "referral.view", _("Referral read")
    CASE_VIEW = "case.view", _("Case read")
    REFERRAL_LIST = "referral.list", _("Referrals listed (names shown)")
    CASE_LIST = "case.list", _("Cases listed (names shown)")
    CASE_TIMELINE = "case.timeline", _("Case timeline read")
    CASE_EXPORT = "case.export", _("Case exported (access request)")
    LOGIN = "auth.login", _("Signed in")
    LOGIN_FAILED = "auth.login_failed", _("Failed sign-in")
    TOKEN_CREATE = "auth.token_create", _("API token created")
    TOKEN_REVOKE = "auth.token_revoke", _("API token revoked")
    TWO_FACTOR_ENROLLED = "auth.2fa_enrolled", _("Authenticator app enrolled")
    TWO_FACTOR_RESET = "auth.2fa_reset", _("Second factor reset by an administrator")
    RECOVERY_CODE_USED = "auth.recovery_code_used", _("Recovery code used")
    REFUSAL = "access.refused", _("Access refused")
    GRANTS_ENDED = "access.grants_ended", _("Access ended with the person's membership")
    CASE_SHARED = "case.shared", _("Case shared with a person")
    CASE_SHARE_ENDED = "case.share_ended", _("Case share ended")
    CASE_SHARED_VIEW = "case.shared_view", _("Shared case read")
    STATS_EXPORT = "stats.export", _("Statistics exported")
    AUDIT_VIEW = "audit.view", _("Access log read")
    PSEUDONYMISED = "data.pseudonymised", _("Identity erased after the retention period")


class AccessLog(models.Model):
    created_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True, default="")
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    action = models.CharField(_("action"), max_length=32, choices=AccessAction.choices)
    target_type = models.CharField(_("target type"), max_length=32, blank=True, default="")
    target_id = models.CharField(_("target"), max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, default="")
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            models.Index(fields=["agency", "-created_at"]),
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update"):
            raise AppendOnlyError("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("The access log is append-only.")

    def payload(self) -> dict[str, Any]:
        """The fields the hash covers, in a stable form."""
        return {
            "id": self.pk,
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_id,
            "actor_username": self.actor_username,
            "agency": self.agency_id,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "ip": self.ip,
            "request_id": self.request_id,
            "detail": self.detail,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self.prev_hash}|{canonical}".encode()).hexdigest()


class AuditChainHead(models.Model):
    """One row: the last entry of the chain. Locked by every writer, so entries
    are chained in order, and it reveals a truncated tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"head at {self.last_id}"
