"""Every state change of referrals and routings (docs/domain.md, sections 1–3).

One module per concern, one public surface here for the adapters and tasks:

- ``intake``: the input classes and every rule on them (no writes);
- ``numbering``: the year's reference sequence;
- ``submission``: filing a referral (idempotent; the CRIP notice for a minor);
- ``routing``: choosing an association, escalating, the sweeps;
- ``responses``: accept, decline, expire, withdraw, the desk's assignment.

Who may do each of these is decided by the per-object grants, given, moved and
ended through referral.grants (the author, a routed association, the owning
association, the coordination desk) as the process moves. The apps above
follow through the events of referral.signals, sent in the same transaction:
cases opens the case of an accepted routing, stats refreshes its figures.
"""

from .intake import PersonInput, ReferralInput, person_presumed_minor
from .responses import (
    referral_assign,
    referral_withdraw,
    routing_accept,
    routing_decline,
    routing_expire,
)
from .routing import (
    association_facts,
    open_case_counts,
    overdue_routing_ids,
    referral_facts,
    referral_route,
    stale_submitted_ids,
)
from .submission import IDEMPOTENCY_KEY_MAX, referral_submit

__all__ = [
    "IDEMPOTENCY_KEY_MAX",
    "PersonInput",
    "ReferralInput",
    "association_facts",
    "open_case_counts",
    "overdue_routing_ids",
    "person_presumed_minor",
    "referral_assign",
    "referral_facts",
    "referral_route",
    "referral_submit",
    "referral_withdraw",
    "routing_accept",
    "routing_decline",
    "routing_expire",
    "stale_submitted_ids",
]
