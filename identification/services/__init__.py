"""Every state change of identification files (docs/identification.md).

One module per concern, one public surface here for the adapters, tasks and
receivers:

- ``opening``: the unit that decides a routed referral, its first deadline;
- ``decisions``: the unit decides a stage (and the plan shows the recovery
  period);
- ``association``: the evidence file, asking for the formal decision, asking
  for a reconsideration;
- ``process``: the author's withdrawal, the hourly deadlines.

The unit decides through its grants (identification.grants); the association
works on the file through its own grants on the case, or on the referral
before acceptance. Every move goes through the declared transitions
(common.transitions.transition) with the actor in the history, and each
decision is also a ``Decision`` row. Nothing here reads whether a complaint
was filed: a decision never depends on one (tests/identification).
"""

from .association import (
    TEXT_MAX,
    association_may_work,
    evidence_add,
    evidence_submit,
    reconsideration_request,
)
from .decisions import EXPLANATION_MAX, identification_decide, show_recovery_on_plan
from .opening import identification_open, preliminary_deadline, unit_for
from .process import deadlines, identification_withdraw_for_referral

__all__ = [
    "EXPLANATION_MAX",
    "TEXT_MAX",
    "association_may_work",
    "deadlines",
    "evidence_add",
    "evidence_submit",
    "identification_decide",
    "identification_open",
    "identification_withdraw_for_referral",
    "preliminary_deadline",
    "reconsideration_request",
    "show_recovery_on_plan",
    "unit_for",
]
