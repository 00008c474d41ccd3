"""Events of referrals, received by the apps above (cases, stats): referral/
never imports them.

Like agencies.signals, each is sent inside the transaction of the change, and
its receivers run in that transaction: what they write commits or rolls back
with the change, and an error they raise undoes it.

- ``referral_changed`` (``referral_ids``): referrals, their person or their
  routings changed (submitted, routed, escalated, accepted, withdrawn); stats
  refreshes their statistics rows.
- ``routing_accepted`` (``routing``, ``referral``, ``actor``, ``now``): an
  association accepted a routing; cases opens the referral's case, which
  ``routing_accept`` then returns (``referral.case``).
- ``referral_routed`` (``referral``, ``now``): a referral was routed to an
  association (by the engine or the desk); identification opens its file the
  first time.
- ``referral_withdrawn`` (``referral``, ``actor``, ``now``): the author
  withdrew it; identification withdraws a file still open.
"""

from __future__ import annotations

from django.dispatch import Signal

referral_changed = Signal()
routing_accepted = Signal()
referral_routed = Signal()
referral_withdrawn = Signal()
