"""Agencies, accreditations, accounts and memberships; départements and regions.

Rules about one row or a pair of rows are database constraints:
- an accreditation belongs to an association, and a membership's role fits its
  agency's kind: each row carries a copy of its agency's kind, a check constraint
  bounds it, and on PostgreSQL a composite foreign key (agency id, kind) ties the
  copy to the agency (migration 0002), so an agency's kind cannot change under them;
- valid_until ≥ valid_from; one membership per user; a frontline agency has a
  sector and no other kind has one; a CRIP has a département.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """One of the 18 regions (INSEE Code officiel géographique, since 2016-01-01)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Departement(models.Model):
    """One of the 101 départements (INSEE codes: 01…95, 2A, 2B, 971…976)."""

    code = models.CharField(_("code"), max_length=3, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departements", verbose_name=_("region")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("département")
        verbose_name_plural = _("départements")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A person with an account. What they may do comes from their Membership."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


class AgencyKind(models.TextChoices):
    FRONTLINE = "frontline", _("Frontline agency")
    ASSOCIATION = "association", _("Accredited association")
    COORDINATOR = "coordinator", _("National coordinator")
    CHILD_PROTECTION = "child_protection", _("Child-protection unit (CRIP)")
    PLATFORM = "platform", _("Platform administration")
    IDENTIFICATION_UNIT = "identification_unit", _("Identification unit")


class Sector(models.TextChoices):
    POLICE = "police", _("Police")
    GENDARMERIE = "gendarmerie", _("Gendarmerie")
    JUSTICE = "justice", _("Justice")
    EDUCATION = "education", _("Education")
    HEALTH = "health", _("Health")
    SOCIAL_SERVICES = "social_services", _("Social services")
    LABOUR_INSPECTION = "labour_inspection", _("Labour inspection")
    NGO = "ngo", _("Non-accredited NGO")
    OTHER = "other", _("Other")


class Agency(models.Model):
    Kind = AgencyKind
    Sector = Sector

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    sector = models.CharField(
        _("sector"), max_length=20, choices=Sector.choices, blank=True, default=""
    )
    departement = models.ForeignKey(
        Departement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agencies",
        verbose_name=_("département"),
    )
    contact_email = models.EmailField(
        _("functional e-mail address"),
        blank=True,
        default="",
        help_text=_("A shared mailbox of the agency, never a person's own address."),
    )
    active = models.BooleanField(_("active"), default=True)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="agency", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AgencyKind.values), name="agency_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="frontline", sector__in=Sector.values)
                    | (~Q(kind="frontline") & Q(sector=""))
                ),
                name="agency_sector_only_and_always_for_frontline",
            ),
            models.CheckConstraint(
                condition=~Q(kind="child_protection") | Q(departement__isnull=False),
                name="agency_crip_has_departement",
            ),
            # Target of the composite foreign keys of Accreditation and Membership.
            models.UniqueConstraint(fields=["id", "kind"], name="agency_id_kind_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Accreditation(models.Model):
    """An association's accreditation: what, whom and where it may take."""

    association = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="accreditations",
        verbose_name=_("association"),
    )
    # Copy of the agency's kind, bound to "association" here and tied to the agency
    # by a composite foreign key on PostgreSQL.
    association_kind = models.CharField(
        max_length=20, default=AgencyKind.ASSOCIATION, editable=False
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    exploitation_forms = models.JSONField(_("forms of exploitation"), default=list)
    publics = models.JSONField(_("publics"), default=list)
    national = models.BooleanField(_("national territory"), default=False)
    departements = models.ManyToManyField(
        Departement, blank=True, related_name="accreditations", verbose_name=_("départements")
    )
    capacity = models.PositiveIntegerField(
        _("capacity (open cases)"),
        null=True,
        blank=True,
        help_text=_("Number of open cases it can hold; empty means unlimited."),
    )
    languages = models.JSONField(_("languages spoken"), default=list, blank=True)
    secure_relocation = models.BooleanField(_("offers secure relocation"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[departements])

    class Meta:
        ordering = ["association__name", "-valid_from"]
        verbose_name = _("accreditation")
        verbose_name_plural = _("accreditations")
        constraints = [
            models.CheckConstraint(
                condition=Q(association_kind="association"),
                name="accreditation_belongs_to_association",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="accreditation_valid_until_after_valid_from",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                name="accreditation_capacity_positive",
            ),
        ]
        indexes = [models.Index(fields=["valid_from", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.association} ({self.valid_from} → {self.valid_until})"

    def in_force(self, today: date) -> bool:
        """Valid on ``today`` (the routing engine's inputs filter the same in SQL)."""
        return self.valid_from <= today <= self.valid_until


class Role(models.TextChoices):
    REFERRER = "referrer", _("Referrer")
    CASEWORKER = "caseworker", _("Caseworker")
    MANAGER = "manager", _("Manager")
    ANALYST = "analyst", _("Analyst")
    COORDINATOR = "coordinator", _("Coordination desk")
    ADMIN = "admin", _("Platform administrator")
    DECISION_MAKER = "decision_maker", _("Identification decision-maker")


# The people who work cases: an association's caseworkers and managers (the one
# definition; an association has no other role).
STAFF_ROLES: frozenset[str] = frozenset({Role.CASEWORKER, Role.MANAGER})

# Which roles each kind of agency has; a check constraint on Membership enforces it.
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    AgencyKind.FRONTLINE: (Role.REFERRER, Role.MANAGER),
    AgencyKind.CHILD_PROTECTION: (Role.REFERRER, Role.MANAGER),
    AgencyKind.ASSOCIATION: (Role.CASEWORKER, Role.MANAGER),
    AgencyKind.COORDINATOR: (Role.COORDINATOR, Role.ANALYST, Role.MANAGER),
    AgencyKind.PLATFORM: (Role.ADMIN,),
    AgencyKind.IDENTIFICATION_UNIT: (Role.DECISION_MAKER,),
}


class Membership(models.Model):
    """A user's one agency and one role."""

    Role = Role
    ROLES_BY_KIND = ROLES_BY_KIND

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("agency")
    )
    # Copy of the agency's kind, tied to it by a composite foreign key on PostgreSQL.
    agency_kind = models.CharField(max_length=20, editable=False)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # Identification units: minors' files go to the decision-makers trained for
    # children only (they are also in the unit's children group).
    children_trained = models.BooleanField(
        _("trained for children"),
        default=False,
        help_text=_("Identification units: decides the files of presumed minors."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["agency__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    *[
                        Q(agency_kind=kind, role__in=list(roles))
                        for kind, roles in ROLES_BY_KIND.items()
                    ],
                    _connector=Q.OR,
                ),
                name="membership_role_fits_agency_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.agency} ({self.get_role_display()})"


class ApiToken(models.Model):
    """An expiring API token. Only a SHA-256 hash of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class SigninLockout(models.Model):
    """Failed sign-in attempts on one username, shared by every worker process
    (agencies/signin.py). One row per username tried, real or not, keyed by a
    keyed hash of the casefolded username: the typed name is never stored.

    ``failures`` counts the failed attempts of the window that began at
    ``window_start``, plus the attempts being checked right now (each attempt
    is counted before its password or code is checked); ``locked_until`` is set
    when the count reaches ``MNR_SIGNIN_MAX_FAILURES``. Expired rows are purged
    periodically (agencies.tasks.signin_lockouts_purge_task)."""

    username_hash = models.CharField(max_length=64, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in lockout")
        verbose_name_plural = _("sign-in lockouts")
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.username_hash[:12]}… ({self.failures})"
