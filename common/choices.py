"""Codes shared by several domain apps. Codes are part of the API contract and
never translated; labels are."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExploitationForm(models.TextChoices):
    """Forms of exploitation of article 225-4-1 of the code pénal, as the national
    survey of victims followed by associations groups them, plus organ removal."""

    SEXUAL_EXPLOITATION = "sexual_exploitation", _("Sexual exploitation")
    LABOUR_EXPLOITATION = (
        "labour_exploitation",
        _("Labour exploitation (forced labour or services, work or housing contrary to dignity)"),
    )
    DOMESTIC_SERVITUDE = "domestic_servitude", _("Slavery, servitude, domestic exploitation")
    FORCED_CRIMINALITY = "forced_criminality", _("Forced criminality")
    FORCED_BEGGING = "forced_begging", _("Forced begging")
    ORGAN_REMOVAL = "organ_removal", _("Organ removal")
    OTHER = "other", _("Other form (forced marriage, illegal adoption…)")


class Public(models.TextChoices):
    """Publics an association is accredited for."""

    MINORS = "minors", _("Minors")
    ADULT_WOMEN = "adult_women", _("Adult women")
    ADULT_MEN = "adult_men", _("Adult men")
