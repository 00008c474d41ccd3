from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "identification"
    verbose_name = _("Identification")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
