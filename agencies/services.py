"""Every write on agencies, accreditations, accounts, memberships and API tokens.

Each agency has a Django group; a user is in exactly the group of the agency of
their membership. Only the membership services below touch those groups, so the
two never drift apart.

Longer than ~400 lines because each write here is short and they share the
validation of agencies and accreditations (used by the admin too) and the
signal that ends a person's access; splitting by entity would split that.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AccessAction
from audit.services import access_log_write
from common.choices import ExploitationForm, Public
from common.errors import NotFound, ValidationFailed
from common.transitions import save_by

from . import signals
from .models import Accreditation, Agency, ApiToken, Departement, Membership, User
from .system import children_group, desk_group, system_user

# Model permissions the platform agency's group holds in the admin site.
PLATFORM_ADMIN_PERMISSIONS: tuple[tuple[str, str], ...] = tuple(
    (app, f"{action}_{model}")
    for app, model, actions in (
        ("agencies", "agency", ("view", "add", "change")),
        ("agencies", "accreditation", ("view", "add", "change", "delete")),
        ("agencies", "membership", ("view", "add", "change", "delete")),
        ("agencies", "user", ("view", "add", "change")),
        ("agencies", "departement", ("view",)),
        ("agencies", "region", ("view",)),
        ("audit", "accesslog", ("view",)),
    )
    for action in actions
)


# --- agencies ---------------------------------------------------------------------


def _validate_agency(*, kind: str, sector: str, departement: Departement | None) -> None:
    errors: dict[str, list[Any]] = {}
    if kind not in Agency.Kind.values:
        errors["kind"] = [_("Unknown kind of agency.")]
    if kind == Agency.Kind.FRONTLINE and sector not in Agency.Sector.values:
        errors["sector"] = [_("A frontline agency needs a sector.")]
    if kind != Agency.Kind.FRONTLINE and sector:
        errors["sector"] = [_("Only frontline agencies have a sector.")]
    if kind == Agency.Kind.CHILD_PROTECTION and departement is None:
        errors["departement"] = [_("A child-protection unit (CRIP) needs its département.")]
    if errors:
        raise ValidationFailed(_("Invalid agency."), fields=errors)


@transaction.atomic
def agency_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    sector: str = "",
    departement: Departement | None = None,
    contact_email: str = "",
    active: bool = True,
) -> Agency:
    _validate_agency(kind=kind, sector=sector, departement=departement)
    if Agency.objects.filter(name=name).exists():
        raise ValidationFailed(
            _("Invalid agency."), fields={"name": [_("An agency with this name exists.")]}
        )
    group = Group.objects.create(name=f"agency:new:{uuid.uuid4()}")
    agency = Agency(
        name=name,
        kind=kind,
        sector=sector,
        departement=departement,
        contact_email=contact_email,
        active=active,
        group=group,
    )
    save_by(agency, actor=actor)
    group.name = f"agency:{agency.pk}"
    group.save(update_fields=["name"])
    if kind == Agency.Kind.PLATFORM:
        _grant_platform_admin_permissions(group)
    return agency


@transaction.atomic
def agency_update(*, actor: User | None, agency: Agency, **changes: Any) -> Agency:
    """Change an agency's name, sector, département, e-mail or active flag.

    Its kind cannot change while it has members or accreditations (the database
    refuses it too, on PostgreSQL)."""
    allowed = {"name", "kind", "sector", "departement", "contact_email", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("Invalid agency."), fields={f: [_("This field cannot be changed.")] for f in unknown}
        )
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    new_kind = changes.get("kind", agency.kind)
    if new_kind != agency.kind and (agency.memberships.exists() or agency.accreditations.exists()):
        raise ValidationFailed(
            _("Invalid agency."),
            fields={"kind": [_("The kind of an agency with members or accreditations is fixed.")]},
        )
    _validate_agency(
        kind=new_kind,
        sector=changes.get("sector", agency.sector),
        departement=changes.get("departement", agency.departement),
    )
    for field, value in changes.items():
        setattr(agency, field, value)
    save_by(agency, actor=actor)
    return agency


def _grant_platform_admin_permissions(group: Group) -> None:
    for app_label, codename in PLATFORM_ADMIN_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)


# --- accreditations ---------------------------------------------------------------


def _validate_accreditation(
    *,
    association: Agency,
    valid_from: date,
    valid_until: date,
    exploitation_forms: list[str],
    publics: list[str],
    national: bool,
    departements: list[Departement],
    capacity: int | None,
    languages: list[str],
) -> None:
    errors: dict[str, list[Any]] = {}
    if association.kind != Agency.Kind.ASSOCIATION:
        errors["association"] = [_("Only an association can be accredited.")]
    if valid_until < valid_from:
        errors["valid_until"] = [_("The end of validity cannot be before its start.")]
    if not exploitation_forms:
        errors["exploitation_forms"] = [_("At least one form of exploitation is needed.")]
    elif set(exploitation_forms) - set(ExploitationForm.values):
        errors["exploitation_forms"] = [_("Unknown form of exploitation.")]
    if not publics:
        errors["publics"] = [_("At least one public is needed.")]
    elif set(publics) - set(Public.values):
        errors["publics"] = [_("Unknown public.")]
    if national and departements:
        errors["departements"] = [_("A national accreditation lists no départements.")]
    if not national and not departements:
        errors["departements"] = [_("List the départements covered, or make it national.")]
    if capacity is not None and capacity <= 0:
        errors["capacity"] = [_("Capacity must be positive, or empty for unlimited.")]
    if any(not (isinstance(x, str) and len(x) == 2 and x.isalpha()) for x in languages):
        errors["languages"] = [_("Languages are two-letter ISO 639-1 codes.")]
    if errors:
        raise ValidationFailed(_("Invalid accreditation."), fields=errors)


@transaction.atomic
def accreditation_create(
    *,
    actor: User | None,
    association: Agency,
    valid_from: date,
    valid_until: date,
    exploitation_forms: Iterable[str],
    publics: Iterable[str],
    national: bool = False,
    departements: Iterable[Departement] = (),
    capacity: int | None = None,
    languages: Iterable[str] = (),
    secure_relocation: bool = False,
) -> Accreditation:
    forms = sorted(set(exploitation_forms))
    publics_list = sorted(set(publics))
    deps = list(departements)
    langs = sorted({lang.lower() for lang in languages})
    _validate_accreditation(
        association=association,
        valid_from=valid_from,
        valid_until=valid_until,
        exploitation_forms=forms,
        publics=publics_list,
        national=national,
        departements=deps,
        capacity=capacity,
        languages=langs,
    )
    accreditation = Accreditation(
        association=association,
        valid_from=valid_from,
        valid_until=valid_until,
        exploitation_forms=forms,
        publics=publics_list,
        national=national,
        capacity=capacity,
        languages=langs,
        secure_relocation=secure_relocation,
    )
    save_by(accreditation, actor=actor)
    accreditation.departements.set(deps)
    return accreditation


@transaction.atomic
def accreditation_update(
    *, actor: User | None, accreditation: Accreditation, **changes: Any
) -> Accreditation:
    """Change an accreditation; the same rules as at creation apply to the result."""
    fields = {
        "association",
        "valid_from",
        "valid_until",
        "exploitation_forms",
        "publics",
        "national",
        "departements",
        "capacity",
        "languages",
        "secure_relocation",
    }
    unknown = set(changes) - fields
    if unknown:
        raise ValidationFailed(
            _("Invalid accreditation."),
            fields={f: [_("This field cannot be changed.")] for f in unknown},
        )
    accreditation = Accreditation.objects.select_for_update().get(pk=accreditation.pk)
    current = {f: getattr(accreditation, f) for f in fields - {"departements"}}
    current["departements"] = list(accreditation.departements.all())
    merged = {**current, **changes}
    merged["exploitation_forms"] = sorted(set(merged["exploitation_forms"]))
    merged["publics"] = sorted(set(merged["publics"]))
    merged["languages"] = sorted({lang.lower() for lang in merged["languages"]})
    merged["departements"] = list(merged["departements"])
    _validate_accreditation(**{k: v for k, v in merged.items() if k != "secure_relocation"})
    for field, value in merged.items():
        if field != "departements":
            setattr(accreditation, field, value)
    save_by(accreditation, actor=actor)
    accreditation.departements.set(merged["departements"])
    return accreditation


# --- accounts and memberships -----------------------------------------------------


def _sync_groups(
    user: User, agency: Agency | None, role: str | None = None, children_trained: bool = False
) -> None:
    """Keep the user in exactly the group of their agency, in the desk's group
    while their role is the coordination desk's, and in their identification
    unit's children group while trained for children (the groups their grants
    come by)."""
    desk = desk_group()
    keep = set()
    if agency is not None:
        keep.add(agency.group_id)
        if role == Membership.Role.COORDINATOR:
            keep.add(desk.pk)
        if role == Membership.Role.DECISION_MAKER and children_trained:
            keep.add(children_group(agency.pk).pk)
    stale = user.groups.filter(
        Q(agency__isnull=False) | Q(pk=desk.pk) | Q(name__regex=r"^agency:[0-9]+:children$")
    ).exclude(pk__in=keep)
    user.groups.remove(*stale)
    user.groups.add(*keep)


@transaction.atomic
def membership_set(
    *,
    actor: User | None,
    user: User,
    agency: Agency,
    role: str,
    children_trained: bool | None = None,
) -> Membership:
    """Give the user this agency and role (creating or moving their one
    membership). ``children_trained`` (identification units) is kept as it was
    when None."""
    allowed = Membership.ROLES_BY_KIND.get(agency.kind, ())
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Invalid membership."), fields={"role": [_("Unknown role.")]})
    if role not in allowed:
        raise ValidationFailed(
            _("Invalid membership."),
            fields={"role": [_("This role does not exist in this kind of agency.")]},
        )
    membership = Membership.objects.select_for_update().filter(user=user).first()
    ended: str | None = None
    if membership is None:
        membership = Membership(user=user)
    elif membership.agency_id != agency.pk:
        ended = signals.MOVED
    elif membership.role != role:
        ended = signals.ROLE_CHANGED
    if children_trained is not None:
        membership.children_trained = children_trained
    if agency.kind != Agency.Kind.IDENTIFICATION_UNIT:
        membership.children_trained = False
    membership.agency = agency
    membership.agency_kind = agency.kind
    membership.role = role
    save_by(membership, actor=actor)
    _sync_groups(user, agency, role, membership.children_trained)
    is_staff = role == Membership.Role.ADMIN
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        save_by(user, actor=actor, update_fields=["is_staff"])
    if ended:
        signals.access_ended.send(sender=Membership, user=user, reason=ended)
    return membership


@transaction.atomic
def membership_remove(*, actor: User | None, membership: Membership) -> None:
    user = membership.user
    membership._history_user = actor  # the history row of the deletion
    membership.delete()
    _sync_groups(user, None)
    if user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    signals.access_ended.send(sender=Membership, user=user, reason=signals.REMOVED)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    agency: Agency,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(
            _("Invalid user."), fields={"username": [_("This username is taken.")]}
        )
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    membership_set(actor=actor, user=user, agency=agency, role=role)
    return user


# --- API tokens -------------------------------------------------------------------

TOKEN_PREFIX = "mnr_"  # noqa: S105 - a public marker, not a secret


def token_hash(key: str) -> str:
    """SHA-256 of a token. Tokens are 256-bit random secrets: a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_issue(*, user: User, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for an authenticated user; the secret is returned once."""
    now = now or timezone.now()
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=token_hash(key),
        prefix=key[: len(TOKEN_PREFIX) + 6],
        expires_at=now + settings.MNR_API_TOKEN_TTL,
    )
    access_log_write(
        action=AccessAction.TOKEN_CREATE, actor=user, target_type="token", target_id=token.pk
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (a token of someone else is not found)."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound(_("Not found."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        access_log_write(
            action=AccessAction.TOKEN_REVOKE, actor=actor, target_type="token", target_id=token.pk
        )
    return token


# Why every token of a person was revoked (the access log's ``detail.reason``).
TOKENS_REVOKED_REASONS = (
    "password_changed",
    "two_factor_reset",
    *signals.REASONS,  # deactivated, membership moved / removed, role changed
)


@transaction.atomic
def tokens_revoke_all(*, user: User, actor: User | None, reason: str) -> int:
    """Revoke every active token of a person whose reason to be trusted changed
    (password, second factor, account, membership); each revocation is logged,
    under the system user when no one in particular did it. Returns how many."""
    if reason not in TOKENS_REVOKED_REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    now = timezone.now()
    ids = list(
        ApiToken.objects.select_for_update()
        .filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    ApiToken.objects.filter(pk__in=ids).update(revoked_at=now)
    if actor is None:
        actor = system_user()
    for token_id in ids:
        access_log_write(
            action=AccessAction.TOKEN_REVOKE,
            actor=actor,
            target_type="token",
            target_id=token_id,
            detail={"reason": reason, "user": user.pk},
        )
    return len(ids)
