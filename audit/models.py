"""The access log: who read or tried what, append-only and hash-chained.

Each entry stores the hash of the previous one; the hash is an HMAC under
``MNR_AUDIT_CHAIN_KEY``, a key held outside the database, so whoever can write
to the database but lacks the key cannot forge a consistent chain.
``manage.py verify_audit`` recomputes the chain, checks it against the signed
checkpoints kept outside the database (audit/checkpoint.py) and names the first
broken link. The ORM refuses updates and deletes; on PostgreSQL triggers refuse
them too (migration 0002) and let the chain head only advance with the log
(migration 0007). docs/audit.md tells what is protected against whom.
"""

from __future__ import annotations

import hashlib
import hmac
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
    IDENTIFICATION_VIEW = "identification.view", _("Identification file read")


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
        """HMAC-SHA256(MNR_AUDIT_CHAIN_KEY, prev_hash | canonical payload), hex."""
        return chain_hash(self.prev_hash, self.payload())


def canonical_payload(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    """The chain's link: an HMAC under the chain key (its UTF-8 bytes)."""
    message = f"{prev_hash}|{canonical_payload(payload)}".encode()
    return hmac.new(settings.MNR_AUDIT_CHAIN_KEY.encode(), message, hashlib.sha256).hexdigest()


class AuditChainHead(models.Model):
    """One row: the last entry of the chain. Locked by every writer, so entries
    are chained in order, and it reveals a truncated tail. On PostgreSQL it is
    locked (and created at genesis) by the SECURITY DEFINER function
    ``audit_head_lock()``, advanced only by the log's INSERT trigger, one entry
    at a time, and never moved back or deleted (migration 0007)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"head at {self.last_id}"
