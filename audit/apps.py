from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # Completed sign-ins are logged by agencies.signin.signin_succeeded (web and
        # API token alike, after the second factor); failed passwords reach the log
        # through Django's signal, from any authenticate() call.
        from django.contrib.auth.signals import user_login_failed

        from . import receivers

        user_login_failed.connect(receivers.on_login_failed, dispatch_uid="audit-login-failed")
