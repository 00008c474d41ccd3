from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PrivacySpend(models.Model):
    """Epsilon spent by one user on one data period through differentially
    private releases. Each spend is also written to the access log."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    period = models.CharField(_("period"), max_length=16)
    epsilon = models.FloatField(_("epsilon"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy budget spend")
        verbose_name_plural = _("privacy budget spends")
        indexes = [models.Index(fields=["user", "period"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(epsilon__gt=0), name="privacy_spend_positive")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} ε={self.epsilon}"
