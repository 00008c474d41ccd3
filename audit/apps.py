from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # Sign-ins through any channel (admin, web, API token endpoint) reach the
        # access log through Django's own authentication signals.
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import receivers

        user_logged_in.connect(receivers.on_login, dispatch_uid="audit-login")
        user_login_failed.connect(receivers.on_login_failed, dispatch_uid="audit-login-failed")
