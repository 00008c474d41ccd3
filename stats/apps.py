from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "stats"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        # Deployment checks; the receivers that keep the statistics in step.
        from . import checks, receivers  # noqa: F401
