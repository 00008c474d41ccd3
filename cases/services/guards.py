"""The checks every case write starts with: the grant to change the case, the
version the writer read, the case being open, and who may be given work on it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from agencies.models import User
from common.errors import InvalidTransition, NotAllowed, PreconditionFailed, ValidationFailed

from .. import grants
from ..models import Case, ProtectionStep

ASSIGNEE_REFUSED = _("Choose a caseworker or manager of your association.")


def ensure_may_change(user: User, case_id: int) -> None:
    """The owning association's caseworkers and managers: those who hold
    change_case on it."""
    if not grants.holds(user, grants.CHANGE, case_id):
        raise NotAllowed(_("Only the association's caseworkers and managers can do this."))


def works_on(user: User | None, case: Case) -> bool:
    """Can this person be assigned the case or own one of its steps? Those who
    hold change_case on it (the owning association's staff, active)."""
    return user is not None and grants.holds(user, grants.CHANGE, case.pk)


def ensure_assignable(user: User | None, case: Case, *, field: str, message: str) -> None:
    """The one rule for the case's assignee and a step's owner: nobody, or
    someone who works on the case; otherwise a field error under ``field``."""
    if user is not None and not works_on(user, case):
        raise ValidationFailed(message, fields={field: [ASSIGNEE_REFUSED]})


def check_version(obj: Case | ProtectionStep, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise PreconditionFailed(_("Someone changed this since you read it: reload and try again."))


def lock_case(case_id: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("referral").get(pk=case_id)


def ensure_open(case: Case) -> None:
    if case.status != Case.Status.OPEN:
        raise InvalidTransition(_("The case is closed: reopen it first."))
