"""Moving a case to another association: asked by the owner, decided by the
association asked; acceptance moves ownership and the grants on the case and
on its referral in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import User
from common.errors import InvalidTransition, NotAllowed, ValidationFailed
from common.transitions import ensure_transition, save_by, transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from referral import grants as referral_grants

from .. import grants, signals
from ..models import Case, CaseShare, ProtectionStep, Transfer, TransferStatus
from ..selectors import transfer_targets
from .guards import ensure_may_change, ensure_open, lock_case, works_on
from .shares import end_share


@transaction.atomic
def transfer_request(*, case_id: int, actor: User, to_association_id: int, reason: str) -> Transfer:
    case = lock_case(case_id)
    ensure_may_change(actor, case.pk)
    ensure_open(case)
    errors: dict[str, list] = {}
    target = transfer_targets(case=case).filter(pk=to_association_id).first()
    if target is None:
        errors["to_association"] = [
            _("The case is already with this association.")
            if to_association_id == case.association_id
            else _("Choose an active accredited association.")
        ]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the case should move.")]
    if errors:
        raise ValidationFailed(_("Invalid transfer."), fields=errors)
    if case.transfers.filter(status=TransferStatus.PENDING).exists():
        raise InvalidTransition(_("A transfer of this case is already pending."))
    transfer = Transfer(
        case=case,
        from_association_id=case.association_id,
        to_association=target,
        reason=reason.strip(),
        requested_by=actor,
        requested_at=timezone.now(),
    )
    save_by(transfer, actor=actor)
    grants.grant_transfer_decision(transfer=transfer)
    outbox_enqueue(
        kind=OutboxMessage.Kind.TRANSFER_REQUESTED, reference=case.reference, agency=target
    )
    return transfer


def _ensure_may_decide(actor: User, transfer: Transfer) -> None:
    if not grants.holds(actor, grants.DECIDE_TRANSFER, transfer.case_id):
        raise NotAllowed(_("Only the association asked to take the case can decide."))


def _lock_transfer(transfer_id: int) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("to_association", "from_association")
        .get(pk=transfer_id)
    )


@transaction.atomic
def transfer_accept(*, transfer_id: int, actor: User) -> Transfer:
    """The receiving association takes the case: ownership, grants on the case and
    on its referral move in this one transaction."""
    transfer = _lock_transfer(transfer_id)
    ensure_transition(transfer, to=TransferStatus.ACCEPTED)
    _ensure_may_decide(actor, transfer)
    case = lock_case(transfer.case_id)
    now = timezone.now()
    transition(transfer, to=TransferStatus.ACCEPTED, actor=actor, decided_by=actor, decided_at=now)
    old, new = transfer.from_association, transfer.to_association
    grants.end_transfer_decision(transfer=transfer)
    grants.move_owner(case=case, old_group_id=old.group_id, new_group_id=new.group_id)
    referral_grants.move_owner(
        referral_id=case.referral_id, old_group_id=old.group_id, new_group_id=new.group_id
    )
    for share in CaseShare.objects.select_for_update().filter(case=case, ended_at__isnull=True):
        end_share(share, actor=actor, reason=CaseShare.End.CASE_MOVED, now=now)
    case.association = new
    case.assigned_to = actor if works_on(actor, case) else None
    case.version += 1
    save_by(case, actor=actor)
    # Owners from the old association no longer work on it; each change is saved
    # one by one so the history keeps who owned the step.
    for step in ProtectionStep.objects.filter(case=case, owner__isnull=False).select_related(
        "owner"
    ):
        if not works_on(step.owner, case):
            step.owner = None
            step.version += 1
            save_by(step, actor=actor)
    signals.case_changed.send(sender=Case, referral_ids=[case.referral_id])
    outbox_enqueue(kind=OutboxMessage.Kind.TRANSFER_ACCEPTED, reference=case.reference, agency=old)
    return transfer


@transaction.atomic
def transfer_reject(*, transfer_id: int, actor: User, reason: str = "") -> Transfer:
    transfer = _lock_transfer(transfer_id)
    ensure_transition(transfer, to=TransferStatus.REJECTED)
    _ensure_may_decide(actor, transfer)
    transition(
        transfer,
        to=TransferStatus.REJECTED,
        actor=actor,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_reason=(reason or "").strip(),
    )
    grants.end_transfer_decision(transfer=transfer)
    outbox_enqueue(
        kind=OutboxMessage.Kind.TRANSFER_REJECTED,
        reference=transfer.case.reference,
        agency=transfer.from_association,
    )
    return transfer
