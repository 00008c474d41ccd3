"""Sharing one case, read-only, with a named person of another agency, for a
purpose, on the parts they need, until a date; and ending shares (revoked,
expired, the case moved, the person's access ended). Every share and every
end is in the access log."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership, User
from agencies.selectors import membership_of
from agencies.system import system_user
from audit.models import AccessAction
from audit.services import access_log_write
from common.errors import InvalidTransition, NotAllowed, ValidationFailed
from common.transitions import save_by

from .. import grants
from ..models import Case, CaseShare
from .guards import ensure_may_change, ensure_open, lock_case

# Roles a case is never shared with: analysts read statistics only; platform
# administrators run accounts, not cases; identification decision-makers decide
# on the referral's facts and the evidence file, never on the case itself.
SHARE_REFUSED_ROLES = frozenset(
    {Membership.Role.ANALYST, Membership.Role.ADMIN, Membership.Role.DECISION_MAKER}
)
SHARE_GRANTEE_ROLES = frozenset(Membership.Role.values) - SHARE_REFUSED_ROLES


def _share_errors(
    *,
    case: Case,
    grantee: User | None,
    purpose: str,
    purpose_detail: str,
    parts: list[str],
    until: date | None,
    today: date,
) -> dict[str, list]:
    errors: dict[str, list] = {}
    membership = membership_of(grantee) if grantee is not None else None
    if grantee is None or not grantee.is_active or membership is None:
        errors["grantee"] = [_("No active account has this username.")]
    elif membership.role in SHARE_REFUSED_ROLES:
        errors["grantee"] = [
            _(
                "A case is not shared with analysts, platform administrators or "
                "identification decision-makers."
            )
        ]
    elif grantee.pk == case.referral.referring_user_id:
        errors["grantee"] = [_("The person who filed the referral cannot be given the case.")]
    elif grants.holds(grantee, grants.CHANGE, case.pk):
        errors["grantee"] = [_("This person already works on the case.")]
    elif CaseShare.objects.filter(case=case, grantee=grantee, ended_at__isnull=True).exists():
        errors["grantee"] = [_("The case is already shared with this person: end that first.")]
    if purpose not in CaseShare.Purpose.values:
        errors["purpose"] = [_("Choose a purpose.")]
    if not purpose_detail:
        errors["purpose_detail"] = [_("Say in a few words what the person needs the case for.")]
    elif len(purpose_detail) > 200:
        errors["purpose_detail"] = [_("At most 200 characters.")]
    if not parts:
        errors["parts"] = [_("Choose what the person may read.")]
    elif set(parts) - set(CaseShare.Part.values):
        errors["parts"] = [_("Unknown part.")]
    longest = settings.MNR_SHARE_MAX_DAYS
    if until is None:
        errors["until"] = [_("Give the date the share ends.")]
    elif until < today:
        errors["until"] = [_("The end date cannot be in the past.")]
    elif until > today + timedelta(days=longest):
        errors["until"] = [
            _("A share lasts at most %(days)s days: share again later if needed.")
            % {"days": longest}
        ]
    return errors


@transaction.atomic
def share_create(
    *,
    case_id: int,
    actor: User,
    grantee_username: str,
    purpose: str,
    purpose_detail: str,
    parts: list[str],
    until: date | None,
    now: datetime | None = None,
) -> CaseShare:
    """Share one case read-only with a named person of another agency, for a
    purpose, on the parts it needs, until a date (logged, shown on the case)."""
    now = now or timezone.now()
    case = lock_case(case_id)
    ensure_may_change(actor, case.pk)
    ensure_open(case)
    grantee = (
        User.objects.select_related("membership__agency")
        .filter(username=(grantee_username or "").strip())
        .first()
    )
    purpose_detail = (purpose_detail or "").strip()
    parts = sorted(set(parts or []))
    errors = _share_errors(
        case=case,
        grantee=grantee,
        purpose=purpose,
        purpose_detail=purpose_detail,
        parts=parts,
        until=until,
        today=timezone.localdate(now),
    )
    if errors:
        raise ValidationFailed(_("Invalid share."), fields=errors)
    share = CaseShare(
        case=case,
        grantee=grantee,
        grantee_agency=grantee.membership.agency,
        purpose=purpose,
        purpose_detail=purpose_detail,
        parts=parts,
        until=until,
        shared_by=actor,
        shared_at=now,
    )
    save_by(share, actor=actor)
    grants.grant_share(share=share)
    access_log_write(
        action=AccessAction.CASE_SHARED,
        actor=actor,
        target_type="case",
        target_id=case.reference,
        detail={"share": share.pk, "with": grantee.pk, "parts": parts, "until": str(until)},
    )
    return share


def end_share(share: CaseShare, *, actor: User, reason: str, now: datetime) -> None:
    share.ended_at = now
    share.ended_by = actor
    share.end_reason = reason
    save_by(share, actor=actor)
    grants.end_share(share=share)
    access_log_write(
        action=AccessAction.CASE_SHARE_ENDED,
        actor=actor,
        target_type="case",
        target_id=share.case.reference,
        detail={"share": share.pk, "with": share.grantee_id, "reason": reason},
    )


@transaction.atomic
def share_end(*, share_id: int, actor: User, now: datetime | None = None) -> CaseShare:
    """The owning association ends a share before its date."""
    share = (
        CaseShare.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=share_id)
        .first()
    )
    if share is None:
        raise NotAllowed(_("Only the association's caseworkers and managers can do this."))
    ensure_may_change(actor, share.case_id)
    if share.ended_at is not None:
        raise InvalidTransition(_("This share has already ended."))
    end_share(share, actor=actor, reason=CaseShare.End.REVOKED, now=now or timezone.now())
    return share


def shares_expire(*, today: date | None = None) -> int:
    """Periodic: end every share whose date has passed (reads stop at the date
    anyway; this ends the grants and logs it). Idempotent."""
    today = today or timezone.localdate()
    ids = list(
        CaseShare.objects.filter(ended_at__isnull=True, until__lt=today).values_list(
            "pk", flat=True
        )
    )
    actor = system_user() if ids else None
    ended = 0
    for share_id in ids:
        with transaction.atomic():
            share = (
                CaseShare.objects.select_for_update(of=("self",))
                .select_related("case")
                .filter(pk=share_id, ended_at__isnull=True)
                .first()
            )
            if share is None:
                continue
            end_share(share, actor=actor, reason=CaseShare.End.EXPIRED, now=timezone.now())
            ended += 1
    return ended


def shares_end_for(*, user: User) -> int:
    """The person's access ended (moved, role changed, removed, deactivated):
    every case shared with them stops being shared."""
    now = timezone.now()
    actor = system_user()
    ended = 0
    for share in (
        CaseShare.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(grantee=user, ended_at__isnull=True)
    ):
        end_share(share, actor=actor, reason=CaseShare.End.ACCESS_ENDED, now=now)
        ended += 1
    return ended
