"""Every state change of cases, protection steps, notes, transfers and shares
(docs/domain.md, sections 4–7).

One module per concern, one public surface here for the adapters and tasks:

- ``guards``: the checks every write starts with (grant, version, open case,
  who may be given work on it);
- ``lifecycle``: opening with the first plan, assignment, closure, reopening;
- ``steps``: the protection plan, notes, the daily overdue reminder;
- ``transfers``: asking another association to take a case, its decision;
- ``shares``: sharing a case for a purpose, and ending shares.

Who may do each of these is decided by the per-object grants (cases.grants):
change_case for the owning association's work, decide_transfer for the
association a transfer is asked of; a transfer moves the grants on the case and
on its referral in one transaction; a share gives one named person read grants
on the parts it shares. Writes that take ``expected_version`` refuse a stale
version with PreconditionFailed (HTTP 412) before changing anything. Statistics
follow through the events of cases.signals, sent in the same transaction.
"""

from .guards import ensure_may_change
from .lifecycle import case_assign, case_close, case_open, case_reopen, plan_facts
from .shares import (
    SHARE_GRANTEE_ROLES,
    share_create,
    share_end,
    shares_end_for,
    shares_expire,
)
from .steps import NOTE_MAX, STEP_FIELDS, note_add, overdue_reminders, step_add, step_update
from .transfers import transfer_accept, transfer_reject, transfer_request

__all__ = [
    "NOTE_MAX",
    "SHARE_GRANTEE_ROLES",
    "STEP_FIELDS",
    "case_assign",
    "case_close",
    "case_open",
    "case_reopen",
    "ensure_may_change",
    "note_add",
    "overdue_reminders",
    "plan_facts",
    "share_create",
    "share_end",
    "shares_end_for",
    "shares_expire",
    "step_add",
    "step_update",
    "transfer_accept",
    "transfer_reject",
    "transfer_request",
]
